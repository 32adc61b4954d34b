/**
 * The released form of a suppressed cohort table, in CSV (BOM, CRLF, as Graph writes CSV) and JSON. A
 * suppressed cohort has exactly the fields of a released one, with empty values and `Suppressed` set, whether
 * it is empty or small (G8); hidden marginals are not output. Rows come in declared-dimension order, then key
 * order, so equivalent requests give identical bytes (G13).
 */
import { UTF8_BOM, csvLine } from '../catalogue/csv.js';
import { ORGANIZATION } from './aggregate.js';
import { stickyNoise, type NoiseContext } from './noise.js';
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

/**
 * The per-cell scale of each measure so that one release of the table costs `epsilon` (basic composition):
 * a person is in one cell of each sub-organisation dimension and adds to every measure, so epsilon is split
 * over dimensions x measures; a count moves by at most 1 per person, a sum by at most its clip (G12).
 */
export function noiseScales(plan: CohortPlan, epsilon: number): { users: number; active: number; sums: number[] } {
  const dimensions = Math.max(1, plan.dimensions.filter((d) => d.name !== ORGANIZATION).length);
  const measures = 2 + plan.metrics.length;
  const perUnit = (dimensions * measures) / epsilon;
  return { users: perUnit, active: perUnit, sums: plan.metrics.map((m) => perUnit * m.clip) };
}

/**
 * The released rows of the declared dimensions (all, or the ones named in `only`). With `noise`, released
 * sub-organisation cells carry sticky noise (organisation totals are the tenant's own figures and stay exact);
 * noisy values are kept non-negative and active users at most users.
 */
export function cohortRows(table: CohortTable, plan: CohortPlan, refreshDate: string | null, only?: readonly string[], noise?: NoiseContext): CohortRow[] {
  const order = plan.dimensions.map((d) => d.name).filter((name) => only === undefined || only.includes(name));
  const scales = noise !== undefined && plan.noise !== undefined ? noiseScales(plan, plan.noise.epsilon) : undefined;
  return order.flatMap((dimension) =>
    table.cells
      .filter((cell) => cell.dimension === dimension && cell.state !== 'hidden')
      .map((cell) => {
        const suppressed = cell.state !== 'released';
        const noisy = scales !== undefined && dimension !== ORGANIZATION && !suppressed;
        const jitter = (measure: string, value: number, scale: number) => (noisy ? Math.max(0, value + stickyNoise(noise!, dimension, cell.key, measure, scale)) : value);
        const users = jitter('users', cell.users, scales?.users ?? 0);
        const active = Math.min(users, jitter('active', cell.active, scales?.active ?? 0));
        const sums = table.metrics.map((name, i) => jitter(name, cell.sums[i]!, scales?.sums[i] ?? 0));
        const metrics = Object.fromEntries(
          table.metrics.map((name, i) => [name, suppressed ? { sum: null, mean: null } : { sum: sums[i]!, mean: users > 0 ? round2(sums[i]! / users) : null }]),
        );
        return {
          reportRefreshDate: refreshDate,
          dimension,
          cohort: cell.key,
          users: suppressed ? null : users,
          activeUsers: suppressed ? null : active,
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
