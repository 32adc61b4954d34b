/**
 * The released form of a suppressed cohort table, in CSV (BOM, CRLF, as Graph writes CSV) and JSON. A
 * suppressed cohort has exactly the fields of a released one, with empty values and `Suppressed` set, whether
 * it is empty or small (G8); hidden marginals are not output. Rows come in declared-dimension order, then key
 * order, so equivalent requests give identical bytes (G13).
 *
 * With noise, every noisy figure comes with its 95% margin: a `<Measure> Margin95` column after it in CSV, a
 * `<measure>Margin95` property after it in JSON (`usersMargin95`, `activeUsersMargin95`, and per metric
 * `sumMargin95` and `meanMargin95`); 0 for the exact organisation total, empty or null when suppressed. A rule
 * without noise releases exact figures and has no margin fields.
 */
import { UTF8_BOM, csvLine } from '../catalogue/csv.js';
import { InternalInvariantError } from '../errors/catalogue.js';
import { cohortNoise, noisyMean } from './accuracy.js';
import { ORGANIZATION } from './aggregate.js';
import { stickyNoise, type NoiseContext } from './noise.js';
import type { CohortPlan } from './report-users.js';
import type { CohortTable } from './table.js';

export interface CohortMetric {
  readonly sum: number | null;
  readonly sumMargin95?: number | null;
  readonly mean: number | null;
  readonly meanMargin95?: number | null;
}

