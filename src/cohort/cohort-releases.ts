/**
 * Cohort releases for a report call: the snapshot joined to the directory, aggregated and suppressed over the
 * policy's whole declared table (so every request for the same report and period sees the same suppression
 * pattern, G3), computed once per (snapshot, directory, policy) and shared by the report URL and /cohorts.
 */
import type { ReportCall } from '../catalogue/odata.js';
import type { BudgetStore } from '../store/store.js';
import { ConcealedNamesError, Directory } from './directory.js';
import type { NoiseContext } from './noise.js';
import { cohortRows, type CohortRow } from './render.js';
import { aggregateCsvReport, usesDirectory, type CohortPlan } from './report-users.js';
import type { DirectoryLookup, LeasedSnapshot, SnapshotSource } from './sources.js';
import { suppressCohorts, type SuppressionCounts } from './suppress.js';

/** What a consumer's policy grants for one cohort report (policy/decide.ts cohortGrantFor builds it from a decision). */
export interface CohortGrant {
  /** The policy's name: part of the computed release's key and of what a noisy release is charged for. */
  readonly policyName: string;
  /** The compiled cohort rule, with the policy's k and k_c. */
  readonly plan: CohortPlan;
  /** The policy's yearly privacy budget (epsilon), if it sets one; noisy plans need it. */
  readonly epsilonPerYear?: number;
}

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

/**
 * A noisy release refused (fail closed): the proxy has no noise key or budget ledger (`NoiseNotConfigured`), or
 * the consumer's privacy budget for the year is spent (`PrivacyBudgetExhausted`, privacy.md G6, G7).
 */
export class NoisyReleaseRefused extends Error {
  constructor(readonly code: 'NoiseNotConfigured' | 'PrivacyBudgetExhausted', message: string) {
    super(message);
    this.name = 'NoisyReleaseRefused';
  }
}

const NO_DIRECTORY = new Directory([]);

export class CohortReleases {
  private readonly computed = new WeakMap<LeasedSnapshot, WeakMap<Directory, Map<string, Promise<Computed>>>>();

  constructor(
    private readonly snapshots: SnapshotSource,
    private readonly directory: DirectoryLookup,
    private readonly noise: NoiseSettings = {},
  ) {}

  async release(call: ReportCall, grant: CohortGrant, policyVersion: string, consumer: string): Promise<CohortRelease> {
    const { plan } = grant;
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
      const key = `${policyVersion} ${grant.policyName}`;
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
      const epsilonPerYear = grant.epsilonPerYear;
      if (noiseKey === undefined || ledger === undefined || epsilonPerYear === undefined) {
        throw new NoisyReleaseRefused('NoiseNotConfigured', 'This policy releases noisy cohorts, but the proxy has no noise key or budget ledger configured.');
      }
      const window = call.period ?? call.date ?? '-';
      const context: NoiseContext = { key: noiseKey, consumer, report: call.report.name, window, snapshotDate: computed.refreshDate ?? '-' };
      const charge = await ledger.charge(consumer, [call.report.name, window, context.snapshotDate, grant.policyName].join('\u0000'), plan.noise.epsilon, epsilonPerYear);
      if (!charge.ok) {
        throw new NoisyReleaseRefused('PrivacyBudgetExhausted', `This consumer's privacy budget for the year (epsilon ${charge.limit}) is spent. Releases already paid for stay available; new ones resume on 1 January (UTC).`);
      }
      return {
        ...computed,
        rows: (only) => computed.rows(only, context),
        snapshot: fromCache ? 'hit' : 'fetched',
        budget: { charged: charge.charged, spent: charge.spent, epsilonPerYear },
      };
    } finally {
      snapshot.release();
    }
  }

  private async compute(snapshot: LeasedSnapshot, plan: CohortPlan, directory: Directory): Promise<Computed> {
    const aggregate = await aggregateCsvReport(snapshot.csv(), plan, directory);
    // The setting can change after reports were generated (Graph applies it at the next refresh): a report
    // whose rows match no one in a non-empty directory cannot be joined, whatever the setting says now.
    if (aggregate.rows > 0 && aggregate.matched === 0 && directory.size > 0 && usesDirectory(plan)) throw new ConcealedNamesError('noRowMatched');
    const counts = suppressCohorts(aggregate.table, { k: plan.k, kC: plan.kC });
    return { plan, refreshDate: aggregate.refreshDate, counts, rows: (only, noise) => cohortRows(aggregate.table, plan, aggregate.refreshDate, only, noise) };
  }
}
