/**
 * The org score's history: one point per (report refresh date, period), computed scores only (never rows),
 * kept in an append-only, fsync'd file so the trend survives restarts; the last six months are served. Graph
 * only offers dates within about 30 days, so this history is the only way to see further back.
 */
import { AppendOnlyFile } from './append-only-file.js';
import { historySince, type ScoreHistoryStore } from './store.js';

export interface ScorePoint {
  readonly refreshDate: string;
  readonly period: string;
  readonly percentage: number | null;
  readonly points: number | null;
  readonly max: number;
  /** Category id -> points (null: suppressed). */
  readonly categories: Readonly<Record<string, number | null>>;
}

export class ScoreHistory implements ScoreHistoryStore {
  private readonly points = new Map<string, ScorePoint>();

  private constructor(private readonly file: AppendOnlyFile) {}

  static async open(path: string): Promise<ScoreHistory> {
    const file = await AppendOnlyFile.open(path);
    const history = new ScoreHistory(file);
    for (const line of file.lines) {
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
    return this.file.serially(async (append) => {
      const known = this.points.get(key);
      if (known !== undefined && JSON.stringify(known) === JSON.stringify(point)) return;
      await append(JSON.stringify(point));
      this.points.set(key, point);
    });
  }

  /** The last six months of one period's points, oldest first. */
  async series(period: string, now = new Date()): Promise<ScorePoint[]> {
    const since = historySince(now);
    return [...this.points.values()].filter((p) => p.period === period && p.refreshDate >= since).sort((a, b) => a.refreshDate.localeCompare(b.refreshDate));
  }

  close(): Promise<void> {
    return this.file.close();
  }
}