export interface CohortRow {
  readonly reportRefreshDate: string | null;
  readonly dimension: string;
  readonly cohort: readonly string[];
  readonly users: number | null;
  readonly usersMargin95?: number | null;
  readonly activeUsers: number | null;
  readonly activeUsersMargin95?: number | null;
  readonly metrics: Readonly<Record<string, CohortMetric>>;
  readonly suppressed: boolean;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * The per-cell scale of each measure when one release of the table costs `epsilon` (see accuracy.ts): the same
 * as the plan's own scales when the policy states epsilon.
 */
export function noiseScales(plan: CohortPlan, epsilon: number): { users: number; active: number; sums: number[] } {
  const { scales } = cohortNoise({ epsilon }, plan.dimensions.filter((d) => d.name !== ORGANIZATION).length, plan.metrics.map((m) => m.clip));
  return { users: scales.users, active: scales.active, sums: [...scales.sums] };
}

/** The noise of a metric's sum is named with its clip: a sum clipped elsewhere is another figure, drawn apart. */
const sumMeasure = (metric: CohortPlan['metrics'][number]) => `${metric.column.json} clip ${metric.clip}`;

/**
 * The noisy measures of a noisy plan's sub-organisation cells: name, per-cell scale and sensitivity (what one
 * person moves the figure by at most: 1 for counts, the clip for sums). Each costs sensitivity / scale per
 * dimension (cohort/release.ts cohortMeasureCharges).
 */
export function cohortMeasures(plan: CohortPlan): { measure: string; scale: number; sensitivity: number }[] {
  if (plan.noise === undefined) return [];
  const { scales } = plan.noise;
  return [
    { measure: 'users', scale: scales.users, sensitivity: 1 },
    { measure: 'active', scale: scales.active, sensitivity: 1 },
    ...plan.metrics.map((metric, i) => ({ measure: sumMeasure(metric), scale: scales.sums[i]!, sensitivity: metric.clip })),
  ];
}

/**
 * The released rows of the declared dimensions (all, or the ones named in `only`). With a noisy plan, released
 * sub-organisation cells carry sticky noise (`noise` binds it to the release; required then) and their 95%
 * margins; organisation totals are the tenant's own figures, exact (margin 0), protected by suppression.
 * Post-processing, stated: a noisy count or sum below 0 is released as 0 (moving it towards the truth, never
 * away); active users are not capped at users (both are noisy, each within its margin); a mean is the noisy sum
 * over the noisy users, kept within [0, clip].
 */
export function cohortRows(table: CohortTable, plan: CohortPlan, refreshDate: string | null, only?: readonly string[], noise?: NoiseContext): CohortRow[] {
  if (plan.noise !== undefined && noise === undefined) throw new InternalInvariantError('a noisy cohort plan needs the noise context of its release');
  const order = plan.dimensions.map((d) => d.name).filter((name) => only === undefined || only.includes(name));
  const planNoise = plan.noise;
  return order.flatMap((dimension) =>
    table.cells
      .filter((cell) => cell.dimension === dimension && cell.state !== 'hidden')
      .map((cell): CohortRow => {
        const suppressed = cell.state !== 'released';
        const base = { reportRefreshDate: refreshDate, dimension, cohort: cell.key };
        if (planNoise === undefined) {
          const metrics = Object.fromEntries(table.metrics.map((name, i) => [name, suppressed ? { sum: null, mean: null } : { sum: cell.sums[i]!, mean: cell.users > 0 ? round2(cell.sums[i]! / cell.users) : null }]));
          return { ...base, users: suppressed ? null : cell.users, activeUsers: suppressed ? null : cell.active, metrics, suppressed };
        }
        if (suppressed) {
          const metrics = Object.fromEntries(table.metrics.map((name) => [name, { sum: null, sumMargin95: null, mean: null, meanMargin95: null }]));
          return { ...base, users: null, usersMargin95: null, activeUsers: null, activeUsersMargin95: null, metrics, suppressed };
        }
        const exact = dimension === ORGANIZATION;
        const noisy = (measure: string, value: number, scale: number) => (exact ? value : Math.max(0, value + stickyNoise(noise!, dimension, cell.key, measure, scale)));
        const { scales, margins95 } = planNoise;
        const users = noisy('users', cell.users, scales.users);
        const activeUsers = noisy('active', cell.active, scales.active);
        const metrics = Object.fromEntries(
          table.metrics.map((name, i) => {
            const sum = noisy(sumMeasure(plan.metrics[i]!), cell.sums[i]!, scales.sums[i]!);
            if (exact) return [name, { sum, sumMargin95: 0, mean: users > 0 ? round2(sum / users) : null, meanMargin95: users > 0 ? 0 : null }];
            const mean = noisyMean(sum, users, { sum: scales.sums[i]!, users: scales.users }, plan.metrics[i]!.clip);
            return [name, { sum, sumMargin95: margins95.sums[i]!, mean: mean.mean, meanMargin95: mean.margin95 }];
          }),
        );
        return {
          ...base, users, usersMargin95: exact ? 0 : margins95.users, activeUsers, activeUsersMargin95: exact ? 0 : margins95.active, metrics, suppressed,
        };
      }),
  );
}

/** The CSV header of a plan's cohort rows (margin columns only with noise). */
export function cohortCsvHeader(plan: CohortPlan): string[] {
  const margin = (header: string) => (plan.noise !== undefined ? [header, `${header} Margin95`] : [header]);
  return [
    'Report Refresh Date', 'Dimension', 'Cohort', ...margin('Users'), ...margin('Active Users'),
    ...plan.metrics.flatMap((m) => [...margin(`${m.column.header} Sum`), ...margin(`${m.column.header} Mean`)]),
    'Suppressed',
  ];
}

export function cohortCsv(rows: readonly CohortRow[], plan: CohortPlan): string {
  let out = UTF8_BOM + csvLine(cohortCsvHeader(plan), '\r\n');
  const text = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v));
  const noisy = plan.noise !== undefined;
  const pair = (value: number | null, margin: number | null | undefined) => (noisy ? [text(value), text(margin)] : [text(value)]);
  for (const row of rows) {
    out += csvLine([
      row.reportRefreshDate ?? '', row.dimension, row.cohort.join(' | '), ...pair(row.users, row.usersMargin95), ...pair(row.activeUsers, row.activeUsersMargin95),
      ...plan.metrics.flatMap((m) => {
        const metric = row.metrics[m.column.json]!;
        return [...pair(metric.sum, metric.sumMargin95), ...pair(metric.mean, metric.meanMargin95)];
      }),
      row.suppressed ? 'True' : 'False',
    ], '\r\n');
  }
  return out;
}
