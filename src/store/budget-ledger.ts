/**
 * The privacy-budget ledger (privacy.md G6, G7): each fresh noisy release charges epsilon to its consumer for
 * the calendar year (UTC); a release past the yearly budget is refused; a repeat of a release already paid for
 * is not charged again (its noise is sticky, so it returns the same answer). An append-only file, fsync'd
 * before a charge counts, so a restart loses nothing. The operations issue moves this behind its Store.
 */
import { createHash } from 'node:crypto';
import { AppendOnlyFile } from './append-only-file.js';
import { parseLedgerEntry, type LedgerEntry } from './records.js';
import type { BudgetStore, Charge } from './store.js';

type Entry = Omit<LedgerEntry, 'at'>;

export class BudgetLedger implements BudgetStore {
  private readonly spentBy = new Map<string, number>();
  private readonly releases = new Set<string>();

  private constructor(private readonly file: AppendOnlyFile) {}

  /**
   * Opens (or creates) the ledger file and replays it. An unterminated tail (a crash mid-write, never
   * acknowledged, so never charged) is cut off; any other line that is not a valid entry refuses the ledger with
   * `StoreCorruptError` naming file:line, rather than guess what was spent.
   */
  static async open(path: string): Promise<BudgetLedger> {
    const file = await AppendOnlyFile.open(path);
    const ledger = new BudgetLedger(file);
    try {
      file.lines.forEach((line, i) => {
        if (line.trim() === '') return;
        ledger.record(parseLedgerEntry(line, `${path}:${i + 1}`));
      });
    } catch (error) {
      await file.close();
      throw error;
    }
    return ledger;
  }

  async spent(consumer: string, year = new Date().getUTCFullYear()): Promise<number> {
    return this.spentSync(consumer, year);
  }

  private spentSync(consumer: string, year: number): number {
    return this.spentBy.get(`${consumer}\u0000${year}`) ?? 0;
  }

  /** Charges `epsilon` for `release` unless it was paid for already; refuses past `limit`. */
  charge(consumer: string, release: string, epsilon: number, limit: number, now = new Date()): Promise<Charge> {
    return this.file.serially(async (append): Promise<Charge> => {
      const year = now.getUTCFullYear();
      const releaseId = createHash('sha256').update(`${consumer}\u0000${year}\u0000${release}`).digest('hex');
      const spent = this.spentSync(consumer, year);
      if (this.releases.has(releaseId)) return { ok: true, charged: false, spent };
      if (spent + epsilon > limit + 1e-9) return { ok: false, spent, limit };
      const entry: Entry = { consumer, year, release: releaseId, epsilon };
      await append(JSON.stringify({ ...entry, at: now.toISOString() }));
      this.record(entry);
      return { ok: true, charged: true, spent: spent + epsilon };
    });
  }

  close(): Promise<void> {
    return this.file.close();
  }

  private record(entry: Entry): void {
    const key = `${entry.consumer}\u0000${entry.year}`;
    this.spentBy.set(key, (this.spentBy.get(key) ?? 0) + entry.epsilon);
    this.releases.add(entry.release);
  }
}
