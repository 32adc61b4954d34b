/**
 * A small refresh-pattern fixture for tests of cohort/tables-made.ts TablesMade shared through a store: one report's
 * refresh of today, its D30 table of three departments (10 people, 5 active each, all released), and helpers to hide
 * a department (as a suppression would: primary) and read the states by department.
 */
import type { PatternAt } from '../../src/cohort/tables-made.js';
import type { CohortTable } from '../../src/cohort/table.js';

export const REFRESH = { source: 'getTeamsUserActivityUserDetail', refreshDate: new Date().toISOString().slice(0, 10) };
export const AT: PatternAt = { ...REFRESH, window: 'D30', table: '' };

/** A fresh table of DeptA, DeptB and DeptC, every cell released. */
export const table = (): CohortTable => ({
  cells: ['DeptA', 'DeptB', 'DeptC'].map((d) => ({ dimension: 'department', key: [d], users: 10, active: 5, sums: [], state: 'released' })),
  relations: [],
  metrics: [],
});

/** A suppression (for TablesMade.withinPatterns) that hides `department` of `t` as below k. */
export const hide = (t: CohortTable, department: string) => () => {
  for (const cell of t.cells) if (cell.key[0] === department) cell.state = 'primary';
};

/** Each department's state. */
export const states = (t: CohortTable) => Object.fromEntries(t.cells.map((c) => [c.key[0], c.state]));
