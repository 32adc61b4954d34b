/**
 * The org score service: one score release per (period or date, the source reports' snapshots, the policy's
 * score settings), made by suppressing every directory dimension the policy declares as one table per category
 * (so `by=department` and `by=officeLocation` are cuts of one protected table), with the release's noise on
 * sub-organisation cells when the policy's cohorts are noisy (so no surface shows exactly what another shows
 * noised). Each epoch's release is made once and served unchanged to every consumer until the next (the same
 * release book as cohorts), and the organisation's score is recorded in the history.
 */
import { createHash } from 'node:crypto';
import { directoryForData, readAlongside, type DirectoryLookup, type SnapshotSource, type LeasedSnapshot } from '../cohort/sources.js';
import { ORGANIZATION } from '../cohort/aggregate.js';
import { ConcealedNamesError, Directory, DIRECTORY_ATTRIBUTES, NOT_IN_DIRECTORY, type DirectoryAttribute } from '../cohort/directory.js';
import { LP_LIMIT, measureNoise, PeriodsRefreshing, planDigest, releaseId, releaseSlot, organisationVerdictOf, suppressAsCompanion, tableDigest, type NoisyMeasure, type ReleaseCadence, type ReleaseData, type ReleaseSlot } from '../cohort/release.js';
import { digestWhileReading, usesDirectory, withoutDirectory, type CohortPlan, type KeptReportRows } from '../cohort/report-users.js';
import { ReleaseBook, requireNoise, storedMeasures, type BudgetState, type NoiseSettings, type ReleaseCodec } from '../cohort/release-book.js';
import { InternalInvariantError } from '../errors/catalogue.js';
import { letTheLoopTurn, runSteps } from '../event-loop/turns.js';
import { countsOf, suppressNested, type SuppressionCounts } from '../cohort/suppress.js';
import type { Period } from '../catalogue/catalogue.js';
import { StoreCorruptError, type StoredRelease } from '../store/records.js';
import type { ScoreHistoryStore } from '../store/store.js';
import { SCORE_CATEGORIES } from './categories.js';
import { scoreRows, type ScoreNoise, type ScoreRow } from './org-score.js';
import { ReportFacts, ScoreFacts, SCORE_SOURCE_REPORTS, scoreTableSteps, type CategoryPatterns, type CategoryTable } from './score-facts.js';
import { TablesMade, type PatternAt } from '../cohort/tables-made.js';
import type { ScoreCategory } from './categories.js';

/** Where the service reads reports and the directory (graph/ implements both), and where it records history. */
export interface OrgScoreSources {
  readonly snapshots: SnapshotSource;
  readonly directory: DirectoryLookup;
  readonly history?: ScoreHistoryStore;
  readonly noise?: NoiseSettings;
  /**
   * The tables each refresh's releases were made within, shared with the cohorts' releases
   * (cohort/cohort-releases.ts): the score's table, periods and linked tables stay within them (tables-made.ts).
   */
  readonly tablesMade?: TablesMade;
}

/** The organisation has fewer than k_org people in the score's reports, so no score is released. */
export class OrganizationTooSmallError extends Error {
  readonly code = 'OrganizationTooSmall';
  constructor(readonly kOrg: number) {
    super(`The organisation has fewer than ${kOrg} people in these reports (the policy's k_org), so no score is released.`);
    this.name = 'OrganizationTooSmallError';
  }
}

export type ScoreWindow = { readonly period: Period } | { readonly date: string };

/** What a consumer's policy grants for the score (policy/decide.ts scoreGrantFor builds it). */
export interface ScoreGrant {
  readonly policyName: string;
  /** The directory attributes the policy declares as cohort dimensions: the score's `by`, suppressed as one table. */
  readonly dimensions: readonly DirectoryAttribute[];
  readonly kOrg: number;
  readonly kC: number;
  /** Noise on sub-organisation score cells (the policy's cohorts are noisy), with the epsilon a release costs. */
  readonly noise?: { readonly epsilon: number };
  readonly epsilonPerYear?: number;
  readonly cadence: ReleaseCadence;
  /**
   * The organisation's score table this grant's release is suppressed within (policy/decide.ts scoreGrantFor:
   * every dimension of every policy granted the score, the largest k_org and k_c), so that colluding consumers
   * see parts of one verified table; without it, the grant's own.
   */
  readonly joint?: { readonly dimensions: readonly DirectoryAttribute[]; readonly kOrg: number; readonly kC: number };
  /**
   * The organisation's cohort tables of the window that hold some of the score's categories as companions
   * (policy/decide.ts linkedCohortPlans: Meetings with the Teams cohorts): those categories take the states the
   * cohorts and they were suppressed to as one table, made from the same report snapshot.
   */
  readonly linked?: readonly CohortPlan[];
  /**
   * The standard periods some policy may read the score for, shortest first, where there are several and the
   * window is one of them (policy/decide.ts scoreGrantFor): their category tables nest, so each category not
   * linked to cohorts is suppressed as one table over them (cohort/suppress.ts suppressNested).
   */
  readonly periods?: readonly Period[];
  /** A single day's score: the organisation only, its dimensions withheld (a day nests in the periods). */
  readonly dayOnly?: true;
}

