/**
 * Cohort releases for a report call: the snapshot joined to the directory, aggregated and suppressed over the
 * policy's whole declared table (so every request for the same report and period sees the same suppression
 * pattern, G3), computed once per (snapshot, directory, policy) and shared by the report URL and /cohorts.
 */
import { cohortRows, type CohortRow } from '../cohort/render.js';
import { aggregateCsvReport, planCohorts, usesDirectory, type CohortPlan } from '../cohort/report-users.js';
import { suppressCohorts, type SuppressionCounts } from '../cohort/suppress.js';
import { Directory } from '../cohort/directory.js';
import { ConcealedNamesError, type DirectorySource } from '../graph/directory-source.js';
import type { ReportCall } from '../catalogue/odata.js';
import type { ReportSnapshot, SnapshotCache } from '../graph/snapshots.js';
import type { ReportDecision } from '../policy/decide.js';
import { DEFAULT_K } from '../policy/schema.js';
import type { NoiseContext } from '../cohort/noise.js';
import type { BudgetStore } from '../store/store.js';
import { ProxyRefusal } from './errors.js';

export interface CohortRelease {
  readonly plan: CohortPlan;
  readonly refreshDate: string | null;
  readonly counts: SuppressionCounts;
  /** The released rows of the declared dimensions (or of `only`), with this consumer's noise if any. */
  rows(only?: readonly string[]): CohortRow[];
  readonly snapshot: 'hit' | 'fetched';
  /** Noisy releases: whether this request was charged, and what the consumer has spent this year. */
  readonly budget?: { readonly charged: boolean; readonly spent: number; readonly epsilonPerYear: number };
}

interface Computed {
  readonly plan: CohortPlan;
  readonly refreshDate: string | null;
  readonly counts: SuppressionCounts;
  rows(only?: readonly string[], noise?: NoiseContext): CohortRow[];
}

/** Where noise keys and the budget ledger come from; without them a noisy policy is refused (fail closed). */
export interface NoiseSettings {
  readonly key?: Buffer;
  readonly ledger?: BudgetStore;
}

const NO_DIRECTORY = new Directory([]);

export class CohortReleases {
  private readonly computed = new WeakMap<ReportSnapshot, WeakMap<Directory, Map<string, Promise<Computed>>>>();

  constructor(
    private readonly snapshots: SnapshotCache,
    private readonly directory: DirectorySource,
    private readonly noise: NoiseSettings = {},
  ) {}

  async release(call: ReportCall, decision: Extract<ReportDecision, { kind: 'cohort' }>, policyVersion: string, consumer: string): Promise<CohortRelease> {
    const { policy } = decision.policy;
    const plan = planCohorts(call.report, decision.rule, policy.k ?? DEFAULT_K.k, policy.kC ?? DEFAULT_K.kC);
    // Cohorts by organisation or yes/no columns need no directory, and so work with concealed names too.
    const directory = usesDirectory(plan) ? await this.directory.current() : NO_DIRECTORY;
    const hitsBefore = this.snapshots.stats.hits;
    const snapshot = await this.snapshots.lease(call, 'csv');
    const fromCache = this.snapshots.stats.hits > hitsBefore;
    try {
      let byDirectory = this.computed.get(snapshot);
      if (byDirectory === undefined) this.computed.set(snapshot, (byDirectory = new WeakMap()));
      let byPolicy = byDirectory.get(directory);
      if (byPolicy === undefined) byDirectory.set(directory, (byPolicy = new Map()));
      const key = `${policyVersion} ${policy.name}`;
      let pending = byPolicy.get(key);
      if (pending === undefined) {
        const policies = byPolicy;
        pending = this.compute(snapshot, plan, directory);
        pending.catch(() => policies.delete(key));
        policies.set(key, pending);
      }
      const computed = await pending;
      if (plan.noise === undefined) return { ...computed, rows: (only) => computed.rows(only), snapshot: fromCache ? 'hit' : 'fetched' };
      const { key: noiseKey, ledger } = this.noise;
      const budget = policy.privacyBudget;
      if (noiseKey === undefined || ledger === undefined || budget === undefined) {
        throw new ProxyRefusal(503, 'ServiceUnavailable', 'This policy releases noisy cohorts, but the proxy has no noise key or budget ledger configured.');
      }
      const window = call.period ?? call.date ?? '-';
      const context: NoiseContext = { key: noiseKey, consumer, report: call.report.name, window, snapshotDate: computed.refreshDate ?? '-' };
      const charge = await ledger.charge(consumer, [call.report.name, window, context.snapshotDate, policy.name].join('\u0000'), plan.noise.epsilon, budget.epsilonPerYear);
      if (!charge.ok) {
        throw new ProxyRefusal(403, 'PrivacyBudgetExhausted', `This consumer's privacy budget for the year (epsilon ${charge.limit}) is spent. Releases already paid for stay available; new ones resume on 1 January (UTC).`);
      }
      return {
        ...computed,
        rows: (only) => computed.rows(only, context),
        snapshot: fromCache ? 'hit' : 'fetched',
        budget: { charged: charge.charged, spent: charge.spent, epsilonPerYear: budget.epsilonPerYear },
      };
    } finally {
      snapshot.release();
    }
  }

  private async compute(snapshot: ReportSnapshot, plan: CohortPlan, directory: Directory): Promise<Computed> {
    const aggregate = await aggregateCsvReport(snapshot.csv(), plan, directory);
    // The setting can change after reports were generated (Graph applies it at the next refresh): a report
    // whose rows match no one in a non-empty directory cannot be joined, whatever the setting says now.
    if (aggregate.rows > 0 && aggregate.matched === 0 && directory.size > 0 && usesDirectory(plan)) throw new ConcealedNamesError('noRowMatched');
    const counts = suppressCohorts(aggregate.table, { k: plan.k, kC: plan.kC });
    return { plan, refreshDate: aggregate.refreshDate, counts, rows: (only, noise) => cohortRows(aggregate.table, plan, aggregate.refreshDate, only, noise) };
  }
}
