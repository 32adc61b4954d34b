/**
 * Re-identification risk of a row release, measured on the rows as released: equivalence classes over the
 * released columns (every one except the pseudonym, which is unique by design), the share of rows that are
 * unique or in classes smaller than k, and the prosecutor risk as ARX and sdcMicro report it (an attacker who
 * knows their target is in the release: risk 1/|class| for a row in that class).
 */
import { sanitizeCsvReport } from '../sanitize/csv-report.js';
import { CsvRowReader } from '../sanitize/csv-rows.js';
import type { RowsPlan } from '../sanitize/plan.js';
import { emptyStats, type SanitizeStats } from '../sanitize/stats.js';

/** A sanitised release as a table: the released header and rows (cells as released CSV text). */
export interface ReleasedTable {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Released columns that are pseudonyms (excluded from the quasi-identifiers of the risk view). */
  readonly pseudonyms: readonly string[];
  /** What the sanitiser counted: rows in, out, suppressed by k and by small counts. */
  readonly stats: SanitizeStats;
}

/** Sanitises a CSV report with a plan exactly as the proxy does and reads the output back as a table. */
export async function releasedTable(csv: Buffer, plan: RowsPlan): Promise<ReleasedTable> {
  const stats = emptyStats();
  const lines: string[][] = [];
  const reader = new CsvRowReader((fields) => lines.push(fields));
  for await (const piece of sanitizeCsvReport(async function* () { yield csv; }, plan, stats)) reader.push(piece);
  reader.end();
  const [header = [], ...rows] = lines;
  return { header, rows, pseudonyms: plan.released.filter((r) => r.action === 'pseudonymize').map((r) => r.column.header), stats };
}

/** Sizes of the equivalence classes of `rows` on the columns at `positions`: one size per row, in row order. */
export function classSizes(rows: readonly (readonly string[])[], positions: readonly number[]): number[] {
  const keyOf = (row: readonly string[]) => JSON.stringify(positions.map((p) => row[p] ?? ''));
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(keyOf(row), (counts.get(keyOf(row)) ?? 0) + 1);
  return rows.map((row) => counts.get(keyOf(row))!);
}

/** Prosecutor-model risk of a release on a set of quasi-identifiers. Shares are fractions 0..1 of released rows. */
export interface ReleaseRisk {
  readonly quasiIdentifiers: readonly string[];
  readonly rows: number;
  readonly equivalenceClasses: number;
  /** Rows alone in their class (re-identified with certainty by anyone who knows those values). */
  readonly uniqueRows: number;
  readonly uniqueShare: number;
  /** Rows in classes smaller than k. */
  readonly belowKRows: number;
  readonly belowKShare: number;
  /** The highest prosecutor risk of any row: 1 / the smallest class (0 for an empty release). */
  readonly highestProsecutorRisk: number;
  /** The mean over rows of 1/|class| = classes / rows (0 for an empty release). */
  readonly averageProsecutorRisk: number;
}

/** Risk over the named columns of a table (default: every released column except the pseudonyms). */
export function releaseRisk(table: ReleasedTable, k: number, columns: readonly string[] = table.header.filter((h) => !table.pseudonyms.includes(h))): ReleaseRisk {
  const positions = columns.map((c) => table.header.indexOf(c)).filter((p) => p >= 0);
  const counts = new Map<string, number>();
  for (const row of table.rows) {
    const key = JSON.stringify(positions.map((p) => row[p] ?? ''));
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return riskOfClasses(counts.values(), k, columns);
}

/** Risk from the sizes of the equivalence classes (one size per class). */
export function riskOfClasses(classSizes: Iterable<number>, k: number, columns: readonly string[]): ReleaseRisk {
  let n = 0;
  let classes = 0;
  let unique = 0;
  let belowK = 0;
  let smallest = Number.POSITIVE_INFINITY;
  for (const size of classSizes) {
    n += size;
    classes++;
    if (size === 1) unique++;
    if (size < k) belowK += size;
    smallest = Math.min(smallest, size);
  }
  return {
    quasiIdentifiers: columns,
    rows: n,
    equivalenceClasses: classes,
    uniqueRows: unique,
    uniqueShare: n === 0 ? 0 : unique / n,
    belowKRows: belowK,
    belowKShare: n === 0 ? 0 : belowK / n,
    highestProsecutorRisk: n === 0 ? 0 : 1 / smallest,
    averageProsecutorRisk: n === 0 ? 0 : classes / n,
  };
}

/**
 * Sanitises a report (`open` yields the same bytes each call: a snapshot) as the proxy does and measures the
 * release without keeping it: the sanitiser's counts and the risk over every released column but the
 * pseudonyms. Memory grows with the number of distinct released combinations only.
 */
export async function measureRowRelease(open: () => AsyncIterable<Buffer | string>, plan: RowsPlan): Promise<{ stats: SanitizeStats; risk: ReleaseRisk }> {
  const stats = emptyStats();
  const pseudonyms = new Set(plan.released.filter((r) => r.action === 'pseudonymize').map((r) => r.column.header));
  let positions: number[] | undefined;
  let columns: string[] = [];
  const counts = new Map<string, number>();
  const reader = new CsvRowReader((fields) => {
    if (positions === undefined) {
      columns = fields.filter((h) => !pseudonyms.has(h));
      positions = columns.map((c) => fields.indexOf(c));
      return;
    }
    const key = JSON.stringify(positions.map((p) => fields[p] ?? ''));
    counts.set(key, (counts.get(key) ?? 0) + 1);
  });
  for await (const piece of sanitizeCsvReport(open, plan, stats)) reader.push(piece);
  reader.end();
  return { stats, risk: riskOfClasses(counts.values(), plan.k, columns) };
}

/** A percentage for people: one decimal, '0%' only when nothing at all. */
export function percent(share: number): string {
  return `${share === 0 ? '0' : (Math.round(share * 1000) / 10).toFixed(1)}%`;
}
