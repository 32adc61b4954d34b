/**
 * One protected release of a cohort table: the one function that turns an aggregated table into what every
 * surface (the report URL, /cohorts, `policy test`) shows: suppression with one LP limit, noise, rendering. A
 * release is named by what it is made of (report, period or date, release epoch, the settings that shape it, a
 * digest of the data), never by who asks: two consumers reading the same release get the same figures. Its noise
 * is keyed finer, by what each figure is (noisyMeasureId): report, window, refresh date, the data (the report
 * snapshot and the directory), dimension, measure and scale, not the policy's other settings, so two policies
 * releasing the same cell at the same scale release the same figure, and pay for it once (issue 15, items 3, 4, 6).
 */
import { createHash } from 'node:crypto';
import { findColumn, type Period, type ReportSpec } from '../catalogue/catalogue.js';
import { readCsvBatches } from '../sanitize/csv-report.js';
import { blankRefreshDate, MissingColumnError } from '../sanitize/errors.js';
import { ORGANIZATION } from './aggregate.js';
import { DIRECTORY_ATTRIBUTES, type Directory, type DirectoryAttribute } from './directory.js';
import { aggregateCsvReport, type CohortAggregate, type CohortPlan, type KeptReportRows, type PeriodTable } from './report-users.js';
import type { LeasedSnapshot } from './sources.js';
import type { NoiseContext } from './noise.js';
import { cohortMeasures, cohortRows, type CohortRow } from './render.js';
import { countsOf, suppressCohorts, suppressLinked, suppressNested, type LinkedSums, type SuppressionCounts } from './suppress.js';
import type { PatternTable, TablesMade } from './tables-made.js';
import { cellKey, type CellState, type CohortTable } from './table.js';
import { InternalInvariantError, ProductError } from '../errors/catalogue.js';

/**
 * How often a fresh release of a report and period is made: at each Graph refresh (`daily`), or at the first
 * refresh of each ISO week (`weekly`), the release then served unchanged until the next one.
 */
export type ReleaseCadence = 'daily' | 'weekly';

/**
 * The attacker check runs on every table; a group of linked suppressed cells that is not a flow network is solved
 * by yalps up to this many cells, and a table with a larger one is refused (cohort/attacker-decomposition.ts).
 * The proxy, `/org-score` and `policy test` share it.
 */
export const LP_LIMIT = 150;

/**
 * The release epoch of a report refreshed on `refreshDate` (YYYY-MM-DD, or null for an empty report): the date
 * itself (daily), or the Monday of its ISO week (weekly). Releases of one epoch are served unchanged.
 */
