/**
 * Suppression of a cohort table, in privacy.md's order: primary (0..k-1 users, G1 and G8), complement (an
 * active count of 0..k_c-1 or an inactive count of 1..k_c-1, G2), then secondary: further released cells are
 * suppressed until no suppressed cell can be narrowed below k users, or below k_c active or inactive people,
 * from what is released (G3), users, active and inactive taken together. An inactive count the attacker can
 * pin to exactly 0 is allowed: "everyone was active" singles nobody out (G2).
 *
 * Secondary suppression works relation by relation (exact for tables whose dimensions each partition the
 * organisation), and then checks the attacker's LP over all relations at once (needed for cross-dimensions,
 * where row and column relations combine) and suppresses more until it holds. The LP is checked through its
 * exact decomposition (attacker-decomposition.ts), at any table size; a table whose decomposition leaves a
 * part above the LP limit is refused (CohortTableUnverifiable), never released unverified.
 */
import { ORGANIZATION } from './aggregate.js';
import { AttackerDecomposition, CohortTableUnverifiable, type Reach } from './attacker-decomposition.js';
import { MEASURES, type Interval, type Measure } from './attacker-lp.js';
import { cellKey, isUnknown, type CohortCell, type CohortTable } from './table.js';

export interface SuppressionOptions {
  readonly k: number;
  readonly kC: number;
  /**
   * Skip the attacker check when the table has more unknown cells than this, relying on the relation rule
   * alone (for tests of that rule; releases leave it unset: every table is checked).
   */
  readonly lpLimit?: number;
  /**
   * The most unknown cells one part of the table may have when it is not a flow network and so is solved by
   * the LP (a cross of three attributes, an attribute in two crosses). Default 150 (measured in
   * bench/cohort-scale.ts); a larger part makes the table refused with CohortTableUnverifiable.
   */
  readonly lpComponentLimit?: number;
}

/** A cell found wide in every measure (ViolationOptions.wide). */
const ALL_WIDE = (1 << MEASURES.length) - 1;

/** The default of SuppressionOptions.lpComponentLimit. */
export const LP_COMPONENT_LIMIT = 150;

export interface SuppressionCounts {
  primary: number;
  complement: number;
  secondary: number;
  /** Whether the attacker LP verified the result. */
  lpVerified: boolean;
}

const EPSILON = 1e-6;

/** A suppressed table's counts read off its cells' states (cells that arrived hidden included: TablesMade.withinPatterns). */
export function countsOf(table: CohortTable, lpVerified: boolean): SuppressionCounts {
  const counts: SuppressionCounts = { primary: 0, complement: 0, secondary: 0, lpVerified };
  for (const cell of table.cells) if (cell.state === 'primary' || cell.state === 'complement' || cell.state === 'secondary') counts[cell.state]++;
  return counts;
}

/**
 * G2 as privacy.md states it: a released cohort shows at least k_c active people, and no inactive people or at
 * least k_c ("everyone was active" singles nobody out; "1 of 12 inactive" or "1 of 12 active" would).
 */
export function meetsComplement(cell: { readonly users: number; readonly active: number }, kC: number): boolean {
  const inactive = cell.users - cell.active;
  return cell.active >= kC && (inactive === 0 || inactive >= kC);
}

/**
 * Cells the guarantees protect: suppressed ones, and hidden cells (marginals, the directory's cross) that could not
 * be released themselves; never a structural zero, which the consumer knows to be empty.
 */
function isProtected(cell: CohortCell, k: number, kC: number): boolean {
  if (cell.structuralZero === true) return false;
  return cell.state === 'primary' || cell.state === 'complement' || cell.state === 'secondary' || (cell.state === 'hidden' && (cell.users < k || !meetsComplement(cell, kC)));
}

/** What each measure of a protected cell needs: an attacker's interval at least this wide. */
type Needs = Record<Measure, number>;

const measureOf = (cell: CohortCell, measure: Measure): number => (measure === 'users' ? cell.users : measure === 'active' ? cell.active : cell.users - cell.active);

/** Whether an attacker's interval of a measure is wide enough; an inactive count pinned to 0 is ("everyone was active"). */
function isWide(measure: Measure, interval: Interval, need: Needs): boolean {
  return interval.max - interval.min >= need[measure] - EPSILON || (measure === 'inactive' && interval.max <= EPSILON);
}