/** A score release: its rows (organisation first, then every dimension's cohorts), suppression counts and date. */
export interface ScoreRelease {
  readonly id: string;
  readonly slot: ReleaseSlot;
  readonly epsilon: number;
  /** Its noisy measures (none when exact): what a consumer reading it is charged for. */
  readonly measures: readonly NoisyMeasure[];
  readonly rows: ScoreRow[];
  readonly counts: SuppressionCounts;
  readonly refreshDate: string | null;
  /** The dimensions of the release (empty: organisation only, when the directory cannot be read). */
  readonly dimensions: readonly DirectoryAttribute[];
}

/** A score release as served to one consumer. */
export interface ScoreResult extends Omit<ScoreRelease, 'id' | 'slot' | 'epsilon' | 'measures'> {
  readonly cached: boolean;
  readonly stale: boolean;
  readonly budget?: BudgetState;
  /**
   * Why the dimensions are withheld where the directory can be read: `directoryChanged`, another report's data of
   * the score was joined to another directory (cohort/sources.ts DirectoryPins.pinnedApart).
   */
  readonly withheld?: 'directoryChanged';
}

/** Identity numbers for snapshot and directory objects, so a cache key can name exactly which ones it used. */
const identities = new WeakMap<object, number>();
let nextIdentity = 0;
const identityOf = (o: object) => identities.get(o) ?? (identities.set(o, ++nextIdentity), nextIdentity);
const MAX_CACHED_SCORES = 32;
/** Snapshot sets whose facts are kept (a window each: D7, D30, D90, D180); ~80 bytes a person each. */
const MAX_CACHED_FACTS = 4;

/**
 * The per-cell noise scale of a score release costing `epsilon` (basic composition): a person is in one cell
 * of each sub-organisation dimension, in every category, and moves its numerator and denominator by 1 each.
 */
export function scoreNoiseScale(dimensions: number, epsilon: number): number {
  return (Math.max(1, dimensions) * SCORE_CATEGORIES.length * 2) / epsilon;
}

export class OrgScores {
  private readonly results = new Map<string, Promise<ScoreRelease>>();
  /** People's facts per snapshot set: each report is read once per snapshot, whatever the dimensions or `by`. */
  private readonly facts = new Map<string, Promise<ScoreFacts>>();
  /** SHA-256 (hex) of the reports each facts were read from: the data a score release's noise is bound to. */
  private readonly factsDigests = new WeakMap<ScoreFacts, string>();
  /** Rows a snapshot's validation pass kept for its organisation cohort table (the Teams report's): the linked verdict reads them, not the CSV. */
  private readonly keptRows = new WeakMap<LeasedSnapshot, KeptReportRows>();
  /** How many times people's facts were read from the reports (one per snapshot set). */
  readonly stats = { factsBuilt: 0 };
  private readonly book: ReleaseBook<ScoreRelease>;

  constructor(private readonly options: OrgScoreSources) {
    this.book = new ReleaseBook(options.noise ?? {}, SCORE_CODEC);
  }

  /**
   * The score release `consumer` is served for `window` under `grant`: every declared dimension when the
   * directory can be read, the organisation alone when it cannot (concealed names). Throws
   * OrganizationTooSmallError, NoisyReleaseRefused, or what reading a report throws.
   */
  async compute(window: ScoreWindow, grant: ScoreGrant, consumer: string): Promise<ScoreResult> {
    try {
      return await this.computeOnce(window, grant, consumer, false);
    } catch (error) {
      // Its reports in hand are of an older refresh than another period's they are grouped with: fetched again, once.
      if (error instanceof PeriodsRefreshing && error.stale === 'own') return this.computeOnce(window, grant, consumer, true);
      throw error;
    }
  }

