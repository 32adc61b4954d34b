/**
 * An attacker written apart from the product (privacy.md G3 and the threat model: consumers know who is in which
 * department and office, keep every answer and may collude): given the cells released to one or several consumers
 * of one report and period, and the directory's structure (which department x office crosses are empty, and that
 * a department's people are the sum of its office crosses), it minimises and maximises each suppressed cell's
 * users, active and inactive people together (0 <= active <= users) with yalps, and rounds the bounds to whole
 * people, as a real attacker would. Independent of src/cohort/attacker-*.ts on purpose: it checks them.
 */
import { solve, type Coefficients, type Model } from 'yalps';
import { NOT_IN_DIRECTORY, type Truth } from './random-tenant.js';

/** What the attacker knows of the directory: its departments and offices, and which crosses hold anyone. */
export interface DirectoryStructure {
  readonly departments: readonly string[];
  readonly offices: readonly string[];
  /** `<department>|<office>` of every cross the directory has someone in. */
  readonly occupied: ReadonlySet<string>;
}

/** Released cells by key (`organization/all`, `department/<d>`, `officeLocation/<o>`, `cross/<d>|<o>`); null: suppressed. */
export type Observed = ReadonlyMap<string, Truth | null>;

/**
 * What a consumer reads of a product table (cohort/table.ts CohortTable: organisation, department and office
 * dimensions): its released cells by the attacker's keys, null where suppressed; its crosses are never released.
 */
export function observedOf(table: { readonly cells: readonly { readonly dimension: string; readonly key: readonly string[]; readonly state: string; readonly users: number; readonly active: number }[] }): Observed {
  return new Map(table.cells.filter((c) => c.dimension !== 'department x officeLocation' && c.state !== 'hidden').map((c) => [`${c.dimension}/${c.key.join('|')}`, c.state === 'released' ? { users: c.users, active: c.active } : null]));
}

export interface Narrowed {
  readonly cell: string;
  readonly measure: 'users' | 'active' | 'inactive';
  readonly min: number;
  readonly max: number;
}

/** Every cell of the attacker's model: the organisation, both marginals (with the outsiders) and every cross. */
function universe(d: DirectoryStructure): string[] {
  const cells = ['organization/all', ...[...d.departments, NOT_IN_DIRECTORY].map((x) => `department/${x}`), ...[...d.offices, NOT_IN_DIRECTORY].map((x) => `officeLocation/${x}`)];
  for (const dep of d.departments) for (const office of d.offices) cells.push(`cross/${dep}|${office}`);
  cells.push(`cross/${NOT_IN_DIRECTORY}|${NOT_IN_DIRECTORY}`);
  return cells;
}

/** total = sum(parts), as the directory's structure says. */
function relations(d: DirectoryStructure): { total: string; parts: string[] }[] {
  const out = [
    { total: 'organization/all', parts: [...d.departments, NOT_IN_DIRECTORY].map((x) => `department/${x}`) },
    { total: 'organization/all', parts: [...d.offices, NOT_IN_DIRECTORY].map((x) => `officeLocation/${x}`) },
    { total: `department/${NOT_IN_DIRECTORY}`, parts: [`cross/${NOT_IN_DIRECTORY}|${NOT_IN_DIRECTORY}`] },
    { total: `officeLocation/${NOT_IN_DIRECTORY}`, parts: [`cross/${NOT_IN_DIRECTORY}|${NOT_IN_DIRECTORY}`] },
  ];
  for (const dep of d.departments) out.push({ total: `department/${dep}`, parts: d.offices.map((o) => `cross/${dep}|${o}`) });
  for (const office of d.offices) out.push({ total: `officeLocation/${office}`, parts: d.departments.map((x) => `cross/${x}|${office}`) });
  return out;
}

/** One table the attacker reads (a report's cohorts, or one score category), with the k its cells are held to. */
export interface AttackedTable {
  readonly name: string;
  readonly observed: Observed;
  readonly k: number;
}

/**
 * A relation between two tables that holds in every cell by the published definitions: `smaller`'s measure never
 * exceeds `larger`'s (people in Teams meetings, a score category's denominator, are all active in Teams).
 */
export interface TableLink {
  readonly smaller: { readonly table: string; readonly measure: 'users' | 'active' };
  readonly larger: { readonly table: string; readonly measure: 'users' | 'active' };
  /** The cells it holds in (the attacker's keys, as Observed's); absent: every cell. */
  readonly holdsIn?: (cell: string) => boolean;
}

/**
 * The attacker's intervals for every suppressed cell of `observed` (whole people), and those narrower than the
 * guarantee: users narrower than k, active narrower than k_c, inactive narrower than k_c unless it is 0 for sure.
 * With the directory, the occupied department x office crosses are checked too: never released, they are still
 * groups of named people ("the two Sales people in Paris"), exposed when the attacker reads off them what G2 would
 * not release (fewer than k_c active, 1..k_c-1 inactive). `withDirectory` false gives the weaker attacker who
 * knows only the released marginals and their sums.
 */
export function narrowedCells(structure: DirectoryStructure, observed: Observed, k: number, kC: number, withDirectory = true): Narrowed[] {
  return narrowedAcross(structure, [{ name: '', observed, k }], [], kC, withDirectory);
}

