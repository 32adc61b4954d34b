/**
 * Cohort releases for a report call: the snapshot joined to the directory, aggregated and protected over the
 * policy's whole declared table by the one release function (cohort/release.ts), so every request for the same
 * report and period sees the same suppression pattern (G3); the release of each epoch is made once and served
 * unchanged to every consumer and surface (the report URL and /cohorts) until Graph's next refresh, or the next
 * week (release-book.ts).
 */
import type { Period } from '../catalogue/catalogue.js';
import type { ReportCall } from '../catalogue/odata.js';
import { ConcealedNamesError, Directory } from './directory.js';
import { TablesMade } from './tables-made.js';
import type { CohortRow } from './render.js';
import { organisationVerdictOf, PeriodsRefreshing, protectCohortTable, releaseSlot, settingsDigest, snapshotRefreshDate, suppressesAlike, type OrganisationVerdict, type ProtectedRelease, type RefreshPatterns, type ReleaseCadence } from './release.js';
import { ReleaseBook, requireNoise, storedMeasures, type BookedRelease, type BudgetState, type NoiseSettings, type ReleaseCodec } from './release-book.js';
import { StoreCorruptError, type StoredRelease } from '../store/records.js';
import { aggregateCsvReport, usesDirectory, withoutDirectory, type CohortPlan } from './report-users.js';
import { directoryForData, readAlongside, type DirectoryLookup, type LeasedSnapshot, type SnapshotSource } from './sources.js';
import type { SuppressionCounts } from './suppress.js';

export { NoisyReleaseRefused, type NoiseSettings } from './release-book.js';

/** What a consumer's policy grants for one cohort report (policy/decide.ts cohortGrantFor builds it from a decision). */
export interface CohortGrant {
  /** The policy's name (the audit log's); releases are shared by every policy with the same settings. */
  readonly policyName: string;
  /** The compiled cohort rule, with the policy's k and k_c. */
  readonly plan: CohortPlan;
  /** The policy's yearly privacy budget (epsilon), if it sets one; noisy plans need it. */
  readonly epsilonPerYear?: number;
  /** How often a fresh release is made (default daily: each Graph refresh). */
  readonly cadence?: ReleaseCadence;
  /**
   * The organisation's table of the report and window (policy/decide.ts jointCohortPlan: every policy's
   * dimensions, the largest k and k_c) that this release is suppressed within; without it, the plan's own.
   */
  readonly joint?: CohortPlan;
}

/** A release as served to one consumer. */
export interface CohortRelease {
  readonly plan: CohortPlan;
  readonly refreshDate: string | null;
  readonly counts: SuppressionCounts;
  /** The released rows of the declared dimensions (or of `only`), the same for every consumer of the release. */
  rows(only?: readonly string[]): CohortRow[];
  readonly snapshot: 'hit' | 'fetched';
  /** The consumer's budget is spent: this is the last release it was served, never recomputed. */
  readonly stale: boolean;
  /** Noisy releases: whether this request was charged, and the consumer's share spent this year. */
  readonly budget?: BudgetState;
}

const NO_DIRECTORY = new Directory([]);

/** What the book keeps of a cohort release: what it served (its plan is the grant's: the slot names its settings). */
type KeptRelease = BookedRelease & Pick<ProtectedRelease, 'refreshDate' | 'counts' | 'rows'>;

/** Cohort releases in the Store: the released rows and counts, exactly as served. */
const COHORT_CODEC: ReleaseCodec<KeptRelease> = {
  store: (release) => ({
    id: release.id, slot: release.slot.slot, epoch: release.slot.epoch, epsilon: release.epsilon, measures: release.measures.map((m) => ({ ...m })), kind: 'cohort',
    // The stored schema (store/records.ts) is CohortRow's shape; its arrays are read-only here.
    body: { refreshDate: release.refreshDate, counts: { ...release.counts }, rows: release.rows() as StoredCohortRows },
  }),
  revive(stored) {
    if (stored.kind !== 'cohort') throw new StoreCorruptError(`release ${stored.id}`, `is a ${stored.kind} release where a cohort release was kept`);
    const rows: readonly CohortRow[] = stored.body.rows;
    return {
      id: stored.id, slot: { slot: stored.slot, epoch: stored.epoch }, epsilon: stored.epsilon, measures: storedMeasures(stored), refreshDate: stored.body.refreshDate, counts: stored.body.counts,
      rows: (only) => (only === undefined ? [...rows] : rows.filter((row) => only.includes(row.dimension))),
    };
  },
};

