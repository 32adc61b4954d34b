/**
 * A cohort table: every cell of every dimension of one report and period, with its true measures, and the
 * linear relations between cells that a consumer knows hold (a dimension's cells sum to the organisation; the
 * cells of `a x b` sum to `a`'s cell and to `b`'s cell). Suppression reasons over exactly these relations.
 */

export type CellState =
  | 'released'
  /** 0..k-1 users (an empty cohort looks exactly like a small one, G8). */
  | 'primary'
  /** An active count of 0..k_c-1 or an inactive count of 1..k_c-1 within the cohort (G2). */
  | 'complement'
  /** Released cells suppressed so that no suppressed cell can be narrowed below k (G3). */
  | 'secondary'
  /** A marginal the policy does not release (e.g. `department` when only `department x office` is declared). */
  | 'hidden';

export interface CohortCell {
  readonly dimension: string;
  /** One label per part of the dimension ('organization' has one part, its label 'all'). */
  readonly key: readonly string[];
  /** True distinct users in the cohort. */
  users: number;
  /** Users with any activity in the period. */
  active: number;
  /** Per declared metric: the sum of each user's value clipped to the metric's bound (G12). */
  readonly sums: number[];
  state: CellState;
  /**
   * A structural zero (SDC's term): a combination of directory attributes nobody in the directory holds. The
   * consumer knows it is empty (it knows who is in which department and office), so the attacker's programme
   * takes it as known 0 and the check protects it no further; it is still shown suppressed like any cell
   * under k (G8: the key set is every combination, whether held or not).
   */
  readonly structuralZero?: true;
  /**
   * How far the attacker's programme lets each measure of this cell move from its true value beyond what the
   * relations allow (suppress.ts suppressLinked: what a companion table's figures imply); absent: no bound.
   */
  bounds?: CellBounds;
  /**
   * Hidden because a release of the same refresh already hid it (tables-made.ts TablesMade.withinPatterns): it stays
   * hidden whatever this release's suppression would allow (never shown beside a companion again).
   */
  held?: true;
}

/** Per measure (users = active + inactive), the most a value may rise above (`up`) or fall below (`down`) its true value. */
export interface CellBounds {
  readonly active: { readonly up: number; readonly down: number };
  readonly inactive: { readonly up: number; readonly down: number };
}

/** total = sum(parts), for every measure. */
export interface CohortRelation {
  readonly total: number;
  readonly parts: readonly number[];
}

export interface CohortTable {
  readonly cells: CohortCell[];
  readonly relations: readonly CohortRelation[];
  /** Declared metric names, in the order of `CohortCell.sums`. */
  readonly metrics: readonly string[];
}

/** A cell's name within its table's layout, the same in every table with the dimension: dimension and key. */
export const cellKey = (cell: { readonly dimension: string; readonly key: readonly string[] }): string => `${cell.dimension}\u0000${cell.key.join('\u0001')}`;

/** Whether the attacker does not know a cell's value: it is not released and is no structural zero. */
export const isUnknown = (cell: CohortCell): boolean => cell.state !== 'released' && cell.structuralZero !== true;
