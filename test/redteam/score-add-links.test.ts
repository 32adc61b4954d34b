/**
 * Red team (privacy.md's threat model: consumers "keep every response they ever got"; the policy owner may change
 * policies at any time; G1/G3 for score cells, README "Where a policy set grants the score for a window, the Teams
 * table and Meetings are suppressed as one"): score-drop-unlinks.test.ts the other way round. Within one Graph
 * refresh the Teams cohorts are released alone (no policy grants the score); the owner then grants the score (the
 * link is added). The linked table starts from the cells the Teams release hid (cohort/tables-made.ts
 * TablesMade.withinPatterns), so every later Teams release shows a part of the first; but Meetings is a table no
 * release of the refresh made before, and its first pattern is checked only beside the linked Teams release, not
 * beside the Teams release the consumer kept, which shows the very Teams cells the link hides.
 *
 * The tenant is score-drop-unlinks's (k = k_c = 5, k_org = 10): DeptA (OfficeP) 15 people, 6 of them idle; DeptB
 * (OfficeQ) 20, 6 idle; DeptC (OfficeR) 30 and 12 outside the directory, all active; every active person was in
 * meetings, on video. Alone, the Teams cohorts show every department (DeptA 15 listed, 9 active). Linked, Meetings
 * hides DeptA (9 in meetings, below k_org) and the 12 outside the directory; people in Teams meetings are active
 * Teams users, so the kept Teams cells cap both, and the caps sum to what the organisation's Meetings cell leaves:
 * DeptA's 9 people in meetings are read exactly. The refresh's shown cells are now kept (cohort/tables-made.ts
 * TablesMade.withinPatterns): the linked release would hide Teams cells shown before and show Meetings cells never
 * shown, so it shows no Meetings cell, and adds nothing to what the kept Teams cohorts imply (the first test; it
 * failed before). What they imply alone, DeptA's people in meetings within 0..9, still fails the strict check (todo).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { narrowedAcross, type Observed } from '../helpers/independent-attacker.js';
import { startProxyFor } from '../helpers/proxy-stack.js';
import { directoryOf, TEAMS } from '../helpers/random-tenant.js';
import { NESTING_STRUCTURE, nestingTenant, periodReports, readCohorts, readScoreCategory } from './nesting-tenant.js';

t.setTimeout(180_000);

const todo = (finding: string) => (process.env.GPP_REDTEAM_TODO === 'run' ? false : finding);

const TENANT = nestingTenant(6, 6);

const policy = (permissions: string) => `name: teams-and-score
description: Teams cohorts and the org score by department (red-team fixture).
consumers: [no-policy]
k: 5
kC: 5
kOrg: 10
periods: [D30]
formats: [csv, json]
permissions: [${permissions}]
reports:
  ${TEAMS}:
    cohort:
      by: [organization, department]
`;

/** The Teams cohorts kept from the set without the score; then, after a reload grants it, Meetings and the linked Teams cohorts read. */
async function afterTheScoreIsGranted(t: Test) {
  const double = await startGraphDouble({ reports: await periodReports(TENANT, 'D30'), directory: directoryOf(TENANT) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-score-add-'));
  const file = join(dir, 'teams-and-score.yaml');
  await writeFile(file, policy(''));
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const kept = await readCohorts(t, proxy, 'period=D30');
  t.same(kept.get('department/DeptA'), { users: 15, active: 9 }, 'alone, the Teams cohorts show DeptA (15 listed, 9 active)');
  const before = proxy.proxy.policies.current.version;
  await writeFile(file, policy('score'));
  await proxy.proxy.policies.reload();
  t.not(proxy.proxy.policies.current.version, before, 'the set granting the score is live');
  const meetings = await readScoreCategory(t, proxy, 'period=D30', 'meetings');
  const linked = await readCohorts(t, proxy, 'period=D30');
  // People in Teams meetings are active Teams users, cell by cell.
  const link = [{ smaller: { table: 'meetings', measure: 'users' as const }, larger: { table: 'teams', measure: 'active' as const } }];
  const attack = (teams: Observed, seen: Observed = meetings) => narrowedAcross(NESTING_STRUCTURE, [{ name: 'meetings', observed: seen, k: 10 }, { name: 'teams', observed: teams, k: 5 }], link, 5, false);
  return { kept, meetings, linked, attack };
}

t.test('the Teams cohorts kept from the set without the score, Meetings read after a reload grants the score within the refresh: Meetings narrows no cell beyond what the kept Teams cohorts alone do', async (t) => {
  const { kept, meetings, linked, attack } = await afterTheScoreIsGranted(t);
  t.same(attack(linked), [], 'beside the linked Teams release, Meetings narrows nothing');
  // Every Meetings cell hidden: what the kept Teams cohorts say of Meetings by the published definitions alone.
  const alone = attack(kept, new Map([...meetings.keys()].map((cell) => [cell, null])));
  t.same(attack(kept), alone, `G1/G3: beside the kept Teams cohorts, Meetings narrows only what they do alone: ${JSON.stringify(alone)}`);
});

t.test('the Teams cohorts kept from the set without the score, Meetings read after a reload grants the score within the refresh: no hidden Meetings cell is narrowed', { todo: todo("the kept Teams cohorts show DeptA's 9 active people, and people in Teams meetings are active Teams users: DeptA's people in meetings are 0..9, narrower than k_org 10, whatever a Meetings release shows (hidden, the cell is checked; the test above checks that Meetings adds nothing to it). Before the refresh's shown cells were kept, Meetings showed the organisation and read DeptA's 9 exactly") }, async (t) => {
  const { kept, linked, attack } = await afterTheScoreIsGranted(t);
  t.same(attack(linked), [], 'beside the linked Teams release, Meetings narrows nothing');
  const narrowed = attack(kept);
  t.same(narrowed, [], `G1/G3: Meetings cells narrowed by the Teams cohorts kept from the same refresh: ${JSON.stringify(narrowed)}`);
});