type StoredCohortRows = Extract<StoredRelease, { kind: 'cohort' }>['body']['rows'];

export class CohortReleases {
  /** Protected releases per (snapshot, directory, plan): an unchanged pair is never aggregated twice. */
  private readonly computed = new WeakMap<LeasedSnapshot, WeakMap<Directory, Map<string, Promise<ProtectedRelease>>>>();
  private readonly book: ReleaseBook<KeptRelease>;

  constructor(
    private readonly snapshots: SnapshotSource,
    private readonly directory: DirectoryLookup,
    private readonly noise: NoiseSettings = {},
    /** The tables each refresh's releases were made within, shared with the org score (tables-made.ts). */
    private readonly tablesMade = new TablesMade(),
  ) {
    this.book = new ReleaseBook(noise, COHORT_CODEC);
  }

  async release(call: ReportCall, grant: CohortGrant, policyVersion: string, consumer: string): Promise<CohortRelease> {
    try {
      return await this.releaseOf(call, grant, policyVersion, consumer, false);
    } catch (error) {
      // The snapshot in hand is of an older refresh than another period's it is released with: fetched again, once.
      if (error instanceof PeriodsRefreshing && error.stale === 'own') return this.releaseOf(call, grant, policyVersion, consumer, true);
      throw error;
    }
  }

  private async releaseOf(call: ReportCall, grant: CohortGrant, policyVersion: string, consumer: string, fresh: boolean): Promise<CohortRelease> {
    const { plan } = grant;
    const key = plan.noise === undefined ? undefined : requireNoise(this.noise, grant.epsilonPerYear).key;
    // Cohorts by organisation or yes/no columns need no directory, and so work with concealed names too; the
    // organisation's table then drops the dimensions no one can be given.
    let directory = NO_DIRECTORY;
    let joint = grant.joint;
    // Read while the report downloads (sources.ts readAlongside).
    const directoryRead = usesDirectory(plan) || (joint !== undefined && usesDirectory(joint)) ? readAlongside(this.directory) : undefined;
    let concealed = false;
    const hitsBefore = this.snapshots.stats.hits;
    const snapshot = await this.snapshots.lease(call, 'csv', fresh ? { fetchedAfter: Date.now() } : {});
    const fromCache = this.snapshots.stats.hits > hitsBefore;
    try {
      if (directoryRead !== undefined) {
        try {
          directory = await directoryRead;
        } catch (error) {
          if (usesDirectory(plan) || !(error instanceof ConcealedNamesError)) throw error;
          joint = withoutDirectory(joint!);
          concealed = true;
        }
      }
      if (joint !== grant.joint) grant = { ...grant, ...(joint !== undefined ? { joint } : {}) };
      const cadence = grant.cadence ?? 'daily';
      const window = call.period ?? call.date ?? '-';
      // Which epoch the data held belongs to, read off its first row: a release already made for it is served
      // as made, whatever changed since (the directory), and nothing is aggregated again.
      const refreshDate = await snapshotRefreshDate(snapshot.csv(), plan.report);
      // Within the tables this refresh's releases were already made within, whatever the policies now say.
      const live = grant.joint ?? organisationTableOf(plan);
      const made = this.tablesMade.tableFor(plan.report, call, refreshDate, live);
      if (made !== live) {
        grant = { ...grant, joint: concealed ? withoutDirectory(made) : made };
        // A table made by the directory where the live set's needs none: the refresh's directory (pinned when the
        // table was made) is read now.
        if (!concealed && directory === NO_DIRECTORY && usesDirectory(grant.joint!)) {
          try {
            directory = await directoryForData(this.directory, refreshDate);
          } catch (error) {
            if (!(error instanceof ConcealedNamesError)) throw error;
            grant = { ...grant, joint: withoutDirectory(grant.joint!) };
          }
        }
      }
      const at = releaseSlot([plan.report.name, window], settingsDigest(plan, grant.joint), refreshDate, cadence);
      // Every release of this refresh's data is joined to one directory, whichever surface or policy asks first.
      if (directory !== NO_DIRECTORY) directory = await directoryForData(this.directory, refreshDate);
      const make = () => {
        let byDirectory = this.computed.get(snapshot);
        if (byDirectory === undefined) this.computed.set(snapshot, (byDirectory = new WeakMap()));
        let byPlan = byDirectory.get(directory);
        if (byPlan === undefined) byDirectory.set(directory, (byPlan = new Map()));
        const computedKey = `${policyVersion} ${grant.policyName} ${cadence}`;
        let pending = byPlan.get(computedKey);
        if (pending === undefined) {
          const plans = byPlan;
          // Within the patterns every replica's releases of this refresh made (tables-made.ts TablesMade.shared).
          pending = this.tablesMade.shared([{ source: plan.report.name, refreshDate }], () => this.compute(call, snapshot, { made: this.tablesMade, refreshDate, window }, grant, directory, cadence, key));
          pending.catch(() => plans.delete(computedKey));
          plans.set(computedKey, pending);
        }
        return pending;
      };
      const served = await this.book.serve(at, make, consumer, grant.epsilonPerYear);
      const { release } = served;
      return {
        plan, refreshDate: release.refreshDate, counts: release.counts, rows: (only) => release.rows(only),
        snapshot: fromCache ? 'hit' : 'fetched', stale: served.stale, ...(served.budget !== undefined ? { budget: served.budget } : {}),
      };
    } finally {
      snapshot.release();
    }
  }