export function releaseEpoch(refreshDate: string | null, cadence: ReleaseCadence): string {
  if (refreshDate === null) return '-';
  if (cadence === 'daily') return refreshDate;
  const day = new Date(`${refreshDate}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7));
  return day.toISOString().slice(0, 10);
}

/**
 * The refresh date of a report snapshot (its first row's `Report Refresh Date`; null for an empty report or a report
 * the catalogue gives no such column), read from the first rows only: which epoch the data belongs to, before
 * anything is computed. Rows without it (the column missing or blank) throw SanitizeError: a release of unknown
 * refresh would be kept within no refresh's patterns (sanitize/errors.ts blankRefreshDate).
 */
export async function snapshotRefreshDate(source: AsyncIterable<Buffer | string>, report: ReportSpec): Promise<string | null> {
  const column = findColumn(report, 'reportRefreshDate');
  if (column === undefined) return null;
  let index = -1;
  for await (const batch of readCsvBatches(source, report)) {
    if (batch.layout !== undefined) index = batch.layout.indexOf(column);
    const first = batch.rows[0];
    if (first === undefined) continue;
    if (index === -1) throw new MissingColumnError(report.name, column.header, 'the refresh bookkeeping');
    if (first[index] === '') throw blankRefreshDate(report.name);
    return first[index]!;
  }
  return null;
}

/** Fresh releases per year of one report and period under a cadence (what the budget tooling multiplies by). */
export function releasesPerYear(cadence: ReleaseCadence): number {
  return cadence === 'daily' ? 366 : 53;
}

const digest = (parts: readonly (string | number)[]) => createHash('sha256').update(parts.join('\u0000')).digest('hex');

/** A digest of everything in a plan that shapes its release (dimensions, clipped metrics, k, k_c, epsilon). */
export function planDigest(plan: CohortPlan): string {
  return digest([
    plan.report.name, plan.dimensions.map((d) => d.name).join('|'), plan.metrics.map((m) => `${m.column.json}:${m.clip}`).join('|'),
    plan.k, plan.kC, plan.noise?.epsilon ?? 'exact', (plan.companions ?? []).map((c) => c.name).join('|'),
    (plan.periods ?? []).map((p) => `${p.period}:${planDigest(p.plan)}`).join('|'),
  ]);
}

/**
 * Whether the organisation's table of a report (policy/decide.ts jointCohortPlan) suppresses exactly as the plan
 * does alone: the same dimensions, k and k_c (one policy reads the report, or all read it alike), and no
 * companion surface or other period suppressed with it.
 */
export function suppressesAlike(plan: CohortPlan, joint: CohortPlan | undefined): boolean {
  const names = (p: CohortPlan) => p.dimensions.map((d) => d.name).sort().join('|');
  return joint === undefined || (names(plan) === names(joint) && plan.k === joint.k && plan.kC === joint.kC && (joint.companions ?? []).length === 0 && (joint.periods ?? []).length === 0);
}

/** The settings a release is made under: its plan's, and the organisation's table where that suppresses otherwise. */
export function settingsDigest(plan: CohortPlan, joint?: CohortPlan): string {
  return suppressesAlike(plan, joint) ? planDigest(plan) : digest([planDigest(plan), planDigest(joint!)]);
}

/** A digest of a table's true figures (before suppression): a release is bound to the data it was made from. */
export function tableDigest(table: CohortTable): string {
  const hash = createHash('sha256');
  for (const cell of table.cells) hash.update(`${cell.dimension}\u0000${cell.key.join('\u0001')}\u0000${cell.users}\u0000${cell.active}\u0000${cell.sums.join(',')}\n`);
  return hash.digest('hex');
}

/** Where a release belongs: the same key means the same release (served unchanged) within one epoch. */
export interface ReleaseSlot {
  /** report, window and settings: one release per epoch is made for it. */
  readonly slot: string;
  readonly epoch: string;
}

export function releaseSlot(parts: readonly string[], settings: string, refreshDate: string | null, cadence: ReleaseCadence): ReleaseSlot {
  return { slot: digest([...parts, settings, cadence]), epoch: releaseEpoch(refreshDate, cadence) };
}

/** The id of a release: its slot, epoch and data; what noise is drawn from and what the budget is charged for. */
export function releaseId(slot: ReleaseSlot, data: string): string {
  return digest([slot.slot, slot.epoch, data]);
}

/**
 * One measure of one dimension drawn at one scale from one data: the noise of all its cells, and what the
 * organisation's budget is charged for, once, however many releases and consumers share it. A person is in one
 * cell of a dimension, so it costs a person sensitivity / scale.
 */
export interface NoisyMeasure {
  readonly id: string;
  readonly epsilon: number;
}

/** The data a release is drawn from: a report (or the score's reports, `source` 'score') for a window, and the directory. */
export interface ReleaseData {
  readonly source: string;
  /** The period ('D30') or the date. */
  readonly window: string;
  readonly refreshDate: string | null;
  /** SHA-256 (hex) of the report snapshot(s) as read. */
  readonly snapshot: string;
  readonly directory: Directory;
}

/**
 * The id of a noisy measure: report, window, refresh date, the snapshot, the directory's values of the attributes
 * the dimension groups by (`attributes`; none: who is in the directory), dimension, measure and scale. The refresh
 * date, not the release epoch: a weekly and a daily release made from the same day's data share their draws.
 */
export function noisyMeasureId(data: ReleaseData, attributes: readonly DirectoryAttribute[], dimension: string, measure: string, scale: number): string {
  return digest(['noise', data.source, data.window, data.refreshDate ?? '-', data.snapshot, data.directory.digest(attributes), dimension, measure, String(scale)]);
}

/** A noise context whose measure ids (memoised) bind every draw to `data`; `attributesOf` names a dimension's directory attributes. */
export function measureNoise(key: Buffer, data: ReleaseData, attributesOf: (dimension: string) => readonly DirectoryAttribute[]): NoiseContext {
  const ids = new Map<string, string>();
  return {
    key,
    measureId(dimension, measure, scale) {
      const name = `${dimension}\u0000${measure}\u0000${scale}`;
      let id = ids.get(name);
      if (id === undefined) ids.set(name, (id = noisyMeasureId(data, attributesOf(dimension), dimension, measure, scale)));
      return id;
    },
  };
}

const isDirectoryAttribute = (part: string): part is DirectoryAttribute => (DIRECTORY_ATTRIBUTES as readonly string[]).includes(part);

/**
 * The noisy measures a release of `plan` charges: every measure of every sub-organisation dimension, whatever the
 * data (which cells are released does not change what is charged). They add up to the plan's epsilon.
 */
export function cohortMeasureCharges(noise: NoiseContext, plan: CohortPlan): NoisyMeasure[] {
  const measures = cohortMeasures(plan);
  return plan.dimensions.filter((d) => d.name !== ORGANIZATION).flatMap((d) => measures.map((m) => ({ id: noise.measureId(d.name, m.measure, m.scale), epsilon: m.sensitivity / m.scale })));
}

/**
 * The suppression of the organisation's table of a report and window (policy/decide.ts jointCohortPlan), made
 * from the same data: each released dimension's cell state by dimension and key. One verdict serves every
 * consumer whose release is part of that table.
 */
export interface OrganisationVerdict {
  /** The organisation's table (what the release's settings digest names beside the consumer's plan). */
  readonly plan: CohortPlan;
  readonly states: ReadonlyMap<string, CellState>;
  readonly lpVerified: boolean;
  /** Each companion's table (report-users.ts CompanionMeasure), by name: its true figures and states, one pattern with `states`. */
  readonly companions: ReadonlyMap<string, CohortTable>;
}

/**
 * Aggregates `joint` from a report's data (a validated snapshot) and suppresses it at its k and k_c: the
 * organisation's verdict (with the attacker check over the whole table). Undefined where the table would
 * suppress as `plan` does alone (suppressesAlike), so the common case aggregates once.
 */
export async function organisationVerdict(source: () => AsyncIterable<Buffer | string>, plan: CohortPlan, joint: CohortPlan | undefined, directory: Directory, sources: VerdictSources = {}): Promise<OrganisationVerdict | undefined> {
  return suppressesAlike(plan, joint) ? undefined : suppressOrganisation(source, joint!, directory, sources);
}

/**
 * Where a verdict of a group of nested periods (CohortPlan.periods) reads the other periods' data: the window
 * the data in hand is of, and a lease of the same report's snapshot for another period (cohort/sources.ts
 * SnapshotSource.lease), released once read.
 */
export interface PeriodSources {
  readonly period: Period;
  /** `fresh`: fetched from Graph again if held (the held one is of an older refresh than the data in hand). */
  lease(period: Period, fresh?: boolean): Promise<LeasedSnapshot>;
}

/**
 * A report's periods, released as one table, hold data of different refresh dates (Graph refreshes a report's
 * periods together, but a held snapshot can be of the previous refresh): nothing of any of them is released until
 * they agree, so the group's verdict is always made from one refresh. `stale`: which side is older, `own` (the
 * data in hand, which its caller may fetch again) or `other`. Answered 503 with Retry-After.
 */
export class PeriodsRefreshing extends ProductError<'PeriodsRefreshing'> {
  readonly code = 'PeriodsRefreshing';
  readonly retryAfterSeconds = 300;
  constructor(
    readonly report: string,
    readonly stale: 'own' | 'other',
    dates: { readonly own: string | null; readonly other: string | null; readonly period: Period },
  ) {
    super(`${report}: its ${dates.period} data is of ${dates.other ?? 'no date'} and the data in hand of ${dates.own ?? 'no date'}; a report's periods are released as one table, from one refresh`);
    this.name = 'PeriodsRefreshing';
  }
}

