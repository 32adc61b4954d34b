/**
 * `policy preview` and `GET /policy/preview`: what a policy set would release, measured by running the proxy's
 * own sanitiser and cohort suppression over data: the simulated tenant, or the snapshots a running proxy holds. Per consumer and report: rows in, out and withheld;
 * cohort cells released and suppressed by reason with the 95% noise margins; and for row releases the
 * re-identification risk over all released columns (prosecutor model, every column but the pseudonym a
 * quasi-identifier).
 */
import type { CohortGrant } from '../cohort/cohort-releases.js';
import type { CohortTable } from '../cohort/table.js';
import { Directory } from '../cohort/directory.js';
import { organisationVerdict, PeriodsRefreshing, protectCohortTable, snapshotRefreshDate, type PeriodSources } from '../cohort/release.js';
import { aggregateCsvReport, usesDirectory } from '../cohort/report-users.js';
import { findReport, type Period, type ReportSpec } from '../catalogue/catalogue.js';
import { cohortGrantFor, rowsPlanFor } from './decide.js';
import type { PolicySet } from './load.js';
import { samplePeriod } from './release-lint.js';
import { measureRowRelease, percent, type ReleaseRisk } from './release-risk.js';
import type { SampleReports } from './sample-reports.js';
import { TEST_NOISE_KEY, testKeyring } from './test-cases.js';

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

/** A report the data source does not hold (the running proxy has no fresh snapshot of it). */
export interface UnavailablePreview {
  readonly kind: 'unavailable';
  readonly report: string;
  readonly period: Period;
  readonly reason: string;
}

export interface ConsumerPreview {
  readonly consumer: string;
  readonly policy: string;
  readonly reports: (RowsPreview | CohortPreview | UnavailablePreview)[];
  /** What the consumer may also read that the preview does not measure (the org score), in plain words. */
  readonly notPreviewed: string[];
}

export interface PolicyPreview {
  readonly version: string;
  /** What was measured: the simulated tenant, or the snapshots a running proxy holds. */
  readonly data: string;
  readonly consumers: ConsumerPreview[];
}

/** A report's bytes as Graph sent them, readable more than once (a sanitiser with quasi-identifiers reads twice). */
export interface HeldReport {
  open(): AsyncIterable<Buffer | string>;
  release(): void;
}

/** Where a preview reads reports and the directory; undefined: not held (the report is listed as unavailable). */
export interface PreviewData {
  readonly description: string;
  report(report: ReportSpec, period: Period): HeldReport | undefined;
  /**
   * The directory a release of data refreshed on `refreshDate` (YYYY-MM-DD; null: an empty report) is joined to:
   * on a running proxy the one pinned for that refresh (cohort/sources.ts DirectoryPins), never the one held now,
   * so a move within the refresh changes no preview (red team, test/redteam/preview-directory-move.test.ts).
   */
  directory(refreshDate: string | null): Promise<Directory | undefined>;
  /**
   * On a running proxy: whether its live release of `report`'s `period` of the refresh `refreshDate` would serve
   * `table` (suppressed by the live set alone) otherwise, within the patterns the refresh's earlier releases made
   * (cohort/tables-made.ts TablesMade.holdsBack): such a report is not measured until Graph's next refresh.
   */
  holdsBack?(report: string, period: Period, refreshDate: string | null, table: CohortTable): Promise<boolean>;
}

/** The simulated tenant as preview data: every report is available. */
export function simulatedData(sample: SampleReports): PreviewData {
  let directory: Directory | undefined;
  return {
    description: `a simulated tenant of ${sample.tenant.size} people (reports refreshed ${sample.tenant.refreshDate})`,
    report(report, period) {
      const bytes = sample.csv(report, period);
      return { open: async function* () { yield bytes; }, release() {} };
    },
    directory: async () => (directory ??= new Directory(sample.directory())),
  };
}

/** The 95% margin of discrete-Laplace noise of a scale (defined with the sampler's accuracy helpers). */
export { discreteLaplaceMargin95 } from '../cohort/accuracy.js';

