/**
 * The org score's history: one point per (report refresh date, period), computed scores only (never rows),
 * kept in an append-only, fsync'd file so the trend survives restarts; the last six months are served. Graph
 * only offers dates within about 30 days, so this history is the only way to see further back.
 */
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface ScorePoint {
  readonly refreshDate: string;
  readonly period: string;
  readonly percentage: number | null;
  readonly points: number | null;
  readonly max: number;
  /** Category id -> points (null: suppressed). */
  readonly categories: Readonly<Record<string, number | null>>;
}

const KEEP_DAYS = 183;

export class ScoreHistory {
  private readonly points = new Map<string, ScorePoint>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly handle: FileHandle) {}

  static async open(file: string): Promise<ScoreHistory> {
    await mkdir(dirname(file), { recursive: true });
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const history = new ScoreHistory(await open(file, 'a', 0o600));
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const point = JSON.parse(line) as ScorePoint;
        history.points.set(`${point.refreshDate} ${point.period}`, point);
      } catch {
        // A torn line from a crash mid-write: the point is recomputed at the next request.
      }
    }
    return history;
  }

  /** Records a point unless the same one is already there (repeat requests do not grow the file). */
  record(point: ScorePoint): Promise<void> {
    const key = `${point.refreshDate} ${point.period}`;
    const run = this.queue.then(async () => {
      const known = this.points.get(key);
      if (known !== undefined && JSON.stringify(known) === JSON.stringify(point)) return;
      await this.handle.write(`${JSON.stringify(point)}\n`);
      await this.handle.sync();
      this.points.set(key, point);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The last six months of one period's points, oldest first. */
  series(period: string, now = new Date()): ScorePoint[] {
    const since = new Date(now.getTime() - KEEP_DAYS * 86_400_000).toISOString().slice(0, 10);
    return [...this.points.values()].filter((p) => p.period === period && p.refreshDate >= since).sort((a, b) => a.refreshDate.localeCompare(b.refreshDate));
  }

  async close(): Promise<void> {
    await this.queue;
    await this.handle.close();
  }
}