  private async computeOnce(window: ScoreWindow, grant: ScoreGrant, consumer: string, fresh: boolean): Promise<ScoreResult> {
    const key = grant.noise === undefined ? undefined : requireNoise(this.options.noise ?? {}, grant.epsilonPerYear).key;
    let directory = NO_DIRECTORY;
    let dimensions = grant.dimensions;
    let joint = grant.joint;
    let linked = grant.linked ?? [];
    let withheld: ScoreResult['withheld'];
    let concealed = false;
    // Read while the reports download, not before them: a big tenant's directory is hundreds of pages (300 at
    // 300,000 users, about 2 s here: bench/score-scale.ts).
    const directoryRead = (joint?.dimensions ?? dimensions).length > 0 || linked.some(usesDirectory) ? readAlongside(this.options.directory) : undefined;
    const snapshots: LeasedSnapshot[] = [];
    /** The other periods' snapshots, for a score grouped across periods (grant.periods). */
    const held: LeasedSnapshot[] = [];
    try {
      snapshots.push(...(await this.leaseReports(window, held, fresh)));
      if (directoryRead !== undefined) {
        try {
          directory = await directoryRead;
        } catch (error) {
          if (!(error instanceof ConcealedNamesError)) throw error;
          concealed = true;
          dimensions = [];
          if (joint !== undefined) joint = { ...joint, dimensions: [] };
          // Without the directory, the linked cohort tables drop their directory dimensions as the cohorts do.
          linked = linked.map(withoutDirectory);
        }
      }
      const facts = await this.factsOf(snapshots);
      // Within the tables this refresh's releases were already made within, whatever the policies now say
      // (cohort/tables-made.ts): the score's own table and periods, and its linked cohort tables.
      const made = this.options.tablesMade;
      if (made !== undefined && 'period' in window) {
        const live = { ...(joint ?? { dimensions, kOrg: grant.kOrg, kC: grant.kC }), periods: grant.periods ?? [window.period] };
        const table = made.scoreTableFor(window.period, facts.refreshDates, live);
        if (table !== live) {
          joint = { dimensions: concealed ? [] : (table.dimensions as DirectoryAttribute[]), kOrg: table.kOrg, kC: table.kC };
          if (table.periods.length > 1) grant = { ...grant, periods: table.periods };
        }
        linked = linked.map((plan) => {
          const linkedTable = made.tableFor(plan.report, window, facts.refreshDates.get(plan.report.name) ?? null, plan);
          return concealed ? withoutDirectory(linkedTable) : linkedTable;
        });
        // A table made by the directory where the live grant's needs none: the refresh's directory (pinned when the
        // table was made) is read now, as below.
        if (!concealed && directory === NO_DIRECTORY && ((joint?.dimensions.length ?? 0) > 0 || linked.some(usesDirectory))) {
          try {
            directory = await directoryForData(this.options.directory, directoryAnchor(facts, linked), [...facts.refreshDates.values()]);
          } catch (error) {
            if (!(error instanceof ConcealedNamesError)) throw error;
            if (joint !== undefined) joint = { ...joint, dimensions: [] };
            linked = linked.map(withoutDirectory);
          }
        }
      }
      // The other periods of the score's group, from the same refresh (else nothing until they agree).
      const others: PeriodFacts[] = [];
      for (const period of 'period' in window ? (grant.periods ?? []) : []) {
        if (period === (window as { readonly period: Period }).period) continue;
        const leased = await this.leaseReports({ period }, held);
        held.push(...leased);
        let other = await this.factsOf(leased);
        // The other period's held reports are of an older refresh: Graph is asked again once.
        if (refreshedApart(facts, other, period)?.stale === 'other') {
          const again = await this.leaseReports({ period }, held, true);
          held.push(...again);
          other = await this.factsOf(again);
        }
        const apart = refreshedApart(facts, other, period);
        if (apart !== undefined) throw apart;
        others.push({ period, facts: other });
      }
      // Every release of a refresh's data is joined to one directory, whichever surface or policy asks first: the
      // score takes the linked report's (its cohorts and Meetings are one table) and lends it to its other dates.
      if (directory !== NO_DIRECTORY) {
        const dates = [...facts.refreshDates.values()];
        directory = await directoryForData(this.options.directory, directoryAnchor(facts, linked), dates);
        // Another of its reports' data was joined to another directory (its cohorts read before a directory
        // change): by a dimension, the score would show that data under two directories. Until the reports are
        // refreshed together, the organisation only (the linked tables keep theirs: Meetings' states are the cohorts').
        if (this.options.directory.pinnedApart?.(dates) === true) {
          withheld = 'directoryChanged';
          dimensions = [];
          if (joint !== undefined) joint = { ...joint, dimensions: [] };
        }
      }
      const settings = [
        dimensions.join(','), grant.kOrg, grant.kC, grant.noise?.epsilon ?? 'exact', grant.cadence, ...(joint !== undefined ? [joint.dimensions.join(','), joint.kOrg, joint.kC] : []),
        ...linked.map(planDigest), ...(others.length > 0 ? [`periods ${(grant.periods ?? []).join(',')}`] : []),
      ].join(' ');
      const at = releaseSlot(['score', 'period' in window ? window.period : window.date], settings, facts.refreshDate, grant.cadence);
      const cacheKey = [...snapshots.map(identityOf), ...held.map(identityOf), identityOf(directory), settings, JSON.stringify(window)].join(' ');
      let cached = true;
      const make = () => {
        let pending = this.results.get(cacheKey);
        cached = pending !== undefined;
        if (pending === undefined) {
          const computeFresh = () => this.computeFresh(facts, window, directory, { ...grant, dimensions, ...(joint !== undefined ? { joint } : {}), linked }, at, key, snapshots, others);
          // Within the patterns every replica's releases of its reports' refreshes made (cohort/tables-made.ts TablesMade.shared).
          pending = this.options.tablesMade?.shared([...facts.refreshDates].map(([source, refreshDate]) => ({ source, refreshDate })), computeFresh) ?? computeFresh();
          pending.catch(() => this.results.delete(cacheKey));
          this.results.set(cacheKey, pending);
          if (this.results.size > MAX_CACHED_SCORES) this.results.delete(this.results.keys().next().value!);
        }
        return pending;
      };
      const served = await this.book.serve(at, make, consumer, grant.epsilonPerYear);
      const { id: _id, slot: _slot, epsilon: _epsilon, measures: _measures, ...release } = served.release;
      return { ...release, cached, stale: served.stale, ...(served.budget !== undefined ? { budget: served.budget } : {}), ...(withheld !== undefined ? { withheld } : {}) };
    } finally {
      for (const snapshot of [...snapshots, ...held]) snapshot.release();
    }
  }

