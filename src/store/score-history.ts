/**
 * The org score's history: one point per (report refresh date, period), computed scores only (never rows),
 * kept in an append-only, fsync'd file so the trend survives restarts; the last six months are served. Graph
 * only offers dates within about 30 days, so this history is the only way to see further back.
 */
import { AppendOnlyFile } from './append-only-file.js';
import { parseScorePoint } from './records.js';
import { historySince, type ScoreHistoryStore, type ScorePoint } from './store.js';

export class ScoreHistory implements ScoreHistoryStore {
  private readonly points = new Map<string, ScorePoint>();

  private constructor(private readonly file: AppendOnlyFile) {}

  /**
   * Opens (or creates) the history file and replays it. A torn, unterminated tail is cut off (the point is
   * recomputed at the next request); any other invalid line refuses it with `StoreCorruptError` (file:line).
   */
  static async open(path: string): Promise<ScoreHistory> {
    const file = await AppendOnlyFile.open(path);
    const history = new ScoreHistory(file);
    try {
      file.lines.forEach((line, i) => {
        if (line.trim() === '') return;
        const point = parseScorePoint(line, `${path}:${i + 1}`);
        history.points.set(`${point.refreshDate} ${point.period}`, point);
      });
    } catch (error) {
      await file.close();
      throw error;
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