/** Whether a known sum of a measure over unknown cells is enough to hide each of them (see isWide). */
const sumHides = (measure: Measure, sum: number, need: Needs): boolean => sum >= need[measure] || (measure === 'inactive' && sum === 0);

export function suppressCohorts(table: CohortTable, options: SuppressionOptions): SuppressionCounts {
  const { k, kC } = options;
  const counts: SuppressionCounts = { primary: 0, complement: 0, secondary: 0, lpVerified: false };
  for (const cell of table.cells) {
    if (cell.state !== 'released') continue;
    if (cell.users < k) {
      cell.state = 'primary';
      counts.primary++;
    } else if (!meetsComplement(cell, kC)) {
      cell.state = 'complement';
      counts.complement++;
    }
  }
  const need: Needs = { users: k, active: kC, inactive: kC };
  const suppress = (id: number) => {
    table.cells[id]!.state = 'secondary';
    counts.secondary++;
  };
  /** The released member of `ids` with the fewest users (the cheapest to give up); parts before totals. */
  const cheapest = (ids: readonly number[]): number | undefined => {
    let best: number | undefined;
    for (const id of ids) {
      const cell = table.cells[id]!;
      if (cell.state === 'released' && (best === undefined || cell.users < table.cells[best]!.users)) best = id;
    }
    return best;
  };

  // What a round found wide stays wide: suppressing more only loosens the attacker's programme.
  const wide = new Uint8Array(table.cells.length);
  const lpComponentLimit = options.lpComponentLimit ?? LP_COMPONENT_LIMIT;
  for (let round = 0; round < table.cells.length + 1; round++) {
    if (suppressByRelation(table, need, k, kC, cheapest, suppress)) continue;
    if (options.lpLimit !== undefined && table.cells.filter(isUnknown).length > options.lpLimit) return counts;
    const violating = lpViolation(table, need, k, kC, { lpComponentLimit, wide });
    if (violating === undefined) {
      counts.lpVerified = true;
      return counts;
    }
    const candidate = nearestWidening(table, violating, need, lpComponentLimit);
    if (candidate === undefined) throw new Error('secondary suppression found no cell left to suppress');
    suppress(candidate);
  }
  throw new Error('secondary suppression did not settle');
}

/**
 * Suppresses tables of the same people over the same cells as one (privacy.md G3 across surfaces): a cohort table
 * and its companions (report-users.ts CompanionMeasure), such as the Teams cohorts and the score's meetings
 * category, whose counts published definitions nest cell by cell (in meetings, then active in Teams, then in the
 * report). Each table is suppressed, then a cell suppressed in one is suppressed (secondary) in every other, and
 * again until no table changes: all end with one pattern, and each table's last pass verified it (attacker LP).
 *
 * Why one pattern suffices: with nested counts (people in a report, active, in meetings, qualifying), each cell's
 * people split into disjoint parts (inactive; active outside meetings; in meetings not qualifying; qualifying),
 * every released figure is a sum of whole parts, and each part obeys the tables' relations. Where every table
 * hides the same cells, the attacker's programme over all the figures is the product of one programme per part,
 * each with the tables' relations and the same unknown cells, so no table's figure is narrowed by another's beyond
 * what its own check verified (a table's measure that sums parts is at least as wide as any part, and the check
 * verified each part wide). Where patterns differ, a released count bounds a hidden one cell by cell (a released
 * Teams cohort of 6 active people caps its hidden meetings count at 6) and relations turn bounds into intervals.
 *
 * One pattern costs the cohort every cell its companion hides (a Meetings total with one person never on video
 * would hide the Teams organisation total), so for a cohort table with one companion, cells hidden only for the
 * link are then shown again one at a time, the organisation first, where the joint programme with those bounds
 * still finds every protected cell of both tables wide (showBeside, linkHolds).
 *
 * The tables must have the same cells (one layout). Returns each table's counts, in `tables` order.
 */