  /**
   * Leases the score's reports for `window` (fetched side by side: Graph throttles per report), in
   * SCORE_SOURCE_REPORTS order; `taken` gets every lease, failed or not, for the caller to release. `fresh`:
   * held snapshots are fetched from Graph again.
   */
  private async leaseReports(window: ScoreWindow, taken: LeasedSnapshot[], fresh = false): Promise<LeasedSnapshot[]> {
    const options = fresh ? { fetchedAfter: Date.now() } : {};
    const leases = await Promise.allSettled(SCORE_SOURCE_REPORTS.map((report) => this.options.snapshots.lease({ version: 'v1.0', report, ...window }, 'csv', options)));
    const snapshots = leases.flatMap((lease) => (lease.status === 'fulfilled' ? [lease.value] : []));
    const failed = leases.find((lease) => lease.status === 'rejected');
    if (failed !== undefined) {
      taken.push(...snapshots);
      throw failed.reason;
    }
    return snapshots;
  }

  /**
   * The categories of `own` (the window `period`'s tables) suppressed as one table with the same categories of the
   * other periods (shortest first; cohort/suppress.ts suppressNested), but those whose states are a linked cohort
   * table's (Meetings with the Teams cohorts, grouped by period there). The same people's facts in every period,
   * the same directory and dimensions: every period's request makes the same pattern.
   */
  private async suppressAcrossPeriods(period: Period, facts: ScoreFacts, own: readonly CategoryTable[], others: readonly PeriodFacts[], directory: Directory, table: { readonly dimensions: readonly DirectoryAttribute[]; readonly kOrg: number; readonly kC: number }, grant: ScoreGrant): Promise<CategoryTable[]> {
    const byPeriod = new Map<Period, readonly CategoryTable[]>([[period, own]]);
    for (const other of others) {
      const steps = scoreTableSteps(other.facts, directory, table.dimensions, table.kOrg, table.kC, this.categoryPatterns(other.period, other.facts, table.kOrg, table.kC, () => true));
      byPeriod.set(other.period, await runSteps(steps));
    }
    const order = (grant.periods ?? []).filter((p) => byPeriod.has(p));
    const linked = new Set((grant.linked ?? []).flatMap((plan) => (plan.companions ?? []).map((c) => c.name)));
    const result: CategoryTable[] = [];
    for (const [i, mine] of own.entries()) {
      if (linked.has(mine.category.id)) {
        result.push(mine);
        continue;
      }
      const tables = order.map((p) => byPeriod.get(p)![i]!.table);
      const factsOf = (p: Period) => (p === period ? facts : others.find((o) => o.period === p)!.facts);
      const at = order.flatMap((p, j) => categoryPatternsAt(mine.category, p, factsOf(p)).map((place) => ({ at: place, table: tables[j]! })));
      const counts = this.options.tablesMade === undefined ? suppressNested(tables, [], { k: table.kOrg, kC: table.kC, lpComponentLimit: LP_LIMIT }) : this.options.tablesMade.withinPatterns(at, table.kOrg, table.kC, () => suppressNested(tables, [], { k: table.kOrg, kC: table.kC, lpComponentLimit: LP_LIMIT }));
      result.push({ ...mine, counts: countsOf(mine.table, counts.every((c) => c.lpVerified)) });
      await letTheLoopTurn();
    }
    return result;
  }

