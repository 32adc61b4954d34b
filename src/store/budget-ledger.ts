/**
 * The privacy-budget ledger (privacy.md G6, G7), accounted per organisation: a noisy measure (named by what it is
 * drawn from, never by who reads it: cohort/release.ts noisyMeasureId) costs its epsilon once for the
 * organisation, which is what each person is exposed to across all tools, and the organisation's yearly limit
 * (if set) bounds that total; each consumer that reads it is recorded with its share (the epsilon of the
 * measures it has read this calendar year, UTC), and a consumer's share is what its policy's yearly budget
 * limits. A charge past either limit is refused; a measure the consumer already read is not charged again (its
 * noise is sticky, so it returns the same answer). An append-only file, fsync'd before a charge counts, so a
 * restart loses nothing. Ledgers written before organisation accounting replay with each consumer's releases
 * counted as distinct ones (an overcount, never an undercount).
 */
import { createHash } from 'node:crypto';
import { AppendOnlyFile } from './append-only-file.js';
import { parseLedgerEntry, type LedgerEntry } from './records.js';
import type { BudgetLimits, BudgetStore, Charge, MeasureCharge } from './store.js';

type Entry = Omit<LedgerEntry, 'at'>;

/** The ledger's id of a release in a year: sha256(year, release). */
export function ledgerReleaseId(release: string, year: number): string {
  return createHash('sha256').update(`${year}\u0000${release}`).digest('hex');
}

export class BudgetLedger implements BudgetStore {
  private readonly spentBy = new Map<string, number>();
  /** Noisy measures (or, in older ledgers, releases) each consumer has read: `${consumer}\0${ledger id}`. */
  private readonly shares = new Set<string>();
  /** Per year: ledger id -> epsilon (each measure counted once for the organisation). */
  private readonly releases = new Map<number, Map<string, number>>();
  /** Per year: the sum of `releases`' epsilons (read on every charge, so kept rather than summed). */
  private readonly organisationTotals = new Map<number, number>();

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

  async organisationSpent(year = new Date().getUTCFullYear()): Promise<number> {
    return this.organisationSpentSync(year);
  }

  private spentSync(consumer: string, year: number): number {
    return this.spentBy.get(`${consumer}\u0000${year}`) ?? 0;
  }

  private organisationSpentSync(year: number): number {
    return this.organisationTotals.get(year) ?? 0;
  }

  /** Records `consumer`'s share of `release` unless it has it already; refuses past `limit` (its share). */
  charge(consumer: string, release: string, epsilon: number, limit: number, now = new Date()): Promise<Charge> {
    return this.chargeMeasures(consumer, [{ id: release, epsilon }], { consumer: limit }, now);
  }

  chargeMeasures(consumer: string, measures: readonly MeasureCharge[], limits: BudgetLimits, now = new Date()): Promise<Charge> {
    return this.file.serially(async (append): Promise<Charge> => {
      const year = now.getUTCFullYear();
      const spent = this.spentSync(consumer, year);
      const organisationSpent = this.organisationSpentSync(year);
      const paid = this.releases.get(year);
      const fresh = new Map<string, number>();
      for (const m of measures) {
        const id = ledgerReleaseId(m.id, year);
        if (!this.shares.has(`${consumer}\u0000${id}`)) fresh.set(id, Math.max(fresh.get(id) ?? 0, m.epsilon));
      }
      if (fresh.size === 0) return { ok: true, charged: false, spent, organisationSpent };
      let share = 0;
      let organisation = 0;
      for (const [id, epsilon] of fresh) {
        share += epsilon;
        if (paid?.has(id) !== true) organisation += epsilon;
      }
      if (spent + share > limits.consumer + 1e-9) return { ok: false, spent, limit: limits.consumer, organisationSpent, refusedBy: 'consumer' };
      if (limits.organisation !== undefined && organisation > 0 && organisationSpent + organisation > limits.organisation + 1e-9) {
        return { ok: false, spent, limit: limits.organisation, organisationSpent, refusedBy: 'organisation' };
      }
      const entries: Entry[] = [...fresh].map(([release, epsilon]) => ({ consumer, year, release, epsilon }));
      // One write, one fsync: a crash mid-write keeps whole lines only (the torn tail is cut off on replay), an overcount at worst.
      await append(entries.map((entry) => JSON.stringify({ ...entry, at: now.toISOString() })).join('\n'));
      for (const entry of entries) this.record(entry);
      return { ok: true, charged: true, spent: spent + share, organisationSpent: organisationSpent + organisation };
    });
  }

  close(): Promise<void> {
    return this.file.close();
  }

  private record(entry: Entry): void {
    const key = `${entry.consumer}\u0000${entry.year}`;
    this.spentBy.set(key, (this.spentBy.get(key) ?? 0) + entry.epsilon);
    this.shares.add(`${entry.consumer}\u0000${entry.release}`);
    let year = this.releases.get(entry.year);
    if (year === undefined) this.releases.set(entry.year, (year = new Map()));
    const before = year.get(entry.release) ?? 0;
    if (entry.epsilon > before) {
      year.set(entry.release, entry.epsilon);
      this.organisationTotals.set(entry.year, (this.organisationTotals.get(entry.year) ?? 0) + entry.epsilon - before);
    }
  }
}