export function suppressLinked(tables: readonly CohortTable[], options: SuppressionOptions, sums: LinkedSums = { countedBy: [], othersShown: false }): SuppressionCounts[] {
  const totals: SuppressionCounts[] = tables.map(() => ({ primary: 0, complement: 0, secondary: 0, lpVerified: false }));
  const size = tables[0]?.cells.length ?? 0;
  if (tables.some((t) => t.cells.length !== size)) throw new Error('linked tables must have the same cells');
  for (;;) {
    tables.forEach((table, i) => {
      const counts = suppressCohorts(table, options);
      totals[i]!.primary += counts.primary;
      totals[i]!.complement += counts.complement;
      totals[i]!.secondary += counts.secondary;
      totals[i]!.lpVerified = counts.lpVerified;
    });
    let changed = false;
    for (let id = 0; id < size; id++) {
      const cells = tables.map((t) => t.cells[id]!);
      if (new Set(cells.map(cellKey)).size !== 1) throw new Error('linked tables must have the same cells');
      if (cells.every((c) => c.state === 'released') || !cells.some((c) => c.state === 'released')) continue;
      cells.forEach((cell, i) => {
        if (cell.state !== 'released') return;
        cell.state = 'secondary';
        totals[i]!.secondary++;
        changed = true;
      });
    }
    if (!changed) break;
  }
  const [cohort, companion] = tables;
  if (cohort !== undefined && companion !== undefined && tables.length === 2 && !sums.othersShown) showBeside(cohort, companion, options, totals[0]!, sums.countedBy);
  return totals;
}

/**
 * Suppresses the cohort tables of one report over nested windows as one (privacy.md G3 across the periods a
 * consumer may vary): D7, D30, D90 and D180 end on the same refresh date, and whoever was active in the last 7
 * days was active in the last 30, so per cell the active counts nest. Released apart, a period's released cell
 * bounds another's hidden one: D7's inactive people are at least D30's, so a released D7 cell caps a hidden D30
 * cell's inactive count (red team, test/redteam/period-nesting.test.ts).
 *
 * `periods` go shortest first, with the same cells (one layout); `companions` (report-users.ts CompanionMeasure,
 * the score's Meetings) join the pattern. All are first suppressed to one pattern (suppressLinked). Then each
 * cell's people are split into parts by their status in every period (active, listed but inactive, or not
 * listed: a leaver may be in D30's rows and not in D7's), one part per status vector (`nestedParts`). Every
 * released figure is a sum of whole parts (a period's users: the parts listed in it; its active people: the
 * parts active in it). The parts of people missing from a period are taken as known, cell by cell (a consumer may
 * know who left: privacy.md's threat model); with one pattern, every choice of the other parts, each within its
 * own programme (its relations, with the rests the chosen split gives), is a table of people an attacker cannot
 * rule out. So the attacker's interval of a figure is at least the sum of its parts' exact intervals
 * (attacker-decomposition.ts, one programme per part). Each protected cell's figures must reach k users and k_c active and inactive (or inactive
 * pinned to 0); where one does not, the nearest released cell is given up in every table, and again.
 *
 * Not modelled: how the companions' parts split the periods' (a companion's own figures are verified with its
 * table's). Where a cell's active counts do not nest (more active people over 7 days than over 30: reports of
 * two refreshes), no split keeps the nesting an attacker assumes, and the one pattern stands with each table's
 * own check. Returns each table's counts: periods, then companions.
 */
export function suppressNested(periods: readonly CohortTable[], companions: readonly CohortTable[], options: SuppressionOptions): SuppressionCounts[] {
  const { k, kC } = options;
  const need: Needs = { users: k, active: kC, inactive: kC };
  const limit = options.lpComponentLimit ?? LP_COMPONENT_LIMIT;
  const tables = [...periods, ...companions];
  const totals: SuppressionCounts[] = tables.map(() => ({ primary: 0, complement: 0, secondary: 0, lpVerified: false }));
  const nests = periods.length > 1 && periods.every((t, i) => i === 0 || t.cells.every((cell, id) => periods[i - 1]!.cells[id]!.active <= cell.active));
  for (let round = 0; round <= periods[0]!.cells.length; round++) {
    suppressLinked(tables, options, { countedBy: [], othersShown: true }).forEach((counts, i) => {
      const total = totals[i]!;
      total.primary += counts.primary;
      total.complement += counts.complement;
      total.secondary += counts.secondary;
      total.lpVerified = counts.lpVerified;
    });
    if (!nests) return totals;
    const violating = nestedViolation(periods, need, k, kC, limit);
    if (violating === undefined) return totals;
    const longest = periods.at(-1)!;
    const candidate = nearestWidening(longest, violating, need, limit);
    // Nothing left to give up: every cell is hidden, and what stays narrow is what the attacker is taken to know
    // (where the people missing from a period are), which no release adds to.
    if (candidate === undefined) return totals;
    tables.forEach((table, i) => {
      table.cells[candidate]!.state = 'secondary';
      totals[i]!.secondary++;
    });
  }
  throw new Error('nested suppression did not settle');
}

