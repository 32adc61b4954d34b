/**
 * The organisation's tables a Graph refresh's releases were made within, kept until the refresh is over.
 * Consumers keep every release (privacy.md's threat model), and within one refresh the data does not change: a
 * release made again under another suppression pattern (a policy change that narrows exposure: a period, a
 * dimension, a tool with a larger k_c or the score dropped) would stand beside the one kept, and together they
 * show what each pattern hides (red team: test/redteam/period-group-reload.test.ts, score-period-group-reload,
 * dimension-drop-reload, kc-drop-reload, score-drop-unlinks, score-dimension-drop-reload). So every
 * release of a refresh is suppressed within the union of every table the refresh's releases were made within:
 * the live policy set's table (policy/decide.ts jointCohortPlan, the score's grant) united with those. A change
 * that narrows keeps the tables as made, and so the same patterns; one that widens (a period, a dimension, the
 * score's link) unites with them and makes tables or cells no release of the refresh made.
 *
 * The cells a release of the refresh showed are public for the rest of it, whatever table they were shown in. A
 * release either still shows every one of them or shows no cell never shown before; where it would do neither (a
 * widening change beside cells it now hides), it hides every cell it would show for the first time
 * (TablesMade.withinPatterns; red team: test/redteam/period-added-after-raise.test.ts, score-add-links).
 *
 * Within those tables, the patterns only grow: a cell a release of the refresh hid stays hidden in every later one
 * (TablesMade.withinPatterns), so a change that raises k or k_c (an exposure decrease, policy/diff.ts) hides more
 * and shows a part of what was shown, never a new pattern beside it (red team: kc-raise-reload, score-kc-raise-reload).
 *
 * Periods nest (whoever was active over 7 days was over 30), so a report's periods are one table (CohortPlan.periods,
 * suppress.ts suppressNested): a period released after a policy change is grouped with every period made before.
 *
 * The patterns are kept in the Store too where one is given (store.ts RefreshPatternStore; TablesMade.shared): every
 * replica sharing it, and a restarted process, suppresses within what any of them hid and showed.
 */
import { getRandomValues, hkdfSync } from 'node:crypto';
import { STANDARD_PERIODS, type Period, type ReportSpec } from '../catalogue/catalogue.js';
import { InternalInvariantError, ProductError } from '../errors/catalogue.js';
import { StoreCorruptError } from '../store/records.js';
import { parseDimension } from './aggregate.js';
import type { CohortPlan } from './report-users.js';
import { meetsComplement } from './suppress.js';
import { cellKey, type CohortCell, type CohortTable } from './table.js';
import { refreshName, unitePatterns } from '../store/refresh-patterns.js';
import type { RefreshAt, RefreshPatternStore, StoredPattern } from '../store/store.js';

/**
 * The periods that nest, shortest first: the standard ones, then ALL (Copilot's whole history, which holds the
 * others: red team, test/redteam/copilot-all-period-nesting.test.ts).
 */
export const NESTED_PERIODS: readonly Period[] = [...STANDARD_PERIODS, 'ALL'];

/** One table over nested periods (CohortPlan.periods): each period's plan at the union of dimensions, the largest k and k_c; the plan of `period`'s. */
export function periodGroup(group: readonly { readonly period: Period; readonly plan: CohortPlan }[], period: Period): CohortPlan {
  const names = [...new Set(group.flatMap((g) => g.plan.dimensions.map((d) => d.name)))].sort();
  const k = Math.max(...group.map((g) => g.plan.k));
  const kC = Math.max(...group.map((g) => g.plan.kC));
  const unified = ({ periods: _periods, ...plan }: CohortPlan): CohortPlan => ({ ...plan, dimensions: names.map(parseDimension), k, kC });
  const own = group.find((g) => g.period === period)!.plan;
  return group.length < 2 ? unified(own) : { ...unified(own), periods: group.map((g) => ({ period: g.period, plan: unified(g.plan) })) };
}

/** A table releases were made within: a report's plan and, where it holds one period alone, which. */
export interface TableMade {
  readonly table: CohortPlan;
  /** The period of a table without `periods` (undefined: a single day's, or not a nested period). */
  readonly period?: Period;
}

/**
 * `live` (the live set's table of `period`; undefined: of a single day) united with `made`, the table releases of
 * the same report, window and refresh were already made within: every period of either, each period's table the
 * union of both (dimensions, companions and their tied metrics; the largest k and k_c), then one group at the
 * union of dimensions and the largest k and k_c (periodGroup). `live` itself where `made` adds nothing.
 */
