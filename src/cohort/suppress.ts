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
import { isUnknown, type CohortCell, type CohortTable } from './table.js';

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

const cellKey = (cell: CohortCell) => `${cell.dimension}\u0000${cell.key.join('\u0001')}`;

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
 * The tables must have the same cells (one layout). Returns each table's counts, in `tables` order.
 */
export function suppressLinked(tables: readonly CohortTable[], options: SuppressionOptions): SuppressionCounts[] {
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
  if (cohort !== undefined && companion !== undefined && tables.length === 2) showOrganisationBeside(cohort, companion, options, totals[0]!);
  return totals;
}

/**
 * After suppressLinked's one pattern: shows the cohort's organisation total again where the companion hides its
 * own (a Meetings total with one to four people never on video would hide the Teams organisation total with it)
 * if the attacker's joint programme still finds every protected cell of both tables wide. The total must pass the
 * cohort's own rules. Then only the organisation differs between the tables, and the link adds one equation
 * there: w + m = the cohort's active total (w: active people the companion does not count; m = q + r: the
 * companion's count, q who qualify, r who do not). Checked through moves that are all moves of the joint
 * programme:
 * - every protected companion cell but the organisation is wide with the organisation taken as known;
 * - the companion's organisation: q and r each move as far as their own programmes let them, and m's change is
 *   matched by w the other way (w's own programme: the cohort's active minus the companion's count, cell by cell,
 *   unknown where the companion is), or by the other of q and r (one qualifying fewer, one not qualifying more);
 * - each cell the cohort hides, the organisation fixed in both: its active people are w plus m, each moving in
 *   its own programme, so its active interval is at least w's width plus m's; its inactive people are its own.
 * Otherwise (or where a part of either is above the LP limit) the organisation stays hidden, as in the one pattern.
 */
function showOrganisationBeside(cohort: CohortTable, companion: CohortTable, options: SuppressionOptions, counts: SuppressionCounts): void {
  const id = cohort.cells.findIndex((c) => c.dimension === ORGANIZATION);
  const total = cohort.cells[id];
  const counted = companion.cells[id];
  // Only a total hidden for the link (secondary), which its own rules would show, beside a hidden companion total.
  if (total === undefined || counted === undefined || total.state !== 'secondary' || !isUnknown(counted)) return;
  const { k, kC } = options;
  if (total.users < k || !meetsComplement(total, kC)) return;
  const need: Needs = { users: k, active: kC, inactive: kC };
  const limit = options.lpComponentLimit ?? LP_COMPONENT_LIMIT;
  /** A table of the layout's cells with other figures: `states` gives each cell's state. */
  const layout = (states: readonly CohortCell[], values: (i: number) => { users: number; active: number }): CohortTable => ({
    metrics: [], relations: cohort.relations,
    cells: states.map((cell, i) => ({ ...values(i), dimension: cell.dimension, key: cell.key, sums: [], state: cell.state, ...(cell.structuralZero === true ? { structuralZero: true as const } : {}) })),
  });
  const notCounted = (i: number) => cohort.cells[i]!.active - companion.cells[i]!.users;
  const width = (i: Interval) => i.max - i.min;
  const countedState = counted.state;
  try {
    // The companion's organisation on its own: q and r from their programmes, m's change matched by w.
    const own = new AttackerDecomposition(companion, limit);
    const q = own.interval(id, 'active');
    const r = own.interval(id, 'inactive');
    const w = new AttackerDecomposition(layout(companion.cells, (i) => ({ users: notCounted(i), active: notCounted(i) })), limit).interval(id, 'active');
    const [q0, r0, w0] = [counted.active, counted.users - counted.active, notCounted(id)];
    const [qUp, qDown, rUp, rDown, wUp, wDown] = [q.max - q0, q0 - q.min, r.max - r0, r0 - r.min, w.max - w0, w0 - w.min];
    const qualifying = { min: q0 - Math.min(qDown, wUp + rUp), max: q0 + Math.min(qUp, wDown + rDown) };
    const notQualifying = { min: r0 - Math.min(rDown, wUp + qUp), max: r0 + Math.min(rUp, wDown + qDown) };
    const people = { min: counted.users - Math.min(qDown + rDown, wUp), max: counted.users + Math.min(qUp + rUp, wDown) };
    if (!isWide('users', people, need) || !isWide('active', qualifying, need) || !isWide('inactive', notQualifying, need)) return;
    // Every other protected companion cell, its people moving with the organisation's within what w (and, for
    // one of q and r, the other) can match: one of q and r at a time with the other's room, both at once within
    // w's room split between them.
    const inf = Number.POSITIVE_INFINITY;
    const one = (room: number) => (room === inf ? inf : room);
    counted.bounds = { active: { up: one(wDown + rDown), down: one(wUp + rUp) }, inactive: { up: one(wDown + qDown), down: one(wUp + qUp) } };
    const single = new AttackerDecomposition(companion, limit);
    const half = (x: number, up: boolean) => (x === inf ? x : up ? Math.ceil(x / 2) : Math.floor(x / 2));
    counted.bounds = { active: { up: half(wDown, false), down: half(wUp, false) }, inactive: { up: half(wDown, true), down: half(wUp, true) } };
    const both = new AttackerDecomposition(companion, limit);
    delete counted.bounds;
    for (const [cellId, cell] of companion.cells.entries()) {
      if (cellId === id || !isProtected(cell, k, kC)) continue;
      const each = measureWidths(single, cellId, need);
      if (!isWide('active', each.active, need) || !isWide('inactive', each.inactive, need) || !isWide('users', measureWidths(both, cellId, need).users, need)) return;
    }
    counted.state = 'released';
    const fixed = new AttackerDecomposition(companion, limit);
    counted.state = countedState;
    // Each cell the cohort hides, the organisation known in both: w's width plus m's, and its own inactive people.
    total.state = 'released';
    const rest = new AttackerDecomposition(layout(cohort.cells, (i) => ({ users: cohort.cells[i]!.users - companion.cells[i]!.users, active: notCounted(i) })), limit);
    for (const [cellId, cell] of cohort.cells.entries()) {
      if (!isProtected(cell, k, kC)) continue;
      const part = measureWidths(rest, cellId, need);
      const active = width(part.active) + width(measureWidths(fixed, cellId, need).users);
      if (!isWide('inactive', part.inactive, need) || active < kC - EPSILON || width(part.inactive) + active < k - EPSILON) {
        total.state = 'secondary';
        return;
      }
    }
    counts.secondary--;
  } catch (error) {
    if (!(error instanceof CohortTableUnverifiable)) throw error;
    total.state = 'secondary';
  } finally {
    counted.state = countedState;
    delete counted.bounds;
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
