/**
 * An append-only line file: replayed whole when opened, appended one line at a time, each fsync'd before the
 * append resolves, appends serialised. What the budget ledger and the score history stand on (the operations
 * issue puts both behind its Store interface).
 */
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

export class AppendOnlyFile {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly handle: FileHandle,
    /** The lines found when the file was opened (the last one may be torn by a crash mid-write). */
    readonly lines: readonly string[],
  ) {}

  static async open(file: string): Promise<AppendOnlyFile> {
    await mkdir(dirname(file), { recursive: true });
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return new AppendOnlyFile(await open(file, 'a', 0o600), text.split('\n'));
  }

  /**
   * Runs `step` after every earlier one; `append` inside it writes a line and fsyncs it. The step decides
   * (from state it keeps) whether to append at all, so decisions and writes never interleave.
   */
  serially<T>(step: (append: (line: string) => Promise<void>) => Promise<T>): Promise<T> {
    const run = this.queue.then(() =>
      step(async (line) => {
        await this.handle.write(`${line}\n`);
        await this.handle.sync();
      }),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.handle.close();
  }
}
