/**
 * `policy preview`: what a policy set would release, measured by running the proxy's own sanitiser and cohort
 * suppression over sample data (the simulated tenant). Per consumer and report: rows in, out and withheld;
 * cohort cells released and suppressed by reason with the 95% noise margins; and for row releases the
 * re-identification risk over all released columns (prosecutor model, every column but the pseudonym a
 * quasi-identifier).
 */
import { Directory } from '../cohort/directory.js';
import { noiseScales } from '../cohort/render.js';
import { aggregateCsvReport, planCohorts } from '../cohort/report-users.js';
import { suppressCohorts } from '../cohort/suppress.js';
import { findReport, type Period } from '../graph/catalogue.js';
import { rowsPlanFor } from './decide.js';
import type { PolicySet } from './load.js';
import { samplePeriod } from './release-lint.js';
import { releasedTable, releaseRisk, type ReleaseRisk } from './release-risk.js';
import type { SampleReports } from './sample-reports.js';
import { DEFAULT_K } from './schema.js';
import { testKeyring } from './test-cases.js';

export interface RowsPreview {
  readonly kind: 'rows';
  readonly report: string;
  readonly period: Period;
  readonly rowsIn: number;
  readonly rowsOut: number;
  /** Rows withheld (rare quasi-identifier combination, or a team/group of fewer than k). */
  readonly rowsSuppressed: number;
  /** Cells emptied in counts reports. */
  readonly cellsSuppressed: number;
  readonly k: number;
  /** Over every released column except pseudonyms; absent for counts reports (rows are days, not people). */
  readonly risk?: ReleaseRisk;
}

export interface CohortPreview {
  readonly kind: 'cohort';
  readonly report: string;
  readonly period: Period;
  readonly rowsIn: number;
  readonly cells: number;
  readonly released: number;
  /** Suppressed cells by reason: below k (primary), a small active or inactive count (complement), and to protect those (secondary). */
  readonly suppressed: { readonly primary: number; readonly complement: number; readonly secondary: number };
  readonly lpVerified: boolean;
  /** Half-width of the 95% interval of the noise on each sub-organisation figure (absent without noise). */
  readonly noiseMargin95?: { readonly users: number; readonly activeUsers: number; readonly sums: Readonly<Record<string, number>> };
}

export interface ConsumerPreview {
  readonly consumer: string;
  readonly policy: string;
  readonly reports: (RowsPreview | CohortPreview)[];
}

export interface PolicyPreview {
  readonly version: string;
  readonly sample: { readonly users: number; readonly refreshDate: string };
  readonly consumers: ConsumerPreview[];
}

/**
 * The 95% margin of discrete-Laplace noise of `scale` (P(x) proportional to exp(-|x|/scale)): the smallest
 * integer m with P(|x| <= m) >= 0.95, i.e. 2 p^(m+1) / (1 + p) <= 0.05 with p = exp(-1/scale).
 */
export function discreteLaplaceMargin95(scale: number): number {
  if (scale <= 0) return 0;
  const p = Math.exp(-1 / scale);
  return Math.max(0, Math.ceil(Math.log(0.025 * (1 + p)) / Math.log(p)) - 1);
}

/** Runs every report each consumer may receive through the proxy's engine over the sample. */
export async function previewPolicySet(set: PolicySet, sample: SampleReports): Promise<PolicyPreview> {
  const keyring = testKeyring(set);
  const directory = new Directory(sample.directory());
  const consumers: ConsumerPreview[] = [];
  for (const loaded of set.policies) {
    const { policy } = loaded;
    for (const consumer of policy.consumers) {
      const reports: (RowsPreview | CohortPreview)[] = [];
      for (const [name, rule] of Object.entries(policy.reports)) {
        const spec = findReport(name);
        if (spec === undefined || rule === 'deny') continue;
        const period = samplePeriod(policy, spec);
        const csv = sample.csv(spec, period);
        if ('rows' in rule) {
          const plan = rowsPlanFor({ kind: 'rows', policy: loaded, rule }, spec, consumer, keyring);
          const table = await releasedTable(csv, plan);
          const { stats } = table;
          reports.push({
            kind: 'rows', report: spec.name, period, rowsIn: stats.rowsIn, rowsOut: stats.rowsOut, rowsSuppressed: stats.rowsSuppressed,
            cellsSuppressed: stats.cellsSuppressed, k: plan.k, ...(spec.shape !== 'counts' ? { risk: releaseRisk(table, plan.k) } : {}),
          });
        } else {
          const plan = planCohorts(spec, rule, policy.k ?? DEFAULT_K.k, policy.kC ?? DEFAULT_K.kC);
          const aggregate = await aggregateCsvReport((async function* () { yield csv; })(), plan, directory);
          const counts = suppressCohorts(aggregate.table, { k: plan.k, kC: plan.kC });
          const cells = aggregate.table.cells.filter((c) => c.state !== 'hidden');
          const scales = plan.noise !== undefined ? noiseScales(plan, plan.noise.epsilon) : undefined;
          reports.push({
            kind: 'cohort', report: spec.name, period, rowsIn: aggregate.rows, cells: cells.length,
            released: cells.filter((c) => c.state === 'released').length,
            suppressed: { primary: counts.primary, complement: counts.complement, secondary: counts.secondary },
            lpVerified: counts.lpVerified,
            ...(scales !== undefined ? {
              noiseMargin95: {
                users: discreteLaplaceMargin95(scales.users), activeUsers: discreteLaplaceMargin95(scales.active),
                sums: Object.fromEntries(plan.metrics.map((m, i) => [m.column.header, discreteLaplaceMargin95(scales.sums[i]!)])),
              },
            } : {}),
          });
        }
      }
      consumers.push({ consumer, policy: policy.name, reports });
    }
  }
  consumers.sort((a, b) => a.consumer.localeCompare(b.consumer));
  return { version: set.version, sample: { users: sample.tenant.size, refreshDate: sample.tenant.refreshDate }, consumers };
}