/** A person's status in one period: active, listed but inactive, or not in its rows. */
const ACTIVE = 'a';
const LISTED = 'i';
const ABSENT = '-';

/**
 * Each cell's people split by their status in every period (one character per period, shortest first: ACTIVE,
 * LISTED, ABSENT), as counts per cell of each status vector that occurs. The figures fix the split only in part
 * (a period's users and active people, not who is who), so one split consistent with them is chosen: people
 * numbered 1..max users, period i lists the first u_i and the first a_i of them are active. Where active counts
 * nest (shorter <= longer), nobody is active over a shorter period and listed inactive over a longer one.
 */
function nestedParts(periods: readonly CohortTable[]): Map<string, Int32Array> {
  const parts = new Map<string, Int32Array>();
  const size = periods[0]!.cells.length;
  for (let id = 0; id < size; id++) {
    const cells = periods.map((t) => t.cells[id]!);
    const bounds = [...new Set([0, ...cells.flatMap((c) => [c.active, c.users])])].sort((a, b) => a - b);
    for (let b = 1; b < bounds.length; b++) {
      const person = bounds[b]!; // each person numbered in (bounds[b-1], bounds[b]] has this one's statuses
      const status = cells.map((c) => (person <= c.active ? ACTIVE : person <= c.users ? LISTED : ABSENT)).join('');
      let counts = parts.get(status);
      if (counts === undefined) parts.set(status, (counts = new Int32Array(size)));
      counts[id] = bounds[b]! - bounds[b - 1]!;
    }
  }
  return parts;
}

/**
 * The first protected cell (in any period's table) with a figure narrower than its need in the joint programme of
 * nested periods (see suppressNested), if any. Intervals are exact (no cap): tables grouped by period are checked
 * whole each round.
 */
function nestedViolation(periods: readonly CohortTable[], need: Needs, k: number, kC: number, limit: number): number | undefined {
  const layout = periods[0]!;
  // One programme per part: a table of the same layout and states whose people are the part's, all "active".
  // People missing from a period (leavers, joiners) are taken as known where they are, as a consumer who knows
  // who left may: their parts add no width.
  const parts = [...nestedParts(periods)].map(([status, counts]) => ({
    status,
    counts,
    decomposition: status.includes(ABSENT) ? undefined : new AttackerDecomposition({ ...layout, cells: layout.cells.map((cell, id) => ({ ...cell, users: counts[id]!, active: counts[id]!, sums: [], bounds: undefined })) }, limit),
  }));
  const sum = (intervals: readonly Interval[]): Interval => ({ min: intervals.reduce((s, i) => s + i.min, 0), max: intervals.reduce((s, i) => s + i.max, 0) });
  for (let id = 0; id < layout.cells.length; id++) {
    if (!periods.some((t) => isProtected(t.cells[id]!, k, kC))) continue;
    const intervals = parts.map((part) => ({ status: part.status, interval: part.decomposition?.interval(id, 'active') ?? { min: part.counts[id]!, max: part.counts[id]! } }));
    const figure = (i: number, statuses: readonly string[]) => sum(intervals.filter((p) => statuses.includes(p.status[i]!)).map((p) => p.interval));
    for (const [i, table] of periods.entries()) {
      if (!isProtected(table.cells[id]!, k, kC)) continue;
      if (!isWide('users', figure(i, [ACTIVE, LISTED]), need) || !isWide('active', figure(i, [ACTIVE]), need) || !isWide('inactive', figure(i, [LISTED]), need)) return id;
    }
  }
  return undefined;
}

