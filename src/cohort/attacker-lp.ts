/**
 * The attacker's linear programme (privacy.md G3): given every released cell and the relations between
 * cells, how far can each unreleased cell be narrowed? Users, active and inactive people are solved together,
 * as an attacker would: per unknown cell a users and an active variable with 0 <= active <= users (inactive =
 * users - active), each relation holding for both measures. Solving them apart misses what only their link
 * gives away ("A and B together have 2 inactive people"). Solved with yalps (variables are non-negative),
 * minimising and maximising each measure of each unknown cell, or (by default) through its exact
 * decomposition (attacker-decomposition.ts), which scales to tables of real directories.
 */
import { solve, type Coefficients, type Model } from 'yalps';
import { AttackerDecomposition } from './attacker-decomposition.js';
import { isUnknown, type CohortTable } from './table.js';

export type Measure = 'users' | 'active' | 'inactive';
export const MEASURES: readonly Measure[] = ['users', 'active', 'inactive'];

export interface Interval {
  readonly min: number;
  readonly max: number;
}

/** The objective of a measure of cell `id`, over its users (u) and active (a) variables. */
const objective = (measure: Measure, id: number): [string, number][] =>
  measure === 'users' ? [[`u${id}`, 1]] : measure === 'active' ? [[`a${id}`, 1]] : [[`u${id}`, 1], [`a${id}`, -1]];

/** The attacker's constraints over every unknown cell of the table (independent of the objective). */
function attackerModel(table: CohortTable): { constraints: Record<string, { equal: number } | { max: number } | { min: number }>; variables: Record<string, Record<string, number>> } {
  const { cells } = table;
  const constraints: Record<string, { equal: number } | { max: number } | { min: number }> = {};
  const variables: Record<string, Record<string, number>> = {};
  for (const [id, cell] of cells.entries()) {
    if (!isUnknown(cell)) continue;
    // active - users <= 0: nobody is active who is not counted.
    variables[`u${id}`] = { [`link${id}`]: -1 };
    variables[`a${id}`] = { [`link${id}`]: 1 };
    constraints[`link${id}`] = { max: 0 };
    // A cell's bounds (CohortCell.bounds): active within its own, inactive (users - active) within its own.
    const { bounds } = cell;
    if (bounds === undefined) continue;
    const inactive = cell.users - cell.active;
    variables[`a${id}`]![`ab${id}`] = 1;
    variables[`u${id}`]![`ib${id}`] = 1;
    variables[`a${id}`]![`ib${id}`] = -1;
    if (bounds.active.up < Number.POSITIVE_INFINITY) constraints[`ab${id}`] = { max: cell.active + bounds.active.up };
    if (bounds.inactive.up < Number.POSITIVE_INFINITY) constraints[`ib${id}`] = { max: inactive + bounds.inactive.up };
    if (bounds.active.down < cell.active) constraints[`abl${id}`] = { min: cell.active - bounds.active.down };
    if (bounds.inactive.down < inactive) constraints[`ibl${id}`] = { min: inactive - bounds.inactive.down };
    if (constraints[`abl${id}`] !== undefined) variables[`a${id}`]![`abl${id}`] = 1;
    if (constraints[`ibl${id}`] !== undefined) {
      variables[`u${id}`]![`ibl${id}`] = 1;
      variables[`a${id}`]![`ibl${id}`] = -1;
    }
  }
  table.relations.forEach((relation, r) => {
    const members = [[relation.total, -1] as const, ...relation.parts.map((p) => [p, 1] as const)];
    if (!members.some(([id]) => isUnknown(cells[id]!))) return;
    let knownUsers = 0;
    let knownActive = 0;
    for (const [id, sign] of members) {
      const cell = cells[id]!;
      if (isUnknown(cell)) {
        variables[`u${id}`]![`ru${r}`] = sign;
        variables[`a${id}`]![`ra${r}`] = sign;
      } else {
        knownUsers += sign * cell.users;
        knownActive += sign * cell.active;
      }
    }
    constraints[`ru${r}`] = { equal: -knownUsers };
    constraints[`ra${r}`] = { equal: -knownActive };
  });
  return { constraints, variables };
}

function bound(model: ReturnType<typeof attackerModel>, target: [string, number][], direction: 'minimize' | 'maximize'): number {
  const coefficients = new Map(target);
  const full: Model<string, string> = {
    direction,
    objective: 'target',
    constraints: model.constraints,
    variables: Object.fromEntries(
      Object.entries(model.variables).map(([name, c]): [string, Coefficients] => [name, coefficients.has(name) ? { ...c, target: coefficients.get(name)! } : c]),
    ),
  };
  const solution = solve(full);
  if (solution.status === 'unbounded') return Number.POSITIVE_INFINITY;
  if (solution.status !== 'optimal') throw new Error(`the attacker LP is ${solution.status}; the table is inconsistent`);
  return solution.result;
}

export interface AttackerOptions {
  /**
   * Solve the whole table's joint programme with yalps, as an attacker would write it, instead of its exact
   * decomposition (attacker-decomposition.ts). The reference the decomposition is tested against; slow.
   */
  readonly joint?: boolean;
}

/**
 * The tightest interval of one measure for each unknown cell (by index). Exact either way: by default from
 * the decomposed programme (measures, components, networks; non-network components of any size by their LP),
 * with `joint` from the one programme over all cells.
 */
export function attackerIntervals(table: CohortTable, measure: Measure, cellIds: readonly number[], options: AttackerOptions = {}): Map<number, Interval> {
  const out = new Map<number, Interval>();
  if (options.joint !== true) {
    const decomposition = new AttackerDecomposition(table, Number.POSITIVE_INFINITY);
    for (const id of cellIds) {
      if (measure !== 'users') out.set(id, decomposition.interval(id, measure));
      else {
        const active = decomposition.interval(id, 'active');
        const inactive = decomposition.interval(id, 'inactive');
        out.set(id, { min: active.min + inactive.min, max: active.max + inactive.max });
      }
    }
    return out;
  }
  const model = attackerModel(table);
  for (const id of cellIds) {
    const target = objective(measure, id);
    out.set(id, { min: bound(model, target, 'minimize'), max: bound(model, target, 'maximize') });
  }
  return out;
}