  private async compute(call: ReportCall, snapshot: LeasedSnapshot, patterns: RefreshPatterns, grant: CohortGrant, directory: Directory, cadence: ReleaseCadence, noiseKey: Buffer | undefined): Promise<ProtectedRelease> {
    const { plan, joint } = grant;
    const aggregate = await aggregateCsvReport(snapshot.csv(), plan, directory);
    // The setting can change after reports were generated (Graph applies it at the next refresh): a report
    // whose rows match no one in a non-empty directory cannot be joined, whatever the setting says now.
    if (aggregate.rows > 0 && aggregate.matched === 0 && directory.size > 0 && usesDirectory(plan)) throw new ConcealedNamesError('noRowMatched');
    return protectCohortTable(aggregate, plan, patterns.window, cadence, noiseKey, await this.verdictOf(call, snapshot, directory, plan, joint, patterns), patterns);
  }

  /** The organisation's verdict a plan's release takes its suppression from; undefined where the plan alone suppresses alike. */
  private verdictOf(call: ReportCall, snapshot: LeasedSnapshot, directory: Directory, plan: CohortPlan, joint: CohortPlan | undefined, patterns: RefreshPatterns): Promise<OrganisationVerdict> | undefined {
    if (joint === undefined || suppressesAlike(plan, joint)) return undefined;
    // A table grouped with the report's other periods reads their snapshots too (release.ts PeriodSources).
    const periods = call.period === undefined ? undefined : { period: call.period, lease: (period: Period, fresh?: boolean) => this.snapshots.lease({ ...call, period }, 'csv', fresh === true ? { fetchedAfter: Date.now() } : {}) };
    return organisationVerdictOf(snapshot, () => snapshot.csv(), joint, directory, { patterns, ...(periods === undefined ? {} : { periods }) });
  }
}

/** A consumer's plan as the organisation's table it is suppressed by alone: its dimensions, k and k_c (no sums, no noise: jointCohortPlan's form). */
function organisationTableOf({ noise: _noise, ...plan }: CohortPlan): CohortPlan {
  return { ...plan, metrics: [] };
}
