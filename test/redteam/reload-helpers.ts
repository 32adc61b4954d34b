/**
 * What the reload red-team tests share (a policy change within one Graph refresh: cohort/tables-made.ts
 * TablesMade): their tenants, the Teams cohorts and the org score's Content collaboration a consumer reads, and
 * what a consumer who keeps every release of one refresh knows of them.
 */
import type { Test } from 'tap';
import type { Observed } from '../helpers/independent-attacker.js';
import { KEYS, type ProxyUnderTest } from '../helpers/proxy-stack.js';
import { tenantReports, TEAMS, type Person, type RandomTenant } from '../helpers/random-tenant.js';
import { rewriteColumn } from './helpers.js';
import { readScoreCategory } from './nesting-tenant.js';

/** The Teams cohorts of `period` as the consumer of `key` reads them (every dimension its policy declares), asserting 200. */
export async function readTeams(t: Test, proxy: ProxyUnderTest, period: string, key: string = KEYS.stranger): Promise<Observed> {
  const res = await proxy.get(`/cohorts/${TEAMS}?period=${period}&format=json`, key);
  t.equal(res.status, 200, `${period} released`);
  const rows = (JSON.parse(res.body.toString()) as { value: { dimension: string; cohort: string[]; users: number | null; activeUsers: number | null }[] }).value;
  t.comment(`${period}: ${rows.map((r) => `${r.dimension}/${r.cohort.join('|')} ${r.users}/${r.activeUsers}`).join('; ')}`);
  return new Map(rows.map((r) => [`${r.dimension}/${r.cohort.join('|')}`, r.users === null ? null : { users: r.users, active: r.activeUsers! }]));
}

/** Every cell any of the releases shows (the consumer keeps them all); hidden only where all hide it. */
export function joined(...releases: Observed[]): Observed {
  const out = new Map<string, Observed extends ReadonlyMap<string, infer V> ? V : never>();
  for (const release of releases) for (const [cell, value] of release) if (value !== null || !out.has(cell)) out.set(cell, value ?? out.get(cell) ?? null);
  return out;
}

/** Active in everything; `without` (idle, or without files) as the tenant's activity needs. */
type PersonOf = (without: boolean) => Person;
/** Idle over the window, else active (the Teams cohorts' activity). */
export const idlePerson: PersonOf = (idle) => ({ idle, mail: true, files: true, mobile: false, video: true });
/** Without files over the window, else working with them (Content collaboration's qualifying). */
export const filesPerson: PersonOf = (without) => ({ idle: false, mail: true, files: !without, mobile: true, video: true });
/** `people` in a cross, the first `active` of them active (`person(false)`). */
const cross = (people: number, active: number, person: PersonOf) => ({ people: Array.from({ length: people }, (_, i) => person(i >= active)), ghosts: 0 });

/**
 * kc-drop-reload's tenant (k = 4; nobody outside the directory): DeptA 11 people (OfficeP 4/3 active, OfficeQ 7/6),
 * DeptB 13 (P 9/8, Q 4/4), DeptC 9 (P 3/2, Q 6/4). At k_c = 2 the cohorts by department and office hide DeptB (1
 * inactive) and DeptC; at k_c = 3 they show DeptC and hide DeptA and DeptB.
 */
export const kcTenant = (person: PersonOf): RandomTenant => ({
  departments: 3, offices: 2, k: 4, kC: 2, kOrg: 4,
  crosses: [cross(4, 3, person), cross(7, 6, person), cross(9, 8, person), cross(4, 4, person), cross(3, 2, person), cross(6, 4, person)],
  outsiders: [],
});

/**
 * dimension-drop-reload's tenant (k = 4, k_c = 2, nobody outside the directory), `person` making a cross's active
 * people (files by default, for the score's Content collaboration; idlePerson for the Teams cohorts): DeptA 7 people
 * (P 2/2 active, Q 4/2, R 1/1), DeptB 5 (P 2/1, Q 2/1, R 1/1), DeptC 5 (P 2/1, Q 3/2), DeptD 7 (P 2/1, Q 2/0, R 3/3).
 */
export function officeDropTenant(person: PersonOf = filesPerson, kOrg = 4): RandomTenant {
  const none = { people: [], ghosts: 0 };
  const c = (people: number, active: number) => cross(people, active, person);
  return {
    departments: 4, offices: 3, k: 4, kC: 2, kOrg,
    crosses: [c(2, 2), c(4, 2), c(1, 1), c(2, 1), c(2, 1), c(1, 1), c(2, 1), c(3, 2), none, c(2, 1), c(2, 0), c(3, 3)],
    outsiders: [],
  };
}

/** A policy `name` of exact Teams cohorts by `by` (a YAML list's items), k 4 and k_c 2 (officeDropTenant's, kcTenant's), for the stranger ('no-policy'). */
export const exactTeamsPolicy = (name: string, by: string) => `name: ${name}
description: Exact Teams cohorts (red-team fixture).
consumers: [no-policy]
k: 4
kC: 2
periods: [D30]
formats: [csv, json]
reports:
  ${TEAMS}:
    cohort:
      by: [${by}]
`;

/** The D30 score's Content collaboration by `by` as the stranger reads it (nesting-tenant.ts readScoreCategory). */
export const readContentCollaboration = (t: Test, proxy: ProxyUnderTest, by: string): Promise<Observed> => readScoreCategory(t, proxy, 'period=D30', 'contentCollaboration', by);

/** A policy granting `consumer` the org score (and e-mail cohorts) by `by` over D30, with `settings` (YAML lines: k, kC, kOrg). */
export const scorePolicy = (name: string, by: string, settings: string) => `name: ${name}
description: The org score by department and office (red-team fixture).
consumers: [no-policy]
${settings}
periods: [D30]
formats: [csv, json]
permissions: [score]
reports:
  getEmailActivityUserDetail:
    cohort:
      by: [${by}]
`;

/** A policy releasing exact Teams cohorts by department and office to `consumer`, at k = 4 and `kC`, over `periods` (YAML list items). */
export const teamsPolicy = (name: string, consumer: string, kC: number, periods: string) => `name: ${name}
description: Exact Teams cohorts by department and office (red-team fixture).
consumers: [${consumer}]
k: 4
kC: ${kC}
periods: [${periods}]
formats: [csv, json]
reports:
  ${TEAMS}:
    cohort:
      by: [organization, department, officeLocation]
`;

/** The tenant's Teams report as Graph serves it for D30 and, with the same rows, for D7. */
export async function teamsPeriodReports(tenant: RandomTenant): Promise<Record<string, Buffer>> {
  const csv = (await tenantReports(tenant))[TEAMS]!.toString('utf8');
  return { [`${TEAMS}(period='D30')`]: Buffer.from(csv), [`${TEAMS}(period='D7')`]: rewriteColumn(csv, 'Report Period', () => '7') };
}
