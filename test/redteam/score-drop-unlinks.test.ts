/**
 * Red team (privacy.md's threat model: consumers "keep every response they ever got"; G1 for score cells, README
 * "Where the score is granted for a window, the Teams table and Meetings are suppressed as one"): the link holds
 * only while the live policy set grants the score. A policy change within one Graph refresh that takes the score
 * away (`permissions: [score]` dropped: an exposure decrease, nothing a reviewer stops) unlinks the Teams table, and
 * the next Teams cohort release of the same refresh is made with the plain Teams pattern, beside the Meetings cells
 * the consumer kept from the linked one.
 *
 * The tenant (k = k_c = 5, k_org = 10): DeptA (OfficeP) 15 people, 6 of them idle; DeptB (OfficeQ) 20, 6 idle;
 * DeptC (OfficeR) 30 and 12 outside the directory, all active; every active person was in meetings, on video.
 * Meetings by department hides DeptA (9 people in meetings, below k_org) and the 12 outside the directory; so does
 * the linked Teams release. After the reload the
 * Teams cohorts show every department (DeptA 15 listed, 9 active): people in Teams meetings are active Teams
 * users, so each hidden Meetings cell is capped by its Teams cell, and the caps sum to what the organisation's
 * Meetings cell leaves: DeptA's 9 people in meetings are read exactly.
 * Fixed: every release of a refresh is suppressed within the union of the tables the refresh's releases were made
 * within (cohort/tables-made.ts TablesMade); the test failed before (GPP_REDTEAM_TODO=run on 878e080).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { narrowedAcross } from '../helpers/independent-attacker.js';
import { startProxyFor } from '../helpers/proxy-stack.js';
import { directoryOf, TEAMS } from '../helpers/random-tenant.js';
import { NESTING_STRUCTURE, nestingTenant, periodReports, readCohorts, readScoreCategory } from './nesting-tenant.js';

t.setTimeout(180_000);


const TENANT = nestingTenant(6, 6);

const policy = (periods: string, permissions: string) => `name: teams-and-score
description: Teams cohorts and the org score by department (red-team fixture).
consumers: [no-policy]
k: 5
kC: 5
kOrg: 10
periods: [${periods}]
formats: [csv, json]
permissions: [${permissions}]
reports:
  ${TEAMS}:
    cohort:
      by: [organization, department]
`;

for (const periods of ['D30', 'D7, D30']) {
  t.test(`periods [${periods}]: Meetings kept from the linked set, the Teams cohorts read after a reload takes the score away within the refresh: no hidden Meetings cell is narrowed`, async (t) => {
    const reports = { ...(await periodReports(TENANT, 'D30')), ...(await periodReports(TENANT, 'D7')) };
    const double = await startGraphDouble({ reports, directory: directoryOf(TENANT) });
    const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-score-drop-'));
    const file = join(dir, 'teams-and-score.yaml');
    await writeFile(file, policy(periods, 'score'));
    const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
    t.teardown(async () => {
      await proxy.close();
      await double.close();
    });
    const meetings = await readScoreCategory(t, proxy, 'period=D30', 'meetings');
    const linked = await readCohorts(t, proxy, 'period=D30');
    t.equal(meetings.get('department/DeptA'), null, 'Meetings hides DeptA (9 people in meetings, below k_org)');
    // People in Teams meetings are active Teams users, cell by cell.
    const link = [{ smaller: { table: 'meetings', measure: 'users' as const }, larger: { table: 'teams', measure: 'active' as const } }];
    const attack = (teams: typeof linked) => narrowedAcross(NESTING_STRUCTURE, [{ name: 'meetings', observed: meetings, k: 10 }, { name: 'teams', observed: teams, k: 5 }], link, 5, false);
    t.same(attack(linked), [], 'linked, the Teams cohorts narrow no Meetings cell');
    const before = proxy.proxy.policies.current.version;
    await writeFile(file, policy(periods, ''));
    await proxy.proxy.policies.reload();
    t.not(proxy.proxy.policies.current.version, before, 'the set without the score is live');
    const later = await readCohorts(t, proxy, 'period=D30');
    const narrowed = attack(later);
    t.same(narrowed, [], `G1/G3: kept Meetings cells narrowed by the Teams cohorts of the same refresh: ${JSON.stringify(narrowed)}`);
  });
}