/**
 * What the cohort's released sums say about its companion's count (report-users.ts CompanionMeasure.countedBy):
 * `countedBy`, each sum (index into the cells' `sums`, with its per-person clip) of the column every counted person
 * has above 0 and no one else; `othersShown`, whether a sum of another column the companion reads is released
 * (its bounds are not modelled: cells are then never shown beside a hidden companion cell).
 */
export interface LinkedSums {
  readonly countedBy: readonly { readonly index: number; readonly clip: number }[];
  readonly othersShown: boolean;
}

/** At most this many cells are tried by showBeside (organisation first, then the largest). */
const MAX_SHOWN_BESIDE = 8;
/**
 * Tables with more cells than this try their organisation total only: each try builds a few programmes of the whole
 * table per cell tried, synchronously (the red team measured 22.9 s for 16 tries on 4,534 cells).
 */
const MAX_CELLS_SHOWN_BESIDE = 1000;

/**
 * After suppressLinked's one pattern: shows again cohort cells hidden only for the link (secondary, passing the
 * cohort's own rules) where the companion hides its own (a Meetings total with one to four people never on video
 * would hide the Teams organisation total with it), one at a time, the organisation first, while the attacker's
 * joint programme still finds every protected cell of both tables wide (linkHolds).
 */
function showBeside(cohort: CohortTable, companion: CohortTable, options: SuppressionOptions, counts: SuppressionCounts, countedBy: LinkedSums['countedBy']): void {
  const { k, kC } = options;
  const eligible = (id: number) => {
    const [cell, counted] = [cohort.cells[id]!, companion.cells[id]!];
    return cell.state === 'secondary' && cell.held !== true && cell.structuralZero !== true && isUnknown(counted) && cell.users >= k && meetsComplement(cell, kC);
  };
  const organisation = cohort.cells.findIndex((c) => c.dimension === ORGANIZATION);
  const tried = cohort.cells
    .flatMap((_, id) => (eligible(id) && (cohort.cells.length <= MAX_CELLS_SHOWN_BESIDE || id === organisation) ? [id] : []))
    .sort((a, b) => Number(b === organisation) - Number(a === organisation) || cohort.cells[b]!.users - cohort.cells[a]!.users)
    .slice(0, MAX_SHOWN_BESIDE);
  const shown: number[] = [];
  for (const id of tried) {
    cohort.cells[id]!.state = 'released';
    let holds = false;
    try {
      holds = linkHolds(cohort, companion, [...shown, id], options, countedBy);
    } catch (error) {
      if (!(error instanceof CohortTableUnverifiable)) throw error;
    }
    if (holds) {
      shown.push(id);
      counts.secondary--;
    } else cohort.cells[id]!.state = 'secondary';
  }
}

/**
 * Whether every protected cell of a cohort table and its companion stays wide in the attacker's joint programme
 * when the cohort shows the `bounded` cells the companion hides, and the tables otherwise hide the same cells.
 * At each bounded cell the link is one equation: w + m = the cohort's active count (w: active people the
 * companion does not count; m = q + r: the companion's count, q who qualify, r who do not); elsewhere each table's
 * parts move freely. Checked through moves that are all moves of the joint programme, one bounded cell moving at a
 * time (the others taken as known):
 * - a bounded cell's own q and r move as far as their programmes let them, m's change matched by w the other way
 *   (w's programme: the cohort's active minus the companion's count, cell by cell, unknown where the companion is)
 *   or by the other of q and r (one qualifying fewer, one not qualifying more);
 * - every other protected companion cell is wide with no bounded cell moving, or with one moving within those
 *   rooms (one of q and r with the other's room as well as w's; both at once within w's room, split);
 * - each cell the cohort hides, all bounded cells fixed: its active people are w plus m, each moving in its own
 *   programme (its active interval is at least w's width plus m's), its inactive people its own.
 */