/** Runs every report each consumer may receive through the proxy's engine over the data. */
export async function previewPolicySet(set: PolicySet, data: PreviewData): Promise<PolicyPreview> {
  const keyring = testKeyring(set);
  const consumers: ConsumerPreview[] = [];
  for (const loaded of set.policies) {
    const { policy } = loaded;
    for (const consumer of policy.consumers) {
      const reports: ConsumerPreview['reports'] = [];
      for (const [name, rule] of Object.entries(policy.reports)) {
        const spec = findReport(name);
        if (spec === undefined || rule === 'deny') continue;
        // Cohorts: every period the policy releases (each has its own pattern, made with the others'); rows: one.
        const allowed = spec.periods.filter((p) => policy.periods.includes(p));
        const periods = 'cohort' in rule && allowed.length > 0 ? allowed : [samplePeriod(policy, spec)];
        for (const period of periods) {
          const held = data.report(spec, period);
          if (held === undefined) {
            reports.push({ kind: 'unavailable', report: spec.name, period, reason: 'no fresh snapshot of this report is held' });
            continue;
          }
          try {
            if ('rows' in rule) {
              const plan = rowsPlanFor({ kind: 'rows', policy: loaded, rule }, spec, consumer, keyring);
              const { stats, risk } = await measureRowRelease(() => held.open(), plan);
              reports.push({
                kind: 'rows', report: spec.name, period, rowsIn: stats.rowsIn, rowsOut: stats.rowsOut, rowsSuppressed: stats.rowsSuppressed,
                cellsSuppressed: stats.cellsSuppressed, k: plan.k, ...(spec.shape !== 'counts' ? { risk } : {}),
              });
            } else {
              const grant = cohortGrantFor({ kind: 'cohort', policy: loaded, rule }, { report: spec, period }, set);
              // The organisation's table holds the plan's dimensions and every other policy's.
              const directory = usesDirectory(grant.joint ?? grant.plan) ? await data.directory(await snapshotRefreshDate(held.open(), spec)) : NO_DIRECTORY;
              if (directory === undefined) {
                reports.push({ kind: 'unavailable', report: spec.name, period, reason: "no release of this refresh was joined to the directory yet, and the preview joins it to the directory its releases are joined to" });
                continue;
              }
              reports.push(await cohortPreview(spec, period, grant, held, directory, data));
            }
          } finally {
            held.release();
          }
        }
      }
      const notPreviewed = policy.permissions.includes('score')
        ? [`the org score (/org-score and the dashboard, for ${policy.periods.join(', ')}): not measured here; its groups are hidden below k_org ${Math.max(policy.kOrg, policy.k)} and with the cohorts it is linked to (policy explain and /disclosure say which)`]
        : [];
      consumers.push({ consumer, policy: policy.name, reports, notPreviewed });
    }
  }
  consumers.sort((a, b) => a.consumer.localeCompare(b.consumer));
  return { version: set.version, data: data.description, consumers };
}

const NO_DIRECTORY = new Directory([]);

/** A period of the report's group that the data does not hold (its cells are made with the previewed one's). */
class PeriodNotHeld extends Error {}

/**
 * One cohort release as the proxy makes it (cohort/release.ts, as `policy test` and `sanitize` do): suppressed
 * within the organisation's table of the report and window (policy/decide.ts jointCohortPlan: every policy's
 * dimensions at the largest k and k_c, the report's other periods, the score's linked categories), so its counts
 * are what the consumer is served on this data. The noise is the public test key's (noise changes no suppression).
 * A running proxy's release held within the refresh's patterns (PreviewData.holdsBack) is not measured.
 */