export function unitedWithMade(live: CohortPlan, made: TableMade, period: Period | undefined): CohortPlan {
  if (covers(live, made, period)) return live;
  if (period === undefined || (made.table.periods === undefined && made.period === undefined)) return unitePlans(made.table, live);
  const tables = new Map<Period, CohortPlan>((made.table.periods ?? [{ period: made.period!, plan: made.table }]).map((t) => [t.period, t.plan]));
  for (const t of live.periods ?? [{ period, plan: live }]) tables.set(t.period, tables.has(t.period) ? unitePlans(tables.get(t.period)!, t.plan) : t.plan);
  return periodGroup(NESTED_PERIODS.flatMap((p) => (tables.has(p) ? [{ period: p, plan: tables.get(p)! }] : [])), period);
}

/** One window's two tables as one: the union of dimensions, metrics and companions, the largest k and k_c; `b`'s other settings. */
function unitePlans(a: CohortPlan, b: CohortPlan): CohortPlan {
  const names = [...new Set([...a.dimensions, ...b.dimensions].map((d) => d.name))].sort();
  const metrics = [...new Map([...a.metrics, ...b.metrics].map((m) => [`${m.column.header} ${m.clip}`, m])).values()];
  const companions = [...new Map([...(a.companions ?? []), ...(b.companions ?? [])].map((c) => [c.name, c])).values()];
  const { periods: _periods, ...plan } = b;
  return { ...plan, dimensions: names.map(parseDimension), metrics, k: Math.max(a.k, b.k), kC: Math.max(a.kC, b.kC), ...(companions.length > 0 ? { companions } : {}) };
}

/**
 * Whether `live` (the table of `period`; undefined: a single day's) already holds everything of `made`: each of its
 * periods, and in each its dimensions, metrics, companions, k and k_c.
 */
function covers(live: CohortPlan, made: TableMade, period: Period | undefined): boolean {
  const holds = (l: CohortPlan, m: CohortPlan) =>
    m.dimensions.every((d) => l.dimensions.some((e) => e.name === d.name)) && m.k <= l.k && m.kC <= l.kC &&
    m.metrics.every((x) => l.metrics.some((y) => y.column.header === x.column.header && y.clip === x.clip)) &&
    (m.companions ?? []).every((c) => (l.companions ?? []).some((d) => d.name === c.name));
  const liveTables = new Map<Period | undefined, CohortPlan>((live.periods ?? [{ period, plan: live }]).map((t) => [t.period, t.plan]));
  const madeTables = made.table.periods ?? [{ period: made.period, plan: made.table }];
  return madeTables.every((t) => liveTables.has(t.period) && holds(liveTables.get(t.period)!, t.plan));
}

/** The organisation's score table of a window (score/org-scores.ts ScoreGrant.joint and periods). */
export interface ScoreTableMade {
  readonly dimensions: readonly string[];
  readonly kOrg: number;
  readonly kC: number;
  /** The periods its categories are one table over (several), or the window's period alone. */
  readonly periods: readonly Period[];
}

/** Where one table's suppression pattern is kept within its refresh (TablesMade.withinPatterns). */
export interface PatternAt {
  /** The report's name (a score category's pattern is kept under each of its reports: score/org-scores.ts categoryPatternsAt). */
  readonly source: string;
  /** The period ('D30') or a single day's date. */
  readonly window: string;
  /** The report's refresh date, YYYY-MM-DD; null: an empty report, whose pattern is not kept. */
  readonly refreshDate: string | null;
  /** '' for the report's own table; a companion's name (report-users.ts CompanionMeasure), which is its score category's id. */
  readonly table: string;
}

/** A table about to be suppressed, and where its pattern is kept. */
export interface PatternTable {
  readonly at: PatternAt;
  readonly table: CohortTable;
}

/** How many refreshes' tables are kept: every date Graph serves (28 days) for every report, and more. */
const TABLES_KEPT = 4096;
/**
 * How many cells the patterns keep in all, hidden (4 bytes each) and shown (8 bytes each): at most 16 MB, a hundred
 * tables of 6,000 departments x 30 offices; past it, the pattern least recently suppressed within goes first.
 */
const CELLS_KEPT = 2_000_000;