  /**
   * Each category's table of `window` (a period or a date) suppressed within the patterns its refresh's releases
   * were made with (cohort/tables-made.ts TablesMade.withinPatterns); as it is without kept tables. `interim`: whether
   * the release suppresses a category again (TablesMade.withinPatterns' `interim`).
   */
  private categoryPatterns(window: string, facts: ScoreFacts, kOrg: number, kC: number, interim: (category: ScoreCategory) => boolean): CategoryPatterns | undefined {
    const made = this.options.tablesMade;
    if (made === undefined) return undefined;
    return (category, table, suppress) => countsOf(table, made.withinPatterns(categoryPatternsAt(category, window, facts).map((at) => ({ at, table })), kOrg, kC, () => suppress().lpVerified, interim(category)));
  }

  /** People's facts from the score's reports (leased, in SCORE_SOURCE_REPORTS order), read once per snapshot set. */
  private factsOf(snapshots: readonly LeasedSnapshot[]): Promise<ScoreFacts> {
    const key = snapshots.map(identityOf).join(' ');
    let pending = this.facts.get(key);
    if (pending === undefined) {
      pending = (async () => {
        this.stats.factsBuilt++;
        const facts = new ScoreFacts();
        const digests: string[] = [];
        for (const [i, report] of SCORE_SOURCE_REPORTS.entries()) {
          const snapshot = snapshots[i]!;
          // Facts made while the snapshot was fetched and validated (one parse), or read from its CSV now; the
          // data's digest is the snapshot's own where it has one, so both ways bind the noise alike.
          const summary = snapshot.takeSummary?.();
          const hash = createHash('sha256');
          const read = summary instanceof ReportFacts && summary.report === report ? summary : await ReportFacts.read(report, digestWhileReading(snapshot.csv(), hash));
          if (read.kept !== undefined) this.keptRows.set(snapshot, read.kept);
          if (snapshot.digest === undefined && read === summary) for await (const chunk of snapshot.csv()) hash.update(chunk);
          digests.push(snapshot.digest ?? hash.digest('hex'));
          await facts.addReportFacts(read);
        }
        this.factsDigests.set(facts, createHash('sha256').update(digests.join(' ')).digest('hex'));
        return facts;
      })();
      pending.catch(() => this.facts.delete(key));
      this.facts.set(key, pending);
      if (this.facts.size > MAX_CACHED_FACTS) this.facts.delete(this.facts.keys().next().value!);
    }
    return pending;
  }