function linkHolds(cohort: CohortTable, companion: CohortTable, bounded: readonly number[], options: SuppressionOptions, countedBy: LinkedSums['countedBy']): boolean {
  const { k, kC } = options;
  const need: Needs = { users: k, active: kC, inactive: kC };
  const limit = options.lpComponentLimit ?? LP_COMPONENT_LIMIT;
  const inf = Number.POSITIVE_INFINITY;
  const width = (i: Interval) => i.max - i.min;
  const notCounted = (i: number) => cohort.cells[i]!.active - companion.cells[i]!.users;
  /** How far a shown cell's count may rise and fall by its released sums (each counted person adds 1 to clip). */
  const bySums = (i: number) => {
    const count = companion.cells[i]!.users;
    const sums = countedBy.map(({ index, clip }) => ({ sum: cohort.cells[i]!.sums[index]!, clip }));
    return { up: Math.min(inf, ...sums.map(({ sum }) => sum - count)), down: Math.min(inf, ...sums.map(({ sum, clip }) => count - Math.ceil(sum / clip))) };
  };
  const states = bounded.map((id) => companion.cells[id]!.state);
  /** Takes every bounded cell but `moving` as known to the attacker. */
  const knowing = (moving?: number) => bounded.forEach((id, i) => (companion.cells[id]!.state = id === moving ? states[i]! : 'released'));
  const restore = () => bounded.forEach((id, i) => (companion.cells[id]!.state = states[i]!));
  /** A table of the layout's cells with other figures: `like` gives each cell's state. */
  const layout = (like: readonly CohortCell[], values: (i: number) => { users: number; active: number }): CohortTable => ({
    metrics: [], relations: cohort.relations,
    cells: like.map((cell, i) => ({ ...values(i), dimension: cell.dimension, key: cell.key, sums: [], state: cell.state, ...(cell.structuralZero === true ? { structuralZero: true as const } : {}) })),
  });
  try {
    const half = (room: number, up: boolean) => (room === inf ? inf : up ? Math.ceil(room / 2) : Math.floor(room / 2));
    // The cohort's figures fixed everywhere: the companion's counts may fall freely and rise by the cell's w.
    const unknownIds = companion.cells.flatMap((cell, id) => (isUnknown(cell) ? [id] : []));
    const capped = (split: boolean) => {
      for (const id of unknownIds) {
        const sums = bounded.includes(id) ? bySums(id) : { up: inf, down: inf };
        const room = Math.min(Math.max(0, notCounted(id)), sums.up);
        companion.cells[id]!.bounds = split
          ? { active: { up: half(room, false), down: half(sums.down, false) }, inactive: { up: half(room, true), down: half(sums.down, true) } }
          : { active: { up: room, down: sums.down }, inactive: { up: room, down: sums.down } };
      }
      return new AttackerDecomposition(companion, limit);
    };
    let cohortFixed: { single: AttackerDecomposition; both: AttackerDecomposition };
    try {
      cohortFixed = { single: capped(false), both: capped(true) };
    } finally {
      for (const id of unknownIds) delete companion.cells[id]!.bounds;
    }
    knowing();
    const fixed = new AttackerDecomposition(companion, limit);
    const configurations: { single: AttackerDecomposition; both: AttackerDecomposition }[] = [{ single: fixed, both: fixed }, cohortFixed];
    for (const x of bounded) {
      knowing(x);
      const counted = companion.cells[x]!;
      const own = new AttackerDecomposition(companion, limit);
      const q = own.interval(x, 'active');
      const r = own.interval(x, 'inactive');
      const w = new AttackerDecomposition(layout(companion.cells, (i) => ({ users: notCounted(i), active: notCounted(i) })), limit).interval(x, 'active');
      const [q0, r0, w0] = [counted.active, counted.users - counted.active, notCounted(x)];
      // The count moves the other way from w, and within what the cell's released sums allow.
      const sums = bySums(x);
      const [qUp, qDown, rUp, rDown] = [q.max - q0, q0 - q.min, r.max - r0, r0 - r.min];
      const [wUp, wDown] = [Math.min(w.max - w0, sums.down), Math.min(w0 - w.min, sums.up)];
      const qualifying = { min: q0 - Math.min(qDown, wUp + rUp), max: q0 + Math.min(qUp, wDown + rDown) };
      const notQualifying = { min: r0 - Math.min(rDown, wUp + qUp), max: r0 + Math.min(rUp, wDown + qDown) };
      const people = { min: counted.users - Math.min(qDown + rDown, wUp), max: counted.users + Math.min(qUp + rUp, wDown) };
      // Wide on its own moves, or with the cohort fixed everywhere.
      const wide = (measure: Measure, interval: Interval) => isWide(measure, interval, need) || isWide(measure, measureWidths(measure === 'users' ? cohortFixed.both : cohortFixed.single, x, need)[measure], need);
      if (!wide('users', people) || !wide('active', qualifying) || !wide('inactive', notQualifying)) return false;
      try {
        counted.bounds = { active: { up: wDown + rDown, down: wUp + rUp }, inactive: { up: wDown + qDown, down: wUp + qUp } };
        const single = new AttackerDecomposition(companion, limit);
        counted.bounds = { active: { up: half(wDown, false), down: half(wUp, false) }, inactive: { up: half(wDown, true), down: half(wUp, true) } };
        configurations.push({ single, both: new AttackerDecomposition(companion, limit) });
      } finally {
        delete counted.bounds;
      }
    }
    restore();
    // Every other protected companion cell: each measure wide in some configuration.
    for (const [id, cell] of companion.cells.entries()) {
      if (bounded.includes(id) || !isProtected(cell, k, kC)) continue;
      const wide = (measure: Measure) => configurations.some((c) => isWide(measure, measureWidths(measure === 'users' ? c.both : c.single, id, need)[measure], need));
      if (!wide('users') || !wide('active') || !wide('inactive')) return false;
    }
    // Each cell the cohort hides, every bounded cell fixed: w's width plus m's, and its own inactive people.
    const rest = new AttackerDecomposition(layout(cohort.cells, (i) => ({ users: cohort.cells[i]!.users - companion.cells[i]!.users, active: notCounted(i) })), limit);
    for (const [id, cell] of cohort.cells.entries()) {
      if (!isProtected(cell, k, kC)) continue;
      const part = measureWidths(rest, id, need);
      const active = width(part.active) + width(measureWidths(fixed, id, need).users);
      if (!isWide('inactive', part.inactive, need) || active < kC - EPSILON || width(part.inactive) + active < k - EPSILON) return false;
    }
    return true;
  } finally {
    restore();
  }
}