/** How long an evicted pattern is remembered as evicted (days after its refresh date): as long as a store keeps patterns (store/refresh-patterns.ts), and Graph serves a refresh for less. */
const EVICTED_KEPT_DAYS = 35;

/**
 * A release of a refresh whose pattern was evicted from memory (CELLS_KEPT, TABLES_KEPT) in a TablesMade without a
 * store: what the refresh's earlier releases hid and showed is no longer known, so the release is refused rather
 * than made from nothing (red team: test/redteam/patterns-eviction.test.ts). The report's next refresh starts a new
 * pattern. Never raised with a store: an evicted pattern is loaded from it again. `report`: the report's name;
 * `refreshDate`: YYYY-MM-DD.
 */
export class RefreshPatternsEvicted extends ProductError<'RefreshPatternsEvicted'> {
  readonly code = 'RefreshPatternsEvicted';
  constructor(
    readonly report: string,
    readonly refreshDate: string,
  ) {
    super(`The suppression pattern of ${report}'s refresh of ${refreshDate} was evicted from memory (no store is configured), so no more of it is released until Graph's next refresh`);
    this.name = 'RefreshPatternsEvicted';
  }
}

/**
 * The tables each refresh's releases were made within (the union of every table met for it), per report and
 * window (a report's periods are one window), and the org score's per refresh date. In memory: a restart keeps
 * none, as the directory pins (sources.ts DirectoryPins). Bounded: past TABLES_KEPT the table least recently
 * released within goes first. The patterns are also kept in `store` where one is given (TablesMade.shared); the
 * tables made are not (a replica or a restart unites with the tables it made itself only).
 */
export class TablesMade {
  /** The refreshes (refreshName) a release is now within `shared` for, and how many (nested) times. */
  private readonly open = new Map<string, number>();
  /** What releases within `shared` added to each pattern (patternKey) since it was loaded: merged into the store when they are done. */
  private readonly added = new Map<string, { readonly at: PatternAt; readonly hidden: number[]; readonly shown: number[] }>();

  /** The FNV-1a offset bases of cellHash and shownHash (patternOffsets); with a store, read from it by `shared`. */
  private offsets: Uint32Array | undefined;
  /** The store's hash key the offsets were derived from (checked again at every `shared`). */
  private key: Uint8Array | undefined;

  /** `store`: where the refreshes' patterns are shared (replicas, restarts), with the key their hashes use; without it, in memory only. */
  constructor(private readonly store?: RefreshPatternStore) {
    this.offsets = store === undefined ? patternOffsets(undefined) : undefined;
  }