  private async computeFresh(facts: ScoreFacts, window: ScoreWindow, directory: Directory, grant: ScoreGrant, slot: ReleaseSlot, noiseKey: Buffer | undefined, snapshots: readonly LeasedSnapshot[], others: readonly PeriodFacts[]): Promise<ScoreRelease> {
    const table = grant.joint ?? grant;
    if (facts.organizationSize < table.kOrg) {
      throw new OrganizationTooSmallError(table.kOrg);
    }
    const { dimensions } = grant;
    // Bound to the data: the true figures of every category's table, before suppression changes their states.
    // A category is suppressed again with its other periods, or takes a linked cohort table's states: interim here.
    const linked = new Set((grant.linked ?? []).flatMap((plan) => (plan.companions ?? []).map((c) => c.name)));
    const interim = (category: ScoreCategory) => others.length > 0 || linked.has(category.id);
    const steps = scoreTableSteps(facts, directory, table.dimensions, table.kOrg, table.kC, this.categoryPatterns('period' in window ? window.period : window.date, facts, table.kOrg, table.kC, interim));
    // Between steps the event loop may turn: a big tenant's tables never hold other requests up for long.
    let tables = await runSteps(steps);
    // Categories that are companions of a cohort table of the window take the states of that one table.
    for (const plan of grant.linked ?? []) {
      const snapshot = snapshots[SCORE_SOURCE_REPORTS.indexOf(plan.report)];
      if (snapshot === undefined) throw new InternalInvariantError(`the score has no snapshot of ${plan.report.name}`);
      // A Teams table grouped with its other periods reads their snapshots too (cohort/release.ts PeriodSources).
      const periods = 'period' in window ? { period: window.period, lease: (period: Period, fresh?: boolean) => this.options.snapshots.lease({ version: 'v1.0', report: plan.report, period }, 'csv', fresh === true ? { fetchedAfter: Date.now() } : {}) } : undefined;
      const made = this.options.tablesMade;
      const patterns = made === undefined ? undefined : { made, refreshDate: facts.refreshDates.get(plan.report.name) ?? null, window: 'period' in window ? window.period : window.date };
      const organisation = await organisationVerdictOf(snapshot, () => snapshot.csv(), plan, directory, { kept: this.keptRows.get(snapshot), patterns, ...(periods !== undefined ? { periods } : {}) });
      tables = tables.map((t) => (organisation.companions.has(t.category.id) ? { ...t, counts: suppressAsCompanion(t.table, organisation, t.category.id) } : t));
    }
    if (others.length > 0 && 'period' in window) tables = await this.suppressAcrossPeriods(window.period, facts, tables, others, directory, table, grant);
    const data = createHash('sha256').update(tables.map((t) => tableDigest(t.table)).join(' ')).digest('hex');
    const id = releaseId(slot, data);
    let noise: ScoreNoise | undefined;
    let measures: NoisyMeasure[] = [];
    if (grant.noise !== undefined) {
      const snapshot = this.factsDigests.get(facts);
      if (snapshot === undefined) throw new InternalInvariantError('score facts without the digest of their reports');
      const data: ReleaseData = { source: 'score', window: 'period' in window ? window.period : window.date, refreshDate: facts.refreshDate, snapshot, directory };
      // People outside the directory are one cell, one draw, in every dimension: bound to who is in the directory.
      const context = measureNoise(noiseKey!, data, (dimension) => {
        if (dimension === NOT_IN_DIRECTORY) return [];
        // The organisation's table may hold dimensions the grant does not serve (drawn, then filtered out below).
        if (!(DIRECTORY_ATTRIBUTES as readonly string[]).includes(dimension)) throw new InternalInvariantError(`score noise asked for dimension ${dimension}, which is no directory attribute`);
        return [dimension as DirectoryAttribute];
      });
      const scale = scoreNoiseScale(dimensions.length, grant.noise.epsilon);
      noise = { context, scale };
      // Every category's numerator and denominator of every dimension, whatever is released; the shared
      // not-in-directory draws cost no more than one dimension's, which each charge covers.
      measures = dimensions.flatMap((d) => SCORE_CATEGORIES.flatMap((c) => ['numerator', 'denominator'].map((m) => ({ id: context.measureId(d, `${c.id} ${m}`, scale), epsilon: 1 / scale }))));
    }
    // The organisation's table may hold more dimensions than this grant's: only the grant's are served.
    const rows = scoreRows(tables, noise).filter((row) => row.dimension === ORGANIZATION || (dimensions as readonly string[]).includes(row.dimension));
    const counts: SuppressionCounts = { primary: 0, complement: 0, secondary: 0, lpVerified: true };
    for (const t of tables) {
      counts.primary += t.counts.primary;
      counts.complement += t.counts.complement;
      counts.secondary += t.counts.secondary;
      counts.lpVerified &&= t.counts.lpVerified;
    }
    const organization = rows.find((r) => r.dimension === 'organization')!;
    if (this.options.history !== undefined && facts.refreshDate !== null && 'period' in window) {
      await this.options.history.record({
        refreshDate: facts.refreshDate, period: window.period, percentage: organization.total.percentage, points: organization.total.points,
        max: organization.total.max, categories: Object.fromEntries(organization.categories.map((c) => [c.id, c.points])),
      });
    }
    return { id, slot, epsilon: grant.noise?.epsilon ?? 0, measures, rows, counts, refreshDate: facts.refreshDate, dimensions };
  }
}

