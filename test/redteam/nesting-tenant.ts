/**
 * The nesting red team's tenant and reads (test/redteam/period-nesting*.test.ts, date-period-nesting.test.ts): one
 * Teams report over two windows of the same people (k = k_c = 5). DeptA (OfficeP) 15 people, DeptB (OfficeQ) 20,
 * DeptC (OfficeR) 30 all active, 12 outside the directory all active; how many of DeptA's and DeptB's are idle
 * differs by window, so that the shorter window releases what the longer one hides.
 */
import type { Test } from 'tap';
import type { Observed, TableLink } from '../helpers/independent-attacker.js';
import type { ProxyUnderTest } from '../helpers/proxy-stack.js';
import { KEYS } from '../helpers/proxy-stack.js';
import { TEAMS, type Person, type RandomTenant } from '../helpers/random-tenant.js';

/** One person: `idle` over the window, else active in everything (mail, files, video). */
export const nestingPerson = (idle: boolean): Person => ({ idle, mail: true, files: true, mobile: false, video: true });
/** `people` in a cross, the first `idle` of them `person(true)`. */
const cross = (people: number, idle: number, person: (idle: boolean) => Person) => ({ people: Array.from({ length: people }, (_, i) => person(i < idle)), ghosts: 0 });
const none = { people: [], ghosts: 0 };

/** The tenant over one window: `idleA` of DeptA's 15 and `idleB` of DeptB's 20 are `person(true)`. */
export function nestingTenant(idleA: number, idleB: number, person: (idle: boolean) => Person = nestingPerson): RandomTenant {
  return {
    departments: 3, offices: 3, k: 5, kC: 5, kOrg: 10,
    crosses: [cross(15, idleA, person), none, none, none, cross(20, idleB, person), none, none, none, cross(30, 0, person)],
    outsiders: Array.from({ length: 12 }, () => person(false)),
  };
}

/** What the attacker knows of the directory: three departments, each in its own office. */
export const NESTING_STRUCTURE = { departments: ['DeptA', 'DeptB', 'DeptC'], offices: ['OfficeP', 'OfficeQ', 'OfficeR'], occupied: new Set(['DeptA|OfficeP', 'DeptB|OfficeQ', 'DeptC|OfficeR']) };

/** A policy releasing the Teams cohorts by department over `windows` (YAML lines such as `periods: [D7, D30]`). */
export const nestingPolicy = (name: string, windows: string) => `name: ${name}
description: Exact Teams cohorts by department (red-team fixture).
consumers: [no-policy]
k: 5
kC: 5
${windows}
formats: [csv, json]
reports:
  ${TEAMS}:
    cohort:
      by: [organization, department]
`;

/** The nesting as the attacker reads it: `smaller`'s active people are among `larger`'s, and both list the same people. */
export const nestingLinks = (smaller: string, larger: string): TableLink[] => [
  { smaller: { table: smaller, measure: 'active' }, larger: { table: larger, measure: 'active' } },
  { smaller: { table: smaller, measure: 'users' }, larger: { table: larger, measure: 'users' } },
  { smaller: { table: larger, measure: 'users' }, larger: { table: smaller, measure: 'users' } },
];

/** The Teams cohorts of `window` (`period=D7`, `date=...`) as the stranger's consumer reads them, asserting 200. */
export async function readCohorts(t: Test, proxy: ProxyUnderTest, window: string): Promise<Observed> {
  const res = await proxy.get(`/cohorts/${TEAMS}?${window}&format=json`, KEYS.stranger);
  t.equal(res.status, 200, `${window} released`);
  const rows = (JSON.parse(res.body.toString()) as { value: { dimension: string; cohort: string[]; users: number | null; activeUsers: number | null }[] }).value;
  t.comment(`${window}: ${rows.map((r) => `${r.cohort.join('|')} ${r.users}/${r.activeUsers}`).join('; ')}`);
  return new Map(rows.map((r) => [`${r.dimension}/${r.cohort.join('|')}`, r.users === null ? null : { users: r.users, active: r.activeUsers! }]));
}
