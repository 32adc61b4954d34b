/**
 * Red team (privacy.md's threat model: consumers "may vary the request: report, period, date"): a report's periods
 * are suppressed as one table (cohort/suppress.ts suppressNested), but single dates (`date=`) are not grouped with
 * them, and a day nests in the period that holds it as D7 does in D30: whoever was active on a day of the last 7
 * was active over the last 7, and the day's report lists the same people. A consumer allowed a period and single
 * dates (the policy's `dates: true`) joins them.
 *
 * The tenant (k = k_c = 5): DeptA 15 people, 3 idle over the last 7 days and 5 on yesterday; DeptB 20 people, 4
 * and 5; DeptC 30 and 12 people outside the directory, all active. D7 hides DeptA and DeptB (3 and 4 inactive,
 * G2) and releases the organisation (7 inactive): alone, DeptA's inactive people are 0..7. Yesterday's release
 * shows every cell (5 inactive each). Joined: DeptB has at most 5 inactive over the 7 days, so DeptA has 2..5.
 * Fixed: a single day's cohorts of a report whose cohorts are released for periods are the organisation's only
 * (policy/decide.ts dayNestsInPeriods); asked by a dimension, 403 saying why.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { narrowedAcross, type Observed } from '../helpers/independent-attacker.js';
import { KEYS, startProxyFor } from '../helpers/proxy-stack.js';
import { directoryOf, tenantReports, TEAMS, type Person, type RandomTenant } from '../helpers/random-tenant.js';
import { rewriteColumn } from './helpers.js';

t.setTimeout(120_000);

const person = (idle: boolean): Person => ({ idle, mail: true, files: true, mobile: false, video: true });
/** `people` in a cross, the first `idle` of them idle over the window. */
const cross = (people: number, idle: number) => ({ people: Array.from({ length: people }, (_, i) => person(i < idle)), ghosts: 0 });
const none = { people: [], ghosts: 0 };
const tenant = (idleA: number, idleB: number): RandomTenant => ({
  departments: 3, offices: 3, k: 5, kC: 5, kOrg: 10,
  crosses: [cross(15, idleA), none, none, none, cross(20, idleB), none, none, none, cross(30, 0)],
  outsiders: Array.from({ length: 12 }, () => person(false)),
});
/** Over the last 7 days: 3 and 4 idle. */
const D7 = tenant(3, 4);
/** On one day of them: 5 and 5 idle. */
const DAY = tenant(5, 5);

const POLICY = `name: period-and-days
description: Exact Teams cohorts by department over the last 7 days and single days (red-team fixture).
consumers: [no-policy]
k: 5
kC: 5
periods: [D7]
dates: true
formats: [csv, json]
reports:
  ${TEAMS}:
    cohort:
      by: [organization, department]
`;

const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

t.test('D7 and yesterday\'s cohorts, released apart: joined by their nesting, a hidden D7 cell\'s inactive people are narrowed', async (t) => {
  const seven = rewriteColumn((await tenantReports(D7))[TEAMS]!.toString('utf8'), 'Report Period', () => '7');
  const day = rewriteColumn((await tenantReports(DAY))[TEAMS]!.toString('utf8'), 'Report Period', () => '1');
  const double = await startGraphDouble({ reports: { [`${TEAMS}(period='D7')`]: seven, [`${TEAMS}(date=${yesterday})`]: day }, directory: directoryOf(D7) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-days-'));
  await writeFile(join(dir, 'period-and-days.yaml'), POLICY);
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const read = async (window: string): Promise<Observed> => {
    const res = await proxy.get(`/cohorts/${TEAMS}?${window}&format=json`, KEYS.stranger);
    t.equal(res.status, 200, `${window} released`);
    const rows = (JSON.parse(res.body.toString()) as { value: { dimension: string; cohort: string[]; users: number | null; activeUsers: number | null }[] }).value;
    t.comment(`${window}: ${rows.map((r) => `${r.cohort.join('|')} ${r.users}/${r.activeUsers}`).join('; ')}`);
    return new Map(rows.map((r) => [`${r.dimension}/${r.cohort.join('|')}`, r.users === null ? null : { users: r.users, active: r.activeUsers! }]));
  };
  const [d7, one] = [await read('period=D7'), await read(`date=${yesterday}`)];
  t.equal(d7.get('department/DeptA'), null, 'D7 hides DeptA (3 of 15 inactive)');
  const structure = { departments: ['DeptA', 'DeptB', 'DeptC'], offices: ['OfficeP', 'OfficeQ', 'OfficeR'], occupied: new Set(['DeptA|OfficeP', 'DeptB|OfficeQ', 'DeptC|OfficeR']) };
  t.same(narrowedAcross(structure, [{ name: 'D7', observed: d7, k: 5 }], [], 5, false), [], 'D7 alone narrows nothing');
  // The same people on the day and over the 7 days; active on the day => active over the 7 days.
  const nested = narrowedAcross(structure, [{ name: 'D7', observed: d7, k: 5 }, { name: 'day', observed: one, k: 5 }], [
    { smaller: { table: 'day', measure: 'active' }, larger: { table: 'D7', measure: 'active' } },
    { smaller: { table: 'day', measure: 'users' }, larger: { table: 'D7', measure: 'users' } },
    { smaller: { table: 'D7', measure: 'users' }, larger: { table: 'day', measure: 'users' } },
  ], 5, false).filter((n) => n.measure !== 'users'); // users: the day releases the same count
  t.same(nested, [], `G2/G3: D7 cells narrowed by a day: ${JSON.stringify(nested)}`);
  t.same([...one.keys()], ['organization/all'], "the day: the organisation's figures only");
  const byDepartment = await proxy.get(`/cohorts/${TEAMS}?date=${yesterday}&by=department&format=json`, KEYS.stranger);
  t.equal(byDepartment.status, 403, 'a day by department is refused');
  t.match(JSON.parse(byDepartment.body.toString()), { error: { message: /released for the organisation only: its periods are released too/ } });
});