/**
 * PeriodSources over data in hand (the offline tools: `policy test` cases, `sanitize` exports): `sources` reads each
 * other period's CSV; a period without one throws `missing(period)`.
 */
export function periodSourcesOf(period: Period, sources: ReadonlyMap<string, () => AsyncIterable<Buffer>>, missing: (period: Period) => Error): PeriodSources {
  return {
    period,
    lease: async (other) => {
      const read = sources.get(other);
      if (read === undefined) throw missing(other);
      return { csv: read, release: () => undefined };
    },
  };
}

/**
 * Verdicts already made, per data object (a report snapshot), directory and organisation table: the cohorts of a
 * report and the score's categories linked to them (policy/decide.ts linkedCohortPlans) read one verdict, made once.
 */
const verdicts = new WeakMap<object, WeakMap<Directory, Map<string, Promise<OrganisationVerdict>>>>();

/**
/** What a verdict may read besides its data's CSV (organisationVerdictOf, suppressOrganisation). */
export interface VerdictSources {
  /** The report's other periods, for a table grouped with them (CohortPlan.periods): required there. */
  readonly periods?: PeriodSources;
  /**
   * The data's rows kept in its validation pass, which make the table without reading the CSV where they serve
   * it (report-users.ts KeptReportRows).
   */
  readonly kept?: KeptReportRows | undefined;
  /** The refresh whose patterns the verdict is made within (the proxy's; the offline tools keep none). */
  readonly patterns?: RefreshPatterns | undefined;
}