  /**
   * Runs `run`, which makes a release of the refreshes `refreshes` (each a report name and its refresh date; null:
   * an empty report, none kept), within the patterns every replica sharing the store made of them: while no other
   * release of them is made on any replica (RefreshPatternStore.exclusive, taken in one order, so two never wait on
   * each other), their kept patterns are united with these first, and what `run`'s suppressions (withinPatterns)
   * add is merged into the store after it, whether or not it fails (a pattern only grows: a merge never loses one).
   * Without a store, `run` as it is. Errors: the store's (StoreCorruptError, a lock waited for too long or lost);
   * StoreCorruptError if the store's hash key is no longer the one this process's hashes were derived from.
   */
  async shared<T>(refreshes: readonly { readonly source: string; readonly refreshDate: string | null }[], run: () => Promise<T>): Promise<T> {
    const store = this.store;
    if (store === undefined) return run();
    const key = await store.hashKey();
    if (this.key === undefined) [this.key, this.offsets] = [key, patternOffsets(key)];
    // Another key (Redis flushed or restored while this process ran): its patterns and every other replica's would
    // hash apart (red team: test/redteam/patterns-key-changed.test.ts).
    else if (!Buffer.from(key).equals(this.key)) throw new StoreCorruptError("the refresh patterns' hash key", 'is not the one this process derived its hashes from (the store was flushed or restored while it ran): restart it');
    const kept = refreshes.flatMap(({ source, refreshDate }) => (refreshDate === null ? [] : [{ source, refreshDate }]));
    const ats = [...new Map(kept.map((at) => [refreshName(at), at] as const)).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const enter = (i: number): Promise<T> => {
      if (i === ats.length) return run();
      const [name, at] = ats[i]!;
      return store.exclusive(at, async () => {
        for (const pattern of await store.load(at)) this.keepStored(at, pattern);
        this.open.set(name, (this.open.get(name) ?? 0) + 1);
        try {
          return await enter(i + 1);
        } finally {
          const left = this.open.get(name)! - 1;
          if (left === 0) this.open.delete(name);
          else this.open.set(name, left);
          await this.mergeAdded(at);
        }
      });
    };
    return enter(0);
  }

  /** The hashes' offsets; with a store, a release is made within `shared`, which reads them from it first. */
  private hashOffsets(): Uint32Array {
    if (this.offsets === undefined) throw new InternalInvariantError('TablesMade: a release with a store is made within shared(), which reads the hash key first');
    return this.offsets;
  }

  /** Unites a stored pattern of `at` with the one held. */
  private keepStored(at: RefreshAt, pattern: StoredPattern): void {
    const key = patternKey({ source: at.source, window: pattern.window, refreshDate: at.refreshDate, table: pattern.table });
    const before = this.patterns.get(key);
    this.keep(key, before === undefined ? { hidden: pattern.hidden, shown: pattern.shown } : unitePatterns(before, pattern), before);
  }

  /** Merges what releases added to `at`'s patterns into the store. */
  private async mergeAdded(at: RefreshAt): Promise<void> {
    const patterns: StoredPattern[] = [];
    for (const [key, added] of this.added) {
      if (added.at.source !== at.source || added.at.refreshDate !== at.refreshDate) continue;
      this.added.delete(key);
      patterns.push({ window: added.at.window, table: added.at.table, hidden: Uint32Array.from(added.hidden).sort(), shown: Float64Array.from(added.shown).sort() });
    }
    await this.store!.merge(at, patterns);
  }

  /** Keeps `kept` as the pattern of `key` (`before`: the one it replaces), most recently used; past the bounds the least recently used go. */
  private keep(key: string, kept: { readonly hidden: Uint32Array; readonly shown: Float64Array }, before: { readonly hidden: Uint32Array; readonly shown: Float64Array } | undefined): void {
    this.cellsKept += kept.hidden.length + kept.shown.length - (before?.hidden.length ?? 0) - (before?.shown.length ?? 0);
    this.patterns.delete(key);
    this.patterns.set(key, kept);
    while ((this.cellsKept > CELLS_KEPT || this.patterns.size > TABLES_KEPT) && this.patterns.size > 1) {
      const [oldest, cells] = this.patterns.entries().next().value!;
      this.patterns.delete(oldest);
      this.cellsKept -= cells.hidden.length + cells.shown.length;
      if (this.store === undefined) this.markEvicted(oldest);
    }
  }

  /**
   * Remembers that the pattern of `key` (patternKey) is gone: without a store nothing brings it back, so its
   * refresh's releases are refused (withinPatterns). Bounded by time: when a newer refresh date is evicted,
   * refreshes more than EVICTED_KEPT_DAYS older are forgotten, as a store forgets their patterns.
   */
  private markEvicted(key: string): void {
    const refreshDate = patternRefreshDate(key);
    this.evicted.set(key, refreshDate);
    if (refreshDate <= this.newestEvicted) return;
    this.newestEvicted = refreshDate;
    const oldest = new Date(Date.parse(`${refreshDate}T00:00:00Z`) - EVICTED_KEPT_DAYS * 86_400_000).toISOString().slice(0, 10);
    for (const [evicted, date] of this.evicted) if (date < oldest) this.evicted.delete(evicted);
  }

  private readonly cohorts = new Map<string, TableMade>();
  /** The org score's tables, per (report, refresh date) of its reports. */
  private readonly scores = new Map<string, ScoreTableMade>();
  /** The cells each table's releases of a refresh hid and those they showed (cellHash, ascending), per PatternAt. */
  private readonly patterns = new Map<string, { readonly hidden: Uint32Array; readonly shown: Float64Array }>();
  /** Without a store: the patterns (patternKey) evicted from `patterns`, to their refresh dates (markEvicted). */
  private readonly evicted = new Map<string, string>();
  /** The newest refresh date in `evicted` (YYYY-MM-DD; '' before any). */
  private newestEvicted = '';
  private cellsKept = 0;
  /**
   * `heldUntilRefresh`: cells a release hid because it would have shown them for the first time beside cells of
   * the refresh's earlier releases that it hides (a widening change within a refresh: withinPatterns), since
   * start; they show from the next refresh. The metric gpp_cells_held_until_refresh.
   */
  readonly stats = { heldUntilRefresh: 0 };

  /**
   * Runs `suppress`, which suppresses `tables` (their cells released or hidden by the policy, not yet suppressed),
   * within the patterns the refresh's releases were made with, and returns what it returns. Before it, every cell a
   * release of the same table and refresh hid starts hidden ('secondary', CohortCell.held), unless k or k_c hide it
   * anyway (left to `suppress`'s primary and complement rules); after it, every cell it left suppressed is kept.
   * So a refresh's releases only ever hide more: on the cells of a table made before, a later release shows a part
   * of what an earlier one showed, and joined they show no more than the first alone, whatever the policies changed
   * between them (red team: test/redteam/kc-raise-reload.test.ts). Synchronous: no other release of the refresh is
   * made between the reading and the keeping. Tables whose refresh date is null are suppressed as they are.
   *
   * The cells earlier releases showed are kept too (per PatternAt, whatever table they were shown in): they are
   * public for the rest of the refresh. A widening change (a period, a dimension or the score's link added) makes
   * tables or cells no release of the refresh made, whose pattern `suppress` verifies beside this release only. So
   * after it, the release must either still show every cell shown before (joined with the earlier releases it is
   * then this release, which `suppress` verified) or show no cell that was not shown before (joined, they are the
   * earlier releases). Where it does neither, every cell it would show for the first time is hidden ('secondary'):
   * the release adds nothing to what the refresh published (red team: test/redteam/period-added-after-raise.test.ts,
   * score-add-links.test.ts). The result of `suppress` is returned as it is: counts are read off the states after.
   *
   * `interim`: the release suppresses these tables again with others (the score's categories before their periods
   * are grouped, or before a linked cohort table gives them its states), so what they show now is not what it
   * shows: it is not kept as shown, and not checked (the later suppression is).
   */
  withinPatterns<T>(tables: readonly PatternTable[], k: number, kC: number, suppress: () => T, interim = false): T {
    const offsets = this.hashOffsets();
    for (const { at } of tables) if (at.refreshDate !== null && this.evicted.has(patternKey(at))) throw new RefreshPatternsEvicted(at.source, at.refreshDate);
    for (const { at, table } of tables) {
      const hidden = at.refreshDate === null ? undefined : this.patterns.get(patternKey(at))?.hidden;
      if (hidden === undefined) continue;
      for (const cell of table.cells) {
        if (cell.state === 'released' && holds(hidden, cellHash(cell, offsets)) && cell.users >= k && meetsComplement(cell, kC)) {
          cell.state = 'secondary';
          cell.held = true;
        }
      }
    }
    const result = suppress();
    if (!interim) this.showNothingNew(tables);
    for (const { at, table } of tables) {
      if (at.refreshDate === null) continue;
      const key = patternKey(at);
      const before = this.patterns.get(key) ?? { hidden: new Uint32Array(0), shown: new Float64Array(0) };
      const hiddenNow: number[] = [];
      const shownNow: number[] = [];
      for (const cell of table.cells) {
        if (cell.state === 'primary' || cell.state === 'complement' || cell.state === 'secondary') hiddenNow.push(cellHash(cell, offsets));
        else if (cell.state === 'released' && !interim) shownNow.push(shownHash(cell, offsets));
      }
      const kept = { hidden: Uint32Array.from(new Set([...before.hidden, ...hiddenNow])).sort(), shown: Float64Array.from(new Set([...before.shown, ...shownNow])).sort() };
      if (this.open.has(refreshName({ source: at.source, refreshDate: at.refreshDate }))) {
        const added = this.added.get(key) ?? { at, hidden: [], shown: [] };
        for (const hash of hiddenNow) if (!holds(before.hidden, hash)) added.hidden.push(hash);
        for (const hash of shownNow) if (!holds(before.shown, hash)) added.shown.push(hash);
        this.added.set(key, added);
      }
      this.keep(key, kept, before);
    }
    return result;
  }

  /**
   * Whether a release of `table` (suppressed as the live set alone suppresses it, not within the refresh's
   * patterns) would be served otherwise within them: it shows a cell a release of the refresh hid, shows one for
   * the first time beside a cell shown before that it hides, or the pattern was evicted. Read-only (the policy
   * preview asks, red team test/redteam/preview-held-cells.test.ts): nothing is kept, loaded into memory or locked;
   * with a store, its patterns are read as they are now.
   */
  async holdsBack(at: PatternAt, table: CohortTable): Promise<boolean> {
    if (at.refreshDate === null) return false;
    if (this.evicted.has(patternKey(at))) return true;
    const held = this.patterns.get(patternKey(at));
    let offsets = this.offsets;
    let hidden: readonly number[] = [...(held?.hidden ?? [])];
    let shown: readonly number[] = [...(held?.shown ?? [])];
    if (this.store !== undefined) {
      offsets = patternOffsets(await this.store.hashKey());
      for (const pattern of await this.store.load({ source: at.source, refreshDate: at.refreshDate })) {
        if (pattern.window !== at.window || pattern.table !== at.table) continue;
        hidden = [...hidden, ...pattern.hidden];
        shown = [...shown, ...pattern.shown];
      }
    }
    if (offsets === undefined) return false;
    const hiddenSet = new Set(hidden);
    const shownSet = new Set(shown);
    const released = table.cells.filter((cell) => cell.state === 'released');
    if (released.some((cell) => hiddenSet.has(cellHash(cell, offsets)))) return true;
    const releasedNow = new Set(released.map((cell) => shownHash(cell, offsets)));
    return [...shownSet].some((hash) => !releasedNow.has(hash)) && [...releasedNow].some((hash) => !shownSet.has(hash));
  }

  /**
   * After `tables` are suppressed: unless they still show every cell the refresh's releases showed (each table's
   * cells shown under any of its PatternAts, as its hidden cells are: a score category keeps its pattern while any
   * of its reports' data is the same, score/org-scores.ts categoryPatternsAt; red team,
   * test/redteam/score-widen-reports-apart.test.ts) or show none that was not, hides each cell shown for the first
   * time (see withinPatterns).
   */
  private showNothingNew(tables: readonly PatternTable[]): void {
    const offsets = this.hashOffsets();
    const published = new Map<CohortTable, Float64Array>();
    for (const { at, table } of tables) {
      const shown = (at.refreshDate === null ? undefined : this.patterns.get(patternKey(at))?.shown) ?? new Float64Array(0);
      const before = published.get(table);
      published.set(table, before === undefined ? shown : Float64Array.from(new Set([...before, ...shown])).sort());
    }
    if ([...published.values()].every((shown) => shown.length === 0)) return;
    let stillShown = true;
    const fresh: CohortCell[] = [];
    for (const [table, shown] of published) {
      const released = new Set<number>();
      for (const cell of table.cells) {
        if (cell.state !== 'released') continue;
        const hash = shownHash(cell, offsets);
        released.add(hash);
        if (!holds(shown, hash)) fresh.push(cell);
      }
      if (shown.some((hash) => !released.has(hash))) stillShown = false;
    }
    if (stillShown || fresh.length === 0) return;
    for (const cell of fresh) cell.state = 'secondary';
    this.stats.heldUntilRefresh += fresh.length;
  }

  /**
   * The table a release of `report`'s `window` (a period, or a single day's date) of the refresh `refreshDate`
   * (YYYY-MM-DD; null: an empty report, which is never kept) is suppressed within: `live` (the live policy set's
   * joint plan; else the consumer's own) united with the table the refresh's releases were made within
   * (unitedWithMade), which it then is.
   */
  tableFor(report: ReportSpec, window: { readonly period?: Period; readonly date?: string }, refreshDate: string | null, live: CohortPlan): CohortPlan {
    if (refreshDate === null) return live;
    const period = window.period !== undefined && NESTED_PERIODS.includes(window.period) ? window.period : undefined;
    const key = `${report.name} ${period !== undefined ? 'periods' : (window.period ?? `date=${window.date ?? '-'}`)} ${refreshDate}`;
    const made = this.cohorts.get(key);
    const table = made === undefined ? live : unitedWithMade(live, made, period);
    // What is kept is the union: `live` where it covers what was made.
    remember(this.cohorts, key, { table, ...(table.periods === undefined && period !== undefined ? { period } : {}) });
    return table;
  }

  /**
   * The score table a score release of `period` is suppressed within: `live` (the grant's table and periods)
   * united with those the score's releases were made within for any of its reports' refreshes (`refreshDates`:
   * report name to YYYY-MM-DD, null for an empty report): the union of dimensions and periods, the largest k_org
   * and k_c; `live` itself where that adds nothing. It is kept for every report's refresh: Graph refreshes the
   * score's reports a day or two apart, and a category whose report did not change keeps its pattern (red team,
   * test/redteam/score-reports-apart-reload.test.ts).
   */
  scoreTableFor(period: Period, refreshDates: ReadonlyMap<string, string | null>, live: ScoreTableMade): ScoreTableMade {
    if (!NESTED_PERIODS.includes(period)) return live;
    const keys = [...refreshDates].flatMap(([report, date]) => (date === null ? [] : [`${report} ${date}`]));
    let table = live;
    for (const key of keys) {
      const made = this.scores.get(key);
      if (made !== undefined) table = unitedScoreTable(table, made, period);
    }
    for (const key of keys) remember(this.scores, key, table);
    return table;
  }
}

/** `live` united with `made` (the union of dimensions and periods, the largest k_org and k_c); `live` itself where `made` adds nothing. */
function unitedScoreTable(live: ScoreTableMade, made: ScoreTableMade, period: Period): ScoreTableMade {
  if (made.dimensions.every((d) => live.dimensions.includes(d)) && made.kOrg <= live.kOrg && made.kC <= live.kC && made.periods.every((p) => live.periods.includes(p))) return live;
  return {
    dimensions: [...new Set([...made.dimensions, ...live.dimensions])].sort(), kOrg: Math.max(made.kOrg, live.kOrg), kC: Math.max(made.kC, live.kC),
    periods: NESTED_PERIODS.filter((p) => p === period || made.periods.includes(p) || live.periods.includes(p)),
  };
}

/**
 * The hashes' offset bases: derived (HKDF-SHA-256) from the store's hash key where patterns are shared, so every
 * replica and a restarted process hash a cell alike; else drawn. Cell names are directory values, which whoever
 * names a department or an office chooses, and FNV-1a is no keyed hash: with its published offsets anyone computes
 * it offline, and a department and an office whose cells' shownHash collide took a birthday search of seconds (red
 * team: test/redteam/shown-hash-collision.test.ts). From a secret key, the offsets are known to no one, and a name
 * can only be tried by putting it in the directory and reading a release.
 */
function patternOffsets(key: Uint8Array | undefined): Uint32Array {
  if (key === undefined) return getRandomValues(new Uint32Array(3));
  const bytes = new Uint8Array(hkdfSync('sha256', key, new Uint8Array(0), 'graph-privacy-proxy refresh pattern hash offsets', 12));
  return new Uint32Array(bytes.buffer, 0, 3);
}

/**
 * A cell's name (cellKey) as a 32-bit FNV-1a hash from `offsets[0]` (patternOffsets): patterns keep hashes, 4 bytes
 * a cell. Two names with one hash can only make a cell held that no release hid (more suppression), never the other way.
 */
function cellHash(cell: CohortCell, offsets: Uint32Array): number {
  return fnv1a(cellKey(cell), offsets[0]!);
}

/**
 * A shown cell's name as a 53-bit hash (two 32-bit FNV-1a hashes from `offsets[1]` and `offsets[2]`, patternOffsets;
 * 8 bytes a cell): two names with one hash would take a cell shown for the first time as shown before
 * (TablesMade.withinPatterns), so the hash is wide enough that a table of 180,000 cells (6,000 departments x 30
 * offices) holds two about once in 500,000.
 */
function shownHash(cell: CohortCell, offsets: Uint32Array): number {
  const name = cellKey(cell);
  return fnv1a(name, offsets[1]!) * 2 ** 21 + (fnv1a(name, offsets[2]!) & 0x1fffff);
}

/** 32-bit FNV-1a of `name`'s UTF-16 code units from `offset`. */
function fnv1a(name: string, offset: number): number {
  let hash = offset;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** Whether the ascending `hashes` hold `hash` (binary search). */
function holds(hashes: Uint32Array | Float64Array, hash: number): boolean {
  let [low, high] = [0, hashes.length - 1];
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if (hashes[middle] === hash) return true;
    if (hashes[middle]! < hash) low = middle + 1;
    else high = middle - 1;
  }
  return false;
}

const patternKey = (at: PatternAt) => [at.source, at.window, at.refreshDate, at.table].join('\u0000');
/** The refresh date (YYYY-MM-DD) of a patternKey (only patterns of a dated refresh are kept). */
const patternRefreshDate = (key: string) => key.split('\u0000')[2]!;

/** Sets `key` most recently used (last): past TABLES_KEPT, the one least recently used goes. */
function remember<T>(map: Map<string, T>, key: string, value: T): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > TABLES_KEPT) map.delete(map.keys().next().value!);
}