async function cohortPreview(spec: ReportSpec, period: Period, grant: CohortGrant, held: HeldReport, directory: Directory, data: PreviewData): Promise<CohortPreview | UnavailablePreview> {
  const { plan } = grant;
  const periods: PeriodSources = {
    period,
    lease: async (other) => {
      const report = data.report(spec, other);
      if (report === undefined) throw new PeriodNotHeld(`its ${other} cohorts are one table with ${period} (the periods nest), and no fresh snapshot of ${other} is held`);
      return { csv: () => report.open() as AsyncIterable<Buffer>, release: () => report.release() };
    },
  };
  try {
    const aggregate = await aggregateCsvReport(held.open(), plan, directory);
    const release = protectCohortTable(aggregate, plan, period, grant.cadence ?? 'daily', TEST_NOISE_KEY, await organisationVerdict(() => held.open(), plan, grant.joint, directory, { periods }));
    if ((await data.holdsBack?.(spec.name, period, aggregate.refreshDate, aggregate.table)) === true) {
      return { kind: 'unavailable', report: spec.name, period, reason: "a policy changed within this refresh: until Graph's next refresh the proxy serves it within what its earlier releases hid and showed (policy diff says which)" };
    }
    const cells = aggregate.table.cells.filter((c) => c.state !== 'hidden');
    const margins = plan.noise?.margins95;
    return {
      kind: 'cohort', report: spec.name, period, rowsIn: aggregate.rows, cells: cells.length,
      released: cells.filter((c) => c.state === 'released').length,
      suppressed: { primary: release.counts.primary, complement: release.counts.complement, secondary: release.counts.secondary },
      lpVerified: release.counts.lpVerified,
      ...(margins !== undefined ? {
        noiseMargin95: { users: margins.users, activeUsers: margins.active, sums: Object.fromEntries(plan.metrics.map((m, i) => [m.column.header, margins.sums[i]!])) },
      } : {}),
    };
  } catch (error) {
    if (error instanceof PeriodNotHeld || error instanceof PeriodsRefreshing) return { kind: 'unavailable', report: spec.name, period, reason: error.message };
    throw error;
  }
}

/** The preview as text, one block per consumer (what `policy preview` prints after its heading). */
export function formatPreview(preview: PolicyPreview): string {
  const out: string[] = [];
  for (const c of preview.consumers) {
    out.push('', `${c.consumer} (policy ${c.policy})${c.reports.length === 0 ? ': no report released' : ''}`);
    for (const what of c.notPreviewed) out.push(`  also reads ${what}`);
    for (const r of c.reports) {
      if (r.kind === 'unavailable') {
        out.push(`  ${r.report} ${r.period}: not measured: ${r.reason}`);
      } else if (r.kind === 'rows') {
        out.push(`  ${r.report} ${r.period}: rows ${r.rowsIn} in, ${r.rowsOut} out, ${r.rowsSuppressed} withheld${r.cellsSuppressed > 0 ? `, ${r.cellsSuppressed} cells emptied` : ''}`);
        if (r.risk !== undefined) {
          const x = r.risk;
          out.push(`    risk over ${x.quasiIdentifiers.length} released columns (all but the pseudonym): ${x.equivalenceClasses} equivalence classes; unique ${x.uniqueRows} (${percent(x.uniqueShare)}), in classes below k=${r.k} ${x.belowKRows} (${percent(x.belowKShare)}); prosecutor risk highest ${x.highestProsecutorRisk.toFixed(3)}, average ${x.averageProsecutorRisk.toFixed(3)}`);
        }
      } else {
        out.push(`  ${r.report} ${r.period}: cohorts from ${r.rowsIn} rows: ${r.cells} cells, ${r.released} released; suppressed ${r.suppressed.primary} below k, ${r.suppressed.complement} small complement, ${r.suppressed.secondary} secondary${r.lpVerified ? ' (LP-verified)' : ''}`);
        if (r.noiseMargin95 !== undefined) {
          const sums = Object.entries(r.noiseMargin95.sums).map(([m, v]) => `${m} sum ±${v}`);
          out.push(`    95% noise margin below the organisation: users ±${r.noiseMargin95.users}, active users ±${r.noiseMargin95.activeUsers}${sums.length > 0 ? `, ${sums.join(', ')}` : ''}`);
        }
      }
    }
  }
  return `${out.join('\n')}\n`;
}