/**
 * A report's refresh whose releases' patterns a suppression is made within (tables-made.ts TablesMade.withinPatterns):
 * `window` is the period ('D30') or the date of the data in hand.
 */
export interface RefreshPatterns {
  readonly made: TablesMade;
  readonly refreshDate: string | null;
  readonly window: string;
}

/** `suppress` run within `patterns` (TablesMade.withinPatterns) on `tables`, each a [window, table name, table]; as it is without patterns. */
function withinPatterns<T>(patterns: RefreshPatterns | undefined, report: string, tables: readonly (readonly [string, string, CohortTable])[], k: number, kC: number, suppress: () => T): T {
  if (patterns === undefined) return suppress();
  const at: PatternTable[] = tables.map(([window, name, table]) => ({ at: { source: report, window, refreshDate: patterns.refreshDate, table: name }, table }));
  return patterns.made.withinPatterns(at, k, kC, suppress);
}

/**
 * suppressOrganisation, made once per `data` (the object `source` reads, such as a leased snapshot), directory
 * and organisation table, and shared by every caller; a failed verdict is forgotten, so the next call tries again.
 * A table grouped with other periods needs `sources.periods` (InternalInvariantError without it: never suppressed
 * alone).
 */
export function organisationVerdictOf(data: object, source: () => AsyncIterable<Buffer | string>, joint: CohortPlan, directory: Directory, sources: VerdictSources = {}): Promise<OrganisationVerdict> {
  let byDirectory = verdicts.get(data);
  if (byDirectory === undefined) verdicts.set(data, (byDirectory = new WeakMap()));
  let byTable = byDirectory.get(directory);
  if (byTable === undefined) byDirectory.set(directory, (byTable = new Map()));
  const key = planDigest(joint);
  let pending = byTable.get(key);
  if (pending === undefined) {
    const tables = byTable;
    pending = suppressOrganisation(source, joint, directory, sources);
    pending.catch(() => tables.delete(key));
    tables.set(key, pending);
  }
  return pending;
}

/** The organisation's verdict on `joint`, whoever asks (see organisationVerdict for when a plan needs one). */
export async function suppressOrganisation(source: () => AsyncIterable<Buffer | string>, joint: CohortPlan, directory: Directory, sources: VerdictSources = {}): Promise<OrganisationVerdict> {
  if ((joint.periods ?? []).length > 0) return suppressPeriods(source, joint, directory, sources);
  return suppressTable(await aggregateOf(source, joint, directory, sources.kept), joint, sources.patterns);
}

/** An organisation table with its companions' tables (what a verdict is made from). */
type OrganisationTable = Pick<CohortAggregate, 'table' | 'companions'>;

/** A plan's table (and its companions') from the kept rows where they serve it, else from the CSV. */
function aggregateOf(source: () => AsyncIterable<Buffer | string>, plan: CohortPlan, directory: Directory, kept: KeptReportRows | undefined): Promise<OrganisationTable> {
  return kept?.serves(plan) === true ? kept.aggregate(plan, directory) : aggregateCsvReport(source(), plan, directory);
}

/** The verdict on one organisation table alone, with its companions (suppress.ts suppressLinked), within the refresh's patterns. */
function suppressTable({ table, companions }: OrganisationTable, joint: CohortPlan, patterns: RefreshPatterns | undefined): OrganisationVerdict {
  const options = { k: joint.k, kC: joint.kC, lpComponentLimit: LP_LIMIT };
  const tables = [['', table] as const, ...companions].map(([name, t]) => [patterns?.window ?? '', name, t] as const);
  const lpVerified = withinPatterns(patterns, joint.report.name, tables, joint.k, joint.kC, () =>
    companions.size === 0 ? suppressCohorts(table, options).lpVerified : suppressLinked([table, ...companions.values()], options, linkedSums(joint)).every((c) => c.lpVerified),
  );
  return { plan: joint, states: statesOf(table), lpVerified, companions };
}

