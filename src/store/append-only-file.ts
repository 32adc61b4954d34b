/**
 * An append-only line file: replayed whole when opened, appended one line at a time, each fsync'd before the
 * append resolves, appends serialised, held under an exclusive lock (one process per file). What the budget ledger and the score history stand on (the operations
 * issue puts both behind its Store interface).
 */
import { mkdir, open, readFile, rename, truncate, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { lockFile, type FileLock } from './file-lock.js';

export class AppendOnlyFile {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private handle: FileHandle,
    private readonly lock: FileLock,
    /** The path, for messages that name file:line. */
    readonly path: string,
    /** The complete (newline-terminated) lines found when the file was opened; line n is `lines[n - 1]`. */
    readonly lines: readonly string[],
    /** Whether an unterminated tail (a write torn by a crash, never acknowledged) was found and cut off. */
    readonly tornTail: boolean,
  ) {}

  /** Locks (`StoreLockedError` when another process holds the file), reads and opens the file for appending. */
  static async open(file: string): Promise<AppendOnlyFile> {
    await mkdir(dirname(file), { recursive: true });
    const lock = await lockFile(file);
    try {
      return await AppendOnlyFile.openLocked(file, lock);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  private static async openLocked(file: string, lock: FileLock): Promise<AppendOnlyFile> {
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    // Only an unterminated tail can be a torn write (each append is one line and its newline, fsync'd before it
    // counts). It is cut off here, so the next append starts a line of its own instead of gluing onto it.
    const end = text.lastIndexOf('\n') + 1;
    const tornTail = end < text.length;
    if (tornTail) await truncate(file, Buffer.byteLength(text.slice(0, end)));
    const lines = text.slice(0, end).split('\n').slice(0, -1);
    return new AppendOnlyFile(await open(file, 'a', 0o600), lock, file, lines, tornTail);
  }

  /**
   * Runs `step` after every earlier one; `append` inside it writes a line and fsyncs it; `rewrite` replaces the
   * whole file with the given lines (a compaction: written beside it, fsync'd, renamed over it, so a crash leaves
   * the old file or the new one, never half of one). The step decides (from state it keeps) whether to write at
   * all, so decisions and writes never interleave.
   */
  serially<T>(step: (append: (line: string) => Promise<void>, rewrite: (lines: readonly string[]) => Promise<void>) => Promise<T>): Promise<T> {
    const run = this.queue.then(() =>
      step(
        async (line) => {
          await this.handle.write(`${line}\n`);
          await this.handle.sync();
        },
        async (lines) => {
          const temporary = `${this.path}.compacting`;
          const out = await open(temporary, 'w', 0o600);
          try {
            await out.write(lines.map((line) => `${line}\n`).join(''));
            await out.sync();
          } finally {
            await out.close();
          }
          await rename(temporary, this.path);
          await this.handle.close();
          this.handle = await open(this.path, 'a', 0o600);
        },
      ),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.handle.close();
    await this.lock.release();
  }
}