/** How many candidate cells the LP tries when choosing what to give up for one narrowed cell. */
const CANDIDATE_TRIALS = 40;

/**
 * The cell to give up when the LP narrows `violating`. Candidates come nearest first: the released parts of
 * the relations `violating` is in, cheapest first, then their released totals; then the same for the
 * relations of those relations' cells, and so on (in a cross table, rows and columns combine). The first
 * candidate whose suppression actually widens `violating`'s interval is taken. A cohort missing from the
 * directory, for one, is the same people in every dimension, so only suppressing its twin in another
 * dimension helps, however many nearer cells are given up.
 */
function nearestWidening(table: CohortTable, violating: number, need: Needs, lpComponentLimit: number): number | undefined {
  const released = (ids: Iterable<number>) => [...new Set(ids)].filter((id) => table.cells[id]!.state === 'released').sort((a, b) => table.cells[a]!.users - table.cells[b]!.users);
  const relationsOf = relationIndex(table);
  const candidates = new Set<number>();
  const seen = new Set<number>([violating]);
  let frontier = [violating];
  while (frontier.length > 0) {
    const related = [...new Set(frontier.flatMap((id) => relationsOf[id] ?? []))].sort((a, b) => a - b).map((r) => table.relations[r]!);
    for (const id of [...released(related.flatMap((r) => r.parts)), ...released(related.map((r) => r.total))]) candidates.add(id);
    frontier = [...new Set(related.flatMap((r) => [r.total, ...r.parts]))].filter((id) => !seen.has(id));
    for (const id of frontier) seen.add(id);
  }
  const widths = () => measureWidths(new AttackerDecomposition(table, lpComponentLimit), violating, need);
  const before = widths();
  const short = MEASURES.filter((m) => !isWide(m, before[m], need));
  const width = (i: Interval) => i.max - i.min;
  for (const id of [...candidates].slice(0, CANDIDATE_TRIALS)) {
    const cell = table.cells[id]!;
    cell.state = 'secondary';
    const after = widths();
    const widened = short.some((m) => width(after[m]) > width(before[m]) + EPSILON);
    cell.state = 'released';
    if (widened) return id;
  }
  return candidates.values().next().value;
}

