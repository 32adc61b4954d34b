/**
 * Red team (privacy.md's threat model: consumers "keep every response they ever got" and "may vary the request:
 * report, period"): a report's periods are one table only while the live policy set releases them together
 * (policy/decide.ts jointCohortPlan `periods`). A policy change that *narrows* a consumer's exposure (D30 dropped
 * from its periods: the reload's diff counts it an exposure decrease, nothing a reviewer stops) ends the group, and
 * within the same Graph refresh D7 is released again under the new settings (release-book.ts names a release by
 * its settings, so the new set's D7 is a fresh release), alone. The D30 release the consumer kept was suppressed
 * with D7's grouped pattern; the new D7 shows what that pattern hid.
 *
 * The tenant is test/redteam/period-nesting.test.ts's (k = k_c = 5): DeptA 15 people, 3 idle for 30 days and 5
 * for the last 7; DeptB 20 people, 4 and 5; DeptC 30 and 12 outside the directory, all active. Grouped, D30 and
 * D7 hide DeptA and DeptB. Before the fix, D7 alone after the reload released every cell (5 inactive each), and the
 * kept D30 (organisation 7 inactive) gave DeptA's inactive people over 30 days as 2..5. Now a refresh's releases
 * stay within the group they were first made in (cohort/tables-made.ts TablesMade) until Graph's next
 * refresh: D7 is suppressed with D30 as before the reload.
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

t.setTimeout(180_000);

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

const policy = (periods: string) => `name: two-periods
description: Exact Teams cohorts by department (red-team fixture).
consumers: [no-policy]
k: 5
kC: 5
periods: [${periods}]
formats: [csv, json]
reports:
  ${TEAMS}:
    cohort:
      by: [organization, department]
`;

t.test('D30 kept from the grouped set, D7 read again after a reload drops D30 within the refresh: no hidden D30 cell is narrowed', async (t) => {
  const reports = {
    [`${TEAMS}(period='D30')`]: (await tenantReports(D30))[TEAMS]!,
    [`${TEAMS}(period='D7')`]: rewriteColumn((await tenantReports(D7))[TEAMS]!.toString('utf8'), 'Report Period', () => '7'),
  };
  const double = await startGraphDouble({ reports, directory: directoryOf(D30) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-group-reload-'));
  const file = join(dir, 'two-periods.yaml');
  await writeFile(file, policy('D7, D30'));
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const read = async (period: string): Promise<Observed> => {
    const res = await proxy.get(`/cohorts/${TEAMS}?period=${period}&format=json`, KEYS.stranger);
    t.equal(res.status, 200, `${period} released`);
    const rows = (JSON.parse(res.body.toString()) as { value: { dimension: string; cohort: string[]; users: number | null; activeUsers: number | null }[] }).value;
    t.comment(`${period}: ${rows.map((r) => `${r.cohort.join('|')} ${r.users}/${r.activeUsers}`).join('; ')}`);
    return new Map(rows.map((r) => [`${r.dimension}/${r.cohort.join('|')}`, r.users === null ? null : { users: r.users, active: r.activeUsers! }]));
  };
  const d30 = await read('D30');
  const grouped = await read('D7');
  t.equal(d30.get('department/DeptA'), null, 'D30 hides DeptA (3 of 15 inactive)');
  t.equal(grouped.get('department/DeptA'), null, 'and D7 with it while they are one table');
  // The policy's owner drops D30 (less exposure); the same refresh is still Graph's.
  const before = proxy.proxy.policies.current.version;
  await writeFile(file, policy('D7'));
  await proxy.proxy.policies.reload();
  t.not(proxy.proxy.policies.current.version, before, 'the narrower set is live');
  const d7 = await read('D7');
  const structure = { departments: ['DeptA', 'DeptB', 'DeptC'], offices: ['OfficeP', 'OfficeQ', 'OfficeR'], occupied: new Set(['DeptA|OfficeP', 'DeptB|OfficeQ', 'DeptC|OfficeR']) };
  const nested = narrowedAcross(structure, [{ name: 'D30', observed: d30, k: 5 }, { name: 'D7', observed: d7, k: 5 }], [
    { smaller: { table: 'D7', measure: 'active' }, larger: { table: 'D30', measure: 'active' } },
    { smaller: { table: 'D7', measure: 'users' }, larger: { table: 'D30', measure: 'users' } },
    { smaller: { table: 'D30', measure: 'users' }, larger: { table: 'D7', measure: 'users' } },
  ], 5, false);
  t.same(nested, [], `G2/G3: the kept D30's cells narrowed by the new D7: ${JSON.stringify(nested)}`);
});