/**
 * The verdict of one period of a group of nested periods: every period's organisation table (with its companions)
 * read from the same report's data of the same refresh date and suppressed as one (suppress.ts suppressNested).
 * A period whose snapshot holds an older refresh date is fetched again; if the dates still differ, PeriodsRefreshing
 * (a period released alone, then the group made from the next refresh, would show two patterns: red team,
 * test/redteam/period-nesting-refresh-apart.test.ts).
 */
async function suppressPeriods(source: () => AsyncIterable<Buffer | string>, joint: CohortPlan, directory: Directory, { periods, kept, patterns }: VerdictSources): Promise<OrganisationVerdict> {
  const group = joint.periods!;
  if (periods === undefined || !group.some((p) => p.period === periods.period)) {
    throw new InternalInvariantError(`the ${joint.report.name} table is suppressed with its other periods, and was asked for without them`);
  }
  const refreshDate = await snapshotRefreshDate(source(), joint.report);
  const leases: LeasedSnapshot[] = [];
  try {
    const members: { readonly entry: PeriodTable; readonly read: () => AsyncIterable<Buffer | string>; readonly kept?: KeptReportRows | undefined }[] = [];
    for (const entry of group) {
      if (entry.period === periods.period) {
        members.push({ entry, read: source, kept });
        continue;
      }
      let lease = await periods.lease(entry.period);
      leases.push(lease);
      let date = await snapshotRefreshDate(lease.csv(), joint.report);
      // The other period's held snapshot is of an older refresh: Graph is asked again once.
      if (date !== refreshDate && (refreshDate ?? '') > (date ?? '')) {
        lease = await periods.lease(entry.period, true);
        leases.push(lease);
        date = await snapshotRefreshDate(lease.csv(), joint.report);
      }
      if (date !== refreshDate) throw new PeriodsRefreshing(joint.report.name, (refreshDate ?? '') < (date ?? '') ? 'own' : 'other', { own: refreshDate, other: date, period: entry.period });
      members.push({ entry, read: () => lease.csv() });
    }
    // One at a time: each aggregate holds only its table.
    const aggregates: OrganisationTable[] = [];
    for (const member of members) aggregates.push(await aggregateOf(member.read, member.entry.plan, directory, member.kept));
    const tables = members.flatMap(({ entry }, i) => [['', aggregates[i]!.table] as const, ...aggregates[i]!.companions].map(([name, table]) => [entry.period, name, table] as const));
    const counts = withinPatterns(patterns, joint.report.name, tables, joint.k, joint.kC, () =>
      suppressNested(aggregates.map((a) => a.table), aggregates.flatMap((a) => [...a.companions.values()]), { k: joint.k, kC: joint.kC, lpComponentLimit: LP_LIMIT }),
    );
    const own = aggregates[members.findIndex((m) => m.entry.period === periods.period)]!;
    return { plan: joint, states: statesOf(own.table), lpVerified: counts.every((c) => c.lpVerified), companions: own.companions };
  } finally {
    for (const lease of leases) lease.release();
  }
}

/** What the joint plan's sums say about its companion's count (suppress.ts LinkedSums); one companion per table. */
function linkedSums(joint: CohortPlan): LinkedSums {
  const countedBy = joint.companions?.[0]?.countedBy;
  const indexed = joint.metrics.map((m, index) => ({ header: m.column.header, index, clip: m.clip }));
  const counting = indexed.filter((m) => m.header === countedBy);
  // Only one sum of the counting column is modelled: another tied column, or a second clip, turns showing beside off.
  return { countedBy: counting.map(({ index, clip }) => ({ index, clip })), othersShown: counting.length > 1 || indexed.some((m) => m.header !== countedBy) };
}

/** Each cell's state by dimension and key. */
const statesOf = (table: CohortTable): Map<string, CellState> => new Map(table.cells.map((cell) => [cellKey(cell), cell.state]));

/**
 * Gives `table`'s cells the states of the organisation's companion table `name` (what another surface releases of
 * the same people), after checking that both hold the same figures for every cell they share: a surface shows
 * the pattern verified for its own figures, or nothing (InternalInvariantError). Returns `table`'s counts.
 */
export function suppressAsCompanion(table: CohortTable, organisation: OrganisationVerdict, name: string): SuppressionCounts {
  const companion = organisation.companions.get(name);
  if (companion === undefined) throw new InternalInvariantError(`the organisation's table of ${organisation.plan.report.name} has no companion ${name}`);
  const truth = new Map(companion.cells.map((cell) => [cellKey(cell), cell]));
  for (const cell of table.cells) {
    const same = truth.get(cellKey(cell));
    if (same !== undefined && (same.users !== cell.users || same.active !== cell.active)) {
      throw new InternalInvariantError(`${name} counts ${cell.users}/${cell.active} in a cell where the ${organisation.plan.report.name} rows give ${same.users}/${same.active}`);
    }
  }
  return suppressWithin(table, { plan: organisation.plan, states: statesOf(companion), lpVerified: organisation.lpVerified, companions: new Map() });
}

