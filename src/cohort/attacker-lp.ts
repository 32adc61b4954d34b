/**
 * The attacker's linear programme (privacy.md G3): given every released cell and the relations between
 * cells, and non-negativity, how far can each unreleased cell's value be narrowed? Solved with yalps
 * (minimise and maximise each unknown).
 */
import { solve, type Model } from 'yalps';
import { isUnknown, type CohortTable } from './table.js';

export type Measure = 'users' | 'active';

export interface Interval {
  readonly min: number;
  readonly max: number;
}

/** The tightest interval for each unknown cell (by index) of one measure. */
export function attackerIntervals(table: CohortTable, measure: Measure, cellIds: readonly number[]): Map<number, Interval> {
  const { cells } = table;
  const constraints: Record<string, { equal: number }> = {};
  const variables: Record<string, Record<string, number>> = {};
  for (const [id, cell] of cells.entries()) if (isUnknown(cell)) variables[`c${id}`] = {};
  table.relations.forEach((relation, r) => {
    const members = [[relation.total, -1] as const, ...relation.parts.map((p) => [p, 1] as const)];
    if (!members.some(([id]) => isUnknown(cells[id]!))) return;
    let known = 0;
    for (const [id, sign] of members) {
      const cell = cells[id]!;
      if (isUnknown(cell)) variables[`c${id}`]![`r${r}`] = sign;
      else known += sign * cell[measure];
    }
    constraints[`r${r}`] = { equal: -known };
  });
  const out = new Map<number, Interval>();
  for (const id of cellIds) {
    const bound = (direction: 'minimize' | 'maximize'): number => {
      const model: Model = {
        direction,
        objective: 'target',
        constraints,
        variables: Object.fromEntries(Object.entries(variables).map(([name, coefficients]) => [name, name === `c${id}` ? { ...coefficients, target: 1 } : coefficients])),
      };
      const solution = solve(model);
      if (solution.status === 'unbounded') return Number.POSITIVE_INFINITY;
      if (solution.status !== 'optimal') throw new Error(`the attacker LP is ${solution.status}; the table is inconsistent`);
      return solution.result;
    };
    out.set(id, { min: bound('minimize'), max: bound('maximize') });
  }
  return out;
}