/** The same over several tables of the same people at once, tied cell by cell by `links`; cells named `<table>: <cell>`. */
export function narrowedAcross(structure: DirectoryStructure, tables: readonly AttackedTable[], links: readonly TableLink[], kC: number, withDirectory = true): Narrowed[] {
  const cells = universe(structure).filter((cell) => withDirectory || !cell.startsWith('cross/'));
  const constraints = new Map<string, { equal: number } | { max: number }>();
  const variables = new Map<string, Map<string, number>>();
  const coefficient = (name: string, constraint: string, c: number) => {
    let v = variables.get(name);
    if (v === undefined) variables.set(name, (v = new Map()));
    v.set(constraint, (v.get(constraint) ?? 0) + c);
  };
  const u = (table: string, cell: string) => `u:${table}:${cell}`;
  const a = (table: string, cell: string) => `a:${table}:${cell}`;
  for (const { name: table, observed } of tables) {
    for (const cell of cells) {
      // active - users <= 0
      coefficient(u(table, cell), `link:${table}:${cell}`, -1);
      coefficient(a(table, cell), `link:${table}:${cell}`, 1);
      constraints.set(`link:${table}:${cell}`, { max: 0 });
      const emptyCross = cell.startsWith('cross/') && cell !== `cross/${NOT_IN_DIRECTORY}|${NOT_IN_DIRECTORY}` && !structure.occupied.has(cell.slice('cross/'.length));
      const known = observed.get(cell) ?? (emptyCross ? { users: 0, active: 0 } : undefined);
      if (known !== undefined) {
        coefficient(u(table, cell), `fixu:${table}:${cell}`, 1);
        coefficient(a(table, cell), `fixa:${table}:${cell}`, 1);
        constraints.set(`fixu:${table}:${cell}`, { equal: known.users });
        constraints.set(`fixa:${table}:${cell}`, { equal: known.active });
      }
    }
    relations(structure).forEach((relation, r) => {
      if (!withDirectory && relation.parts.some((part) => part.startsWith('cross/'))) return;
      for (const [m, name] of [['u', u], ['a', a]] as const) {
        coefficient(name(table, relation.total), `rel${m}:${table}:${r}`, -1);
        for (const part of relation.parts) coefficient(name(table, part), `rel${m}:${table}:${r}`, 1);
        constraints.set(`rel${m}:${table}:${r}`, { equal: 0 });
      }
    });
  }
  links.forEach((link, l) => {
    const name = (side: TableLink['smaller'], cell: string) => (side.measure === 'users' ? u : a)(side.table, cell);
    for (const cell of cells) {
      if (link.holdsIn !== undefined && !link.holdsIn(cell)) continue;
      coefficient(name(link.smaller, cell), `tie${l}:${cell}`, 1);
      coefficient(name(link.larger, cell), `tie${l}:${cell}`, -1);
      constraints.set(`tie${l}:${cell}`, { max: 0 });
    }
  });
  const bound = (target: [string, number][], direction: 'minimize' | 'maximize') => {
    const vars = new Map<string, Coefficients>();
    for (const [name, coefficients] of variables) vars.set(name, new Map(coefficients));
    for (const [name, c] of target) (vars.get(name) as Map<string, number>).set('objective', c);
    const model: Model = { direction, objective: 'objective', constraints, variables: vars };
    const solution = solve(model);
    if (solution.status === 'unbounded') return direction === 'maximize' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    if (solution.status !== 'optimal') throw new Error(`the attacker's programme is ${solution.status}: the released cells contradict the directory or each other`);
    return solution.result;
  };
  const out: Narrowed[] = [];
  for (const { name: table, observed, k } of tables) {
    const label = (cell: string) => (table === '' ? cell : `${table}: ${cell}`);
    // The crosses the directory says hold someone are groups the attacker can name too (never released: unknown).
    const hidden = withDirectory ? cells.filter((c) => c.startsWith('cross/') && !observed.has(c) && (c.includes(NOT_IN_DIRECTORY) || structure.occupied.has(c.slice('cross/'.length)))) : [];
    for (const [cell, seen] of [...observed, ...hidden.map((c) => [c, null] as const)]) {
      if (seen !== null) continue;
      const targets = { users: [[u(table, cell), 1]], active: [[a(table, cell), 1]], inactive: [[u(table, cell), 1], [a(table, cell), -1]] } as Record<Narrowed['measure'], [string, number][]>;
      const interval = (measure: Narrowed['measure']) => ({ min: Math.ceil(bound(targets[measure], 'minimize') - 1e-6), max: Math.floor(bound(targets[measure], 'maximize') + 1e-6) });
      if (!observed.has(cell)) {
        // A hidden group is exposed when its activity read off could not have been released (G2). Its size is not
        // checked: the directory tells the attacker how many people it has anyway.
        const [users, active, inactive] = [interval('users'), interval('active'), interval('inactive')];
        if (users.min >= 1 && active.max <= kC - 1) out.push({ cell: label(cell), measure: 'active', ...active });
        if (inactive.min >= 1 && inactive.max <= kC - 1) out.push({ cell: label(cell), measure: 'inactive', ...inactive });
        continue;
      }
      for (const measure of ['users', 'active', 'inactive'] as const) {
        const { min, max } = interval(measure);
        const need = measure === 'users' ? k : kC;
        if (max - min < need && !(measure === 'inactive' && max <= 0)) out.push({ cell: label(cell), measure, min, max });
      }
    }
  }
  return out;
}
