/**
 * The released form of a suppressed cohort table, in CSV (BOM, CRLF, as Graph writes CSV) and JSON. A
 * suppressed cohort has exactly the fields of a released one, with empty values and `Suppressed` set, whether
 * it is empty or small (G8); hidden marginals are not output. Rows come in declared-dimension order, then key
 * order, so equivalent requests give identical bytes (G13).
 */
import { UTF8_BOM, csvLine } from '../graph/csv.js';
import type { CohortPlan } from './report-users.js';
import type { CohortTable } from './table.js';

export interface CohortRow {
  readonly reportRefreshDate: string | null;
  readonly dimension: string;
  readonly cohort: readonly string[];
  readonly users: number | null;
  readonly activeUsers: number | null;
  readonly metrics: Readonly<Record<string, { readonly sum: number | null; readonly mean: number | null }>>;
  readonly suppressed: boolean;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** The released rows of the declared dimensions (all, or the ones named in `only`). */
export function cohortRows(table: CohortTable, plan: CohortPlan, refreshDate: string | null, only?: readonly string[]): CohortRow[] {
  const order = plan.dimensions.map((d) => d.name).filter((name) => only === undefined || only.includes(name));
  return order.flatMap((dimension) =>
    table.cells
      .filter((cell) => cell.dimension === dimension && cell.state !== 'hidden')
      .map((cell) => {
        const suppressed = cell.state !== 'released';
        const metrics = Object.fromEntries(
          table.metrics.map((name, i) => [name, suppressed ? { sum: null, mean: null } : { sum: cell.sums[i]!, mean: round2(cell.sums[i]! / cell.users) }]),
        );
        return {
          reportRefreshDate: refreshDate,
          dimension,
          cohort: cell.key,
          users: suppressed ? null : cell.users,
          activeUsers: suppressed ? null : cell.active,
          metrics,
          suppressed,
        };
      }),
  );
}

export function cohortCsv(rows: readonly CohortRow[], plan: CohortPlan): string {
  const header = ['Report Refresh Date', 'Dimension', 'Cohort', 'Users', 'Active Users', ...plan.metrics.flatMap((m) => [`${m.column.header} Sum`, `${m.column.header} Mean`]), 'Suppressed'];
  let out = UTF8_BOM + csvLine(header, '\r\n');
  const text = (v: number | null) => (v === null ? '' : String(v));
  for (const row of rows) {
    out += csvLine([
      row.reportRefreshDate ?? '', row.dimension, row.cohort.join(' | '), text(row.users), text(row.activeUsers),
      ...plan.metrics.flatMap((m) => [text(row.metrics[m.column.json]!.sum), text(row.metrics[m.column.json]!.mean)]),
      row.suppressed ? 'True' : 'False',
    ], '\r\n');
  }
  return out;
}
