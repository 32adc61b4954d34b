/**
 * The nesting red team's tenant and reads (test/redteam/period-nesting*.test.ts, date-period-nesting.test.ts, the
 * score-*.test.ts): one
 * Teams report over two windows of the same people (k = k_c = 5). DeptA (OfficeP) 15 people, DeptB (OfficeQ) 20,
 * DeptC (OfficeR) 30 all active, 12 outside the directory all active; how many of DeptA's and DeptB's are idle
 * differs by window, so that the shorter window releases what the longer one hides.
 */
import type { Test } from 'tap';
import type { Observed, TableLink } from '../helpers/independent-attacker.js';
import type { ProxyUnderTest } from '../helpers/proxy-stack.js';
import { KEYS } from '../helpers/proxy-stack.js';
import { tenantReports, TEAMS, type Person, type RandomTenant } from '../helpers/random-tenant.js';
import { rewriteColumn } from './helpers.js';

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

/** Every report of `tenant` for `period` (Graph's call form: `name(period='D7')`), its Report Period column rewritten. */
export async function periodReports(tenant: RandomTenant, period: 'D7' | 'D30'): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const [name, csv] of Object.entries(await tenantReports(tenant))) {
    const text = csv.toString('utf8');
    out[`${name}(period='${period}')`] = text.includes('Report Period') ? rewriteColumn(text, 'Report Period', () => period.slice(1)) : csv;
  }
  return out;
}

type Category = { id: string; numerator: number | null; denominator: number | null };
type ScoreBody = { organization: { categories: Category[] }; cohorts?: { cohort: string[]; categories: Category[] }[] };

/**
 * One score category by `by` (default department; `query`: `period=D7`, `date=...`) as the attacker's cells: people
 * counted as users, qualifying as active, null where hidden; asserts 200.
 */
export async function readScoreCategory(t: Test, proxy: ProxyUnderTest, query: string, category: string, by = 'department'): Promise<Observed> {
  const res = await proxy.get(`/org-score?${query}&by=${by}`, KEYS.stranger);
  t.equal(res.status, 200, `${query} score released`);
  const body = JSON.parse(res.body.toString()) as ScoreBody;
  const of = (categories: Category[]) => {
    const c = categories.find((x) => x.id === category)!;
    return c.numerator === null || c.denominator === null ? null : { users: c.denominator, active: c.numerator };
  };
  const cells: [string, ReturnType<typeof of>][] = [['organization/all', of(body.organization.categories)], ...(body.cohorts ?? []).map((r) => [`${by}/${r.cohort.join('|')}`, of(r.categories)] as [string, ReturnType<typeof of>])];
  t.comment(`${query} ${category}: ${cells.map(([k, v]) => `${k} ${v === null ? 'hidden' : `${v.active}/${v.users}`}`).join('; ')}`);
  return new Map(cells);
}
