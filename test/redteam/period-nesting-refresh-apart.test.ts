/**
 * Red team (privacy.md's threat model: consumers "may vary the request: report, period" and "keep every response
 * they ever got"): a report's periods are suppressed as one table (cohort/release.ts suppressPeriods), but a
 * period whose snapshot holds another refresh date is left out of the group, and the release made then is served
 * unchanged for its whole epoch (release-book.ts). Graph refreshes the periods of a report one call at a time
 * (each `period=` is its own download, "usually available within 48 hours", graph-reports.md), and the proxy's
 * snapshot of one period may be a refresh behind another's (its own TTL). So D7 of the new refresh date is
 * released alone while D30's snapshot is still yesterday's; once D30 is refreshed, D30 is released with D7 as one
 * table, whose verdict on D7 differs from the D7 release already served. The consumer joins the two.
 *
 * The tenant is test/redteam/period-nesting.test.ts's (k = k_c = 5): DeptA 15 people, 3 idle for 30 days and 5 for
 * the last 7; DeptB 20 people, 4 and 5; DeptC 30 and 12 outside the directory, all active. D7 alone releases every
 * cell (5 inactive each); D30, grouped, hides DeptA and DeptB and releases the organisation (7 inactive). Joined:
 * DeptA's inactive people over 30 days are 2..5, the attack the grouping fixed for periods refreshed together.
 * Fixed: a period whose group holds another refresh date is fetched again, and while the dates differ nothing of
 * the group is released (503 PeriodsRefreshing, Retry-After); once they agree, the group is made from one refresh.
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
const D30 = tenant(3, 4);
const D7 = tenant(5, 5);

const POLICY = `name: two-periods
description: Exact Teams cohorts by department over the last 7 and 30 days (red-team fixture).
consumers: [no-policy]
k: 5
kC: 5
periods: [D7, D30]
formats: [csv, json]
reports:
  ${TEAMS}:
    cohort:
      by: [organization, department]
`;

const dayBefore = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

t.test('D7 asked for while D30\'s snapshot is a refresh behind: nothing released until they agree, then one table', async (t) => {
  const thirty = (await tenantReports(D30))[TEAMS]!;
  const seven = rewriteColumn((await tenantReports(D7))[TEAMS]!.toString('utf8'), 'Report Period', () => '7');
  // Graph has refreshed D7; its D30 download still holds the previous refresh date (yesterday's data).
  const reports: Record<string, Buffer> = {
    [`${TEAMS}(period='D30')`]: rewriteColumn(thirty.toString('utf8'), 'Report Refresh Date', dayBefore),
    [`${TEAMS}(period='D7')`]: seven,
  };
  const double = await startGraphDouble({ reports, directory: directoryOf(D30) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-periods-apart-'));
  await writeFile(join(dir, 'two-periods.yaml'), POLICY);
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir, snapshotTtlSeconds: 0 } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const behind = await proxy.get(`/cohorts/${TEAMS}?period=D7&format=json`, KEYS.stranger);
  t.equal(behind.status, 503, 'D7 is not released alone while D30 is a refresh behind');
  t.equal(behind.headers['retry-after'], '300');
  t.match(JSON.parse(behind.body.toString()), { error: { code: 'ServiceUnavailable', message: /not yet refreshed all the periods of this report/ } });
  t.notMatch((JSON.parse(behind.body.toString()) as { error: { message: string } }).error.message, /DeptA|\d{4}-\d{2}-\d{2}/, 'nothing of the data in the answer');
  const read = async (period: string): Promise<Observed> => {
    const res = await proxy.get(`/cohorts/${TEAMS}?period=${period}&format=json`, KEYS.stranger);
    t.equal(res.status, 200, `${period} released`);
    const rows = (JSON.parse(res.body.toString()) as { value: { dimension: string; cohort: string[]; users: number | null; activeUsers: number | null; reportRefreshDate?: string }[] }).value;
    t.comment(`${period}: ${rows.map((r) => `${r.cohort.join('|')} ${r.users}/${r.activeUsers}`).join('; ')}`);
    return new Map(rows.map((r) => [`${r.dimension}/${r.cohort.join('|')}`, r.users === null ? null : { users: r.users, active: r.activeUsers! }]));
  };
  // Graph's D30 download catches up with the same refresh date as D7's.
  reports[`${TEAMS}(period='D30')`] = thirty;
  const d7 = await read('D7');
  const d30 = await read('D30');
  t.equal(d30.get('department/DeptA'), null, 'D30 hides DeptA (3 of 15 inactive)');
  t.equal(d7.get('department/DeptA'), null, 'and D7 with it');
  const structure = { departments: ['DeptA', 'DeptB', 'DeptC'], offices: ['OfficeP', 'OfficeQ', 'OfficeR'], occupied: new Set(['DeptA|OfficeP', 'DeptB|OfficeQ', 'DeptC|OfficeR']) };
  const nested = narrowedAcross(structure, [{ name: 'D30', observed: d30, k: 5 }, { name: 'D7', observed: d7, k: 5 }], [
    { smaller: { table: 'D7', measure: 'active' }, larger: { table: 'D30', measure: 'active' } },
    { smaller: { table: 'D7', measure: 'users' }, larger: { table: 'D30', measure: 'users' } },
    { smaller: { table: 'D30', measure: 'users' }, larger: { table: 'D7', measure: 'users' } },
  ], 5, false);
  t.same(nested, [], `G2/G3: D30 cells narrowed by D7: ${JSON.stringify(nested)}`);
});