/** Per cell, the indexes of the relations it is in (as total or part), ascending. */
function relationIndex(table: CohortTable): number[][] {
  const out: number[][] = table.cells.map(() => []);
  table.relations.forEach((relation, r) => {
    out[relation.total]!.push(r);
    for (const p of relation.parts) if (out[p]!.at(-1) !== r) out[p]!.push(r);
  });
  return out;
}

/**
 * Each measure's interval of an unknown cell as far as the check needs it: exact while narrower than the
 * need, else at least as wide. Active first, up to what users and active need; then inactive, up to what it
 * and users still need. Users is active plus inactive.
 */
function measureWidths(decomposition: AttackerDecomposition, id: number, need: Needs): Record<Measure, Interval> {
  const interval = (r: Reach): Interval => ({ min: r.value - r.down, max: r.value + r.up });
  const active = interval(decomposition.reach(id, 'active', Math.max(need.users, need.active)));
  const inactive = interval(decomposition.reach(id, 'inactive', Math.max(need.inactive, need.users - (active.max - active.min))));
  return { users: { min: active.min + inactive.min, max: active.max + inactive.max }, active, inactive };
}

/**
 * One pass of the relation-by-relation rule; true if it suppressed anything. In a relation whose total is
 * released, the unknown parts share a known sum, so each lies in [0, that sum]: it must reach k users (k_c
 * active, and 0 or k_c inactive). In a relation whose parts are all released, an unknown total is exact.
 */
function suppressByRelation(
  table: CohortTable,
  need: Needs,
  k: number,
  kC: number,
  cheapest: (ids: readonly number[]) => number | undefined,
  suppress: (id: number) => void,
): boolean {
  let changed = false;
  for (const relation of table.relations) {
    const total = table.cells[relation.total]!;
    const unknownParts = relation.parts.filter((p) => isUnknown(table.cells[p]!));
    const protectedParts = unknownParts.filter((p) => isProtected(table.cells[p]!, k, kC));
    if (!isUnknown(total)) {
      if (protectedParts.length === 0) continue;
      const short = MEASURES.some((m) => !sumHides(m, unknownParts.reduce((s, p) => s + measureOf(table.cells[p]!, m), 0), need));
      if (short || unknownParts.length === 1) {
        // With no part left to give up (a cohort that is the same people as its total), the total goes.
        suppress(cheapest(relation.parts) ?? relation.total);
        changed = true;
      }
    } else if (isProtected(total, k, kC) && unknownParts.length === 0) {
      const candidate = cheapest(relation.parts);
      if (candidate !== undefined) {
        suppress(candidate);
        changed = true;
      }
    }
  }
  return changed;
}

export interface ViolationOptions {
  /** See SuppressionOptions.lpComponentLimit. */
  readonly lpComponentLimit?: number;
  /** Per cell, a bit per measure (MEASURES' order) already found wide: skipped; those found now are added. */
  readonly wide?: Uint8Array;
}

/**
 * A protected cell the attacker LP narrows below the threshold, if any: the first by measure (users, active,
 * inactive), then by cell index. Throws CohortTableUnverifiable when a part of the table is above the limit.
 */
export function lpViolation(table: CohortTable, need: Needs, k: number, kC: number, options: ViolationOptions = {}): number | undefined {
  const protectedIds = table.cells.flatMap((cell, id) => (isProtected(cell, k, kC) ? [id] : []));
  const decomposition = new AttackerDecomposition(table, options.lpComponentLimit ?? LP_COMPONENT_LIMIT);
  const wide = options.wide ?? new Uint8Array(table.cells.length);
  // Cell by cell (nothing kept per cell), remembering the first narrowed in each measure: users come first.
  const first: (number | undefined)[] = MEASURES.map(() => undefined);
  for (const id of protectedIds) {
    if (wide[id] === ALL_WIDE) continue;
    const widths = measureWidths(decomposition, id, need);
    for (const [index, measure] of MEASURES.entries()) {
      if (isWide(measure, widths[measure], need)) wide[id]! |= 1 << index;
      else first[index] ??= id;
    }
    if (first[0] !== undefined) return first[0];
  }
  return first.find((id) => id !== undefined);
}