/**
 * Gives each cell of `table` the organisation's state for the same dimension and key (a cell `table` hides stays
 * hidden). What any set of consumers sees together is a part of one table the attacker check verified, so
 * joining their outputs narrows nothing; one consumer sees less, which only widens the attacker's intervals. The
 * counts are `table`'s own cells'.
 */
function suppressWithin(table: CohortTable, organisation: OrganisationVerdict): SuppressionCounts {
  const counts: SuppressionCounts = { primary: 0, complement: 0, secondary: 0, lpVerified: organisation.lpVerified };
  for (const cell of table.cells) {
    if (cell.state === 'hidden') continue;
    const state = organisation.states.get(cellKey(cell));
    if (state === undefined || state === 'hidden') throw new InternalInvariantError(`the organisation's cohort table has no released dimension '${cell.dimension}'`);
    cell.state = state;
    if (state !== 'released') counts[state]++;
  }
  return counts;
}

/** A protected cohort release: every declared dimension's rows, final (suppressed, noisy where the plan says). */
export interface ProtectedRelease {
  readonly id: string;
  readonly slot: ReleaseSlot;
  readonly plan: CohortPlan;
  readonly refreshDate: string | null;
  readonly counts: SuppressionCounts;
  /** The epsilon this release costs (0: exact, suppression only): the sum of its measures'. */
  readonly epsilon: number;
  /** Its noisy measures (none when exact): what the budget is charged for. */
  readonly measures: readonly NoisyMeasure[];
  /** The released rows of the declared dimensions (or of `only`); the same objects for every reader. */
  rows(only?: readonly string[]): CohortRow[];
}

/**
 * Protects one aggregated table (consumed: its cells get their suppression states): suppression and the attacker
 * check (components up to `LP_LIMIT`), noise keyed by the release when the plan has noise (`noiseKey` is then required), rendering.
 * `window` is the period ('D30') or the date. A table suppressed alone (no `organisation`) is suppressed within
 * `patterns`, the refresh's (tables-made.ts TablesMade.withinPatterns), where given.
 */
export function protectCohortTable(aggregate: CohortAggregate, plan: CohortPlan, window: string, cadence: ReleaseCadence, noiseKey?: Buffer, organisation?: OrganisationVerdict, patterns?: RefreshPatterns): ProtectedRelease {
  const data = tableDigest(aggregate.table);
  const slot = releaseSlot([plan.report.name, window], settingsDigest(plan, organisation?.plan), aggregate.refreshDate, cadence);
  const id = releaseId(slot, data);
  const counts = organisation !== undefined ? suppressWithin(aggregate.table, organisation) : countsOf(aggregate.table, withinPatterns(patterns, plan.report.name, [[window, '', aggregate.table]], plan.k, plan.kC, () => suppressCohorts(aggregate.table, { k: plan.k, kC: plan.kC, lpComponentLimit: LP_LIMIT }).lpVerified));
  if (plan.noise !== undefined && noiseKey === undefined) throw new Error('a noisy release needs the noise key');
  let noise: NoiseContext | undefined;
  if (plan.noise !== undefined) {
    const attributes = new Map(plan.dimensions.map((d) => [d.name, d.parts.filter(isDirectoryAttribute)]));
    const data: ReleaseData = { source: plan.report.name, window, refreshDate: aggregate.refreshDate, snapshot: aggregate.snapshotDigest, directory: aggregate.directory };
    noise = measureNoise(noiseKey!, data, (dimension) => {
      const parts = attributes.get(dimension);
      if (parts === undefined) throw new InternalInvariantError(`noise asked for dimension ${dimension}, which the plan does not declare`);
      return parts;
    });
  }
  const all = cohortRows(aggregate.table, plan, aggregate.refreshDate, undefined, noise);
  return {
    id, slot, plan, refreshDate: aggregate.refreshDate, counts, epsilon: plan.noise?.epsilon ?? 0, measures: noise === undefined ? [] : cohortMeasureCharges(noise, plan),
    rows: (only) => (only === undefined ? all : all.filter((row) => only.includes(row.dimension))),
  };
}