const NO_DIRECTORY = new Directory([]);

/** Another period's people's facts, for a score grouped across periods (ScoreGrant.periods). */
interface PeriodFacts {
  readonly period: Period;
  readonly facts: ScoreFacts;
}

/**
 * Whether another period's reports are of other refreshes than the score's, report by report (Graph refreshes each
 * report's periods on its own): the first that differs, as the error to answer with, else undefined.
 */
function refreshedApart(own: ScoreFacts, other: ScoreFacts, period: Period): PeriodsRefreshing | undefined {
  for (const [report, date] of own.refreshDates) {
    const otherDate = other.refreshDates.get(report) ?? null;
    if (otherDate !== date) return new PeriodsRefreshing(report, (date ?? '') < (otherDate ?? '') ? 'own' : 'other', { own: date, other: otherDate, period });
  }
  return undefined;
}

type StoredScoreRows = Extract<StoredRelease, { kind: 'score' }>['body']['rows'];

/** Score releases in the Store: the score rows, counts and dimensions, exactly as served. */
const SCORE_CODEC: ReleaseCodec<ScoreRelease> = {
  store: (release) => ({
    id: release.id, slot: release.slot.slot, epoch: release.slot.epoch, epsilon: release.epsilon, measures: release.measures.map((m) => ({ ...m })), kind: 'score',
    // The stored schema (store/records.ts) is ScoreRow's shape; its arrays are read-only here.
    body: { refreshDate: release.refreshDate, counts: { ...release.counts }, dimensions: [...release.dimensions], rows: release.rows as StoredScoreRows },
  }),
  revive(stored) {
    if (stored.kind !== 'score') throw new StoreCorruptError(`release ${stored.id}`, `is a ${stored.kind} release where a score release was kept`);
    const dimensions = stored.body.dimensions.filter((d): d is DirectoryAttribute => (DIRECTORY_ATTRIBUTES as readonly string[]).includes(d));
    if (dimensions.length !== stored.body.dimensions.length) throw new StoreCorruptError(`release ${stored.id}`, 'names a dimension that is not a directory attribute');
    return {
      id: stored.id, slot: { slot: stored.slot, epoch: stored.epoch }, epsilon: stored.epsilon, measures: storedMeasures(stored), rows: stored.body.rows, counts: stored.body.counts,
      refreshDate: stored.body.refreshDate, dimensions,
    };
  },
};

/**
 * Where a category's pattern is kept: under each of its reports' refresh dates (a report with no date, an empty one,
 * keeps none), read as one (a cell any of them hid stays hidden) and kept under each. Graph refreshes the score's
 * reports a day or two apart: a category keeps its pattern while any of its reports' data is the same (red team,
 * test/redteam/score-reports-apart-kc-raise.test.ts; a tenant without Viva Engage has an empty Yammer report:
 * score-empty-report-kc-raise.test.ts). A category of one report is that report's companion table of the same
 * name (Meetings, with the Teams cohorts'), one pattern whether the score is linked to the cohorts or not.
 */
function categoryPatternsAt(category: ScoreCategory, window: string, facts: ScoreFacts): PatternAt[] {
  return category.reports.map((report) => ({ source: report, window, refreshDate: facts.refreshDates.get(report) ?? null, table: category.id }));
}

/** The refresh date whose directory pin the score takes: its linked report's (its cohorts and Meetings are one table), else its first report's. */
function directoryAnchor(facts: ScoreFacts, linked: readonly CohortPlan[]): string | null {
  return linked.length > 0 ? (facts.refreshDates.get(linked[0]!.report.name) ?? null) : facts.refreshDate;
}
