/**
 * Red team (privacy.md's threat model: consumers "keep every response they ever got" and "may vary the request:
 * cohort dimension"; G3): within one Graph refresh, a policy change that drops a dimension (officeLocation: an
 * exposure decrease, nothing a reviewer stops) makes a new release of the same report and period with a new
 * pattern (release-book.ts names a release by its settings), beside the department x office release the consumer
 * kept.
 *
 * The tenant (k = 4, k_c = 2, nobody outside the directory): DeptA 7 people (P 2/2 active, Q 4/2, R 1/1), DeptB 5
 * (P 2/1, Q 2/1, R 1/1), DeptC 5 (P 2/1, Q 3/2), DeptD 7 (P 2/1, Q 2/0, R 3/3). By department and office, the
 * release hides DeptB, DeptC and OfficeR; by department alone (after the reload) it shows DeptC (5, 3 active).
 * Joined with the kept office cells, DeptB's inactive people are pinned to 2 (k_c = 2 needs an interval of 2).
 * Fixed: every release of a refresh is suppressed within the union of the tables the refresh's releases were made
 * within (cohort/tables-made.ts TablesMade); the test failed before (GPP_REDTEAM_TODO=run on 878e080).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { narrowedCells } from '../helpers/independent-attacker.js';
import { KEYS, startProxyFor } from '../helpers/proxy-stack.js';
import { directoryDomain, directoryOf, tenantReports, TEAMS, type Person, type RandomTenant } from '../helpers/random-tenant.js';
import { rewriteColumn } from './helpers.js';
import { joined, readTeams } from './reload-helpers.js';

t.setTimeout(120_000);


const person = (idle: boolean): Person => ({ idle, mail: true, files: true, mobile: false, video: true });
/** `people` in a cross, `active` of them active. */
const cross = (people: number, active: number) => ({ people: Array.from({ length: people }, (_, i) => person(i >= active)), ghosts: 0 });
const none = { people: [], ghosts: 0 };
const TENANT: RandomTenant = {
  departments: 4, offices: 3, k: 4, kC: 2, kOrg: 10,
  crosses: [
    cross(2, 2), cross(4, 2), cross(1, 1),
    cross(2, 1), cross(2, 1), cross(1, 1),
    cross(2, 1), cross(3, 2), none,
    cross(2, 1), cross(2, 0), cross(3, 3),
  ],
  outsiders: [],
};

const policy = (by: string, periods: string, name = 'drop-office', consumer = 'no-policy') => `name: ${name}
description: Exact Teams cohorts (red-team fixture).
consumers: [${consumer}]
k: 4
kC: 2
periods: [${periods}]
formats: [csv, json]
reports:
  ${TEAMS}:
    cohort:
      by: [${by}]
`;

for (const periods of ['D30', 'D7, D30']) {
  t.test(`periods [${periods}]: office cells kept, department cells read again after a reload drops officeLocation within the refresh: no hidden cell is narrowed`, async (t) => {
    const csv = (await tenantReports(TENANT))[TEAMS]!.toString('utf8');
    const reports = { [`${TEAMS}(period='D30')`]: Buffer.from(csv), [`${TEAMS}(period='D7')`]: rewriteColumn(csv, 'Report Period', () => '7') };
    const double = await startGraphDouble({ reports, directory: directoryOf(TENANT) });
    const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-drop-office-'));
    const file = join(dir, 'drop-office.yaml');
    await writeFile(file, policy('organization, department, officeLocation', periods));
    const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
    t.teardown(async () => {
      await proxy.close();
      await double.close();
    });
    const kept = await readTeams(t, proxy, 'D30');
    const structure = directoryDomain(TENANT);
    t.same(narrowedCells(structure, kept, 4, 2), [], 'the kept release alone narrows nothing');
    const before = proxy.proxy.policies.current.version;
    await writeFile(file, policy('organization, department', periods));
    await proxy.proxy.policies.reload();
    t.not(proxy.proxy.policies.current.version, before, 'the narrower set is live');
    const later = await readTeams(t, proxy, 'D30');
    t.same(narrowedCells(structure, later, 4, 2), [], 'the later release alone narrows nothing');
    const narrowed = narrowedCells(structure, joined(kept, later), 4, 2);
    t.same(narrowed, [], `G3: hidden cells narrowed by the two releases of one refresh: ${JSON.stringify(narrowed)}`);
  });
}

/**
 * The same with two tools that may collude (privacy.md's threat model): one reads Teams cohorts by department, the
 * other by office; the organisation's table (jointCohortPlan) is by both. The office tool's policy is removed
 * within the refresh (an exposure decrease); the department tool's next release is by department alone.
 */
t.test('two tools: office cells kept by one, department cells read again by the other after the office tool\'s policy is removed within the refresh: no hidden cell is narrowed', async (t) => {
  const csv = (await tenantReports(TENANT))[TEAMS]!.toString('utf8');
  const double = await startGraphDouble({ reports: { [`${TEAMS}(period='D30')`]: Buffer.from(csv) }, directory: directoryOf(TENANT) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-drop-tool-'));
  await writeFile(join(dir, 'by-department.yaml'), policy('organization, department', 'D30', 'by-department'));
  const officeTool = join(dir, 'by-office.yaml');
  await writeFile(officeTool, policy('organization, officeLocation', 'D30', 'by-office', 'onboarding'));
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const kept = joined(await readTeams(t, proxy, 'D30'), await readTeams(t, proxy, 'D30', KEYS.onboarding));
  const structure = directoryDomain(TENANT);
  t.same(narrowedCells(structure, kept, 4, 2), [], 'the kept releases alone narrow nothing');
  const before = proxy.proxy.policies.current.version;
  await rm(officeTool);
  await proxy.proxy.policies.reload();
  t.not(proxy.proxy.policies.current.version, before, 'the set without the office tool is live');
  const later = await readTeams(t, proxy, 'D30');
  t.same(narrowedCells(structure, later, 4, 2), [], 'the later release alone narrows nothing');
  const narrowed = narrowedCells(structure, joined(kept, later), 4, 2);
  t.same(narrowed, [], `G3: hidden cells narrowed by the releases of one refresh: ${JSON.stringify(narrowed)}`);
});
