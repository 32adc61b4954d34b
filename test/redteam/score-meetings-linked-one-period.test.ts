/**
 * Red team (privacy.md's threat model: consumers "may vary the request: report, period"; G2 for "every derived
 * share: an org-score numerator and its complement within the cohort"): the org score's categories of every
 * period some policy may read the score for are one table (score/org-scores.ts suppressAcrossPeriods), except the
 * categories linked to cohorts (Meetings), which are "left to the Teams group": they take the states of the Teams
 * cohort table of their window. But where the Teams cohorts are released for one of the score's periods only
 * (another tool's policy: Teams cohorts over 7 days), the two periods' Meetings are suppressed by two rules that
 * do not see each other: D7's Meetings takes the Teams D7 table's states (linked, no group: the Teams cohorts have
 * one period), while D30's Meetings (no Teams cohorts for D30, so not linked) is grouped with D7's *plain*
 * Meetings table, whose states D7 never releases. D30's pattern assumed D7 hides what D30 hides; D7 shows it.
 *
 * Meetings nest as Content collaboration does: whoever was in a meeting (and used video) in the last 7 days was
 * in the last 30. The tenant (k = k_c = 5, k_org = 10), everyone in meetings in both windows: DeptA 15 people, 3
 * never on video over 30 days and 5 over 7; DeptB 20 people, 4 and 5; DeptC 30 and 12 outside the directory,
 * all on video. D30's score by department hides Meetings DeptA and DeptB (3 and 4 not qualifying, G2), releases
 * the organisation (7). D7's (linked to the Teams D7 cohorts, everyone active in Teams) releases every department
 * (5 not qualifying each). Joined: D30 DeptB has at most 5 non-qualifying people, so DeptA has 2..5 (and at most
 * D7's 5): a hidden score cell's complement narrowed to 4 values, test/redteam/score-period-nesting.test.ts's
 * attack on the one category suppressAcrossPeriods leaves out. The score's consumer needs no accomplice: the
 * Teams cohort policy of an innocent tool only has to exist.
 * Fixed: where the score is granted for a window, the Teams table exists for it whether or not a policy releases
 * the Teams cohorts for that window (policy/decide.ts windowCohortPlan): Meetings is linked, and grouped by period
 * with the Teams tables, in every window.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { narrowedAcross, type Observed, type TableLink } from '../helpers/independent-attacker.js';
import { startProxyFor } from '../helpers/proxy-stack.js';
import { directoryOf, TEAMS, type Person, type RandomTenant } from '../helpers/random-tenant.js';
import { periodReports, readScoreCategory } from './nesting-tenant.js';

t.setTimeout(180_000);

/** Active in Teams and in meetings (every Teams cohort cell is everyone); `video`: used video in meetings. */
const person = (video: boolean): Person => ({ idle: false, mail: true, files: true, mobile: true, video });
/** `people` in a cross, the first `without` of them never on video over the window. */
const cross = (people: number, without: number) => ({ people: Array.from({ length: people }, (_, i) => person(i >= without)), ghosts: 0 });
const none = { people: [], ghosts: 0 };
/** The same people over two windows: DeptA (OfficeP), DeptB (OfficeQ), DeptC (OfficeR), 12 outside the directory. */
const tenant = (withoutA: number, withoutB: number, withoutC = 0): RandomTenant => ({
  departments: 3, offices: 3, k: 5, kC: 5, kOrg: 10,
  crosses: [cross(15, withoutA), none, none, none, cross(20, withoutB), none, none, none, cross(30, withoutC)],
  outsiders: Array.from({ length: 12 }, () => person(true)),
});
/** The score's consumer: the score by department over 7 and 30 days (its cohorts: e-mail, not linked to the score). */
const SCORE_POLICY = `name: score-two-periods
description: The org score by department over the last 7 and 30 days (red-team fixture).
consumers: [no-policy]
k: 5
kC: 5
kOrg: 10
periods: [D7, D30]
formats: [csv, json]
permissions: [score]
reports:
  getEmailActivityUserDetail:
    cohort:
      by: [organization, department]
`;
/** Another tool: Teams cohorts by department over one period only. */
const teamsPolicy = (period: 'D7' | 'D30') => `name: teams-one-period
description: Teams cohorts by department over one period (red-team fixture).
consumers: [onboarding]
k: 5
kC: 5
periods: [${period}]
formats: [csv, json]
reports:
  ${TEAMS}:
    cohort:
      by: [organization, department]
`;

/** The score by department for D7 and D30 (Meetings by department as the attacker's cells), the Teams cohorts released for `teams` only. */
async function readScores(t: Test, d30Tenant: RandomTenant, d7Tenant: RandomTenant, teams: 'D7' | 'D30'): Promise<{ d7: Observed; d30: Observed }> {
  const reports = { ...(await periodReports(d30Tenant, 'D30')), ...(await periodReports(d7Tenant, 'D7')) };
  const double = await startGraphDouble({ reports, directory: directoryOf(d30Tenant) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-score-meetings-'));
  await writeFile(join(dir, 'score-two-periods.yaml'), SCORE_POLICY);
  await writeFile(join(dir, 'teams-one-period.yaml'), teamsPolicy(teams));
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  return { d30: await readScoreCategory(t, proxy, 'period=D30', 'meetings'), d7: await readScoreCategory(t, proxy, 'period=D7', 'meetings') };
}

const STRUCTURE = { departments: ['DeptA', 'DeptB', 'DeptC'], offices: ['OfficeP', 'OfficeQ', 'OfficeR'], occupied: new Set(['DeptA|OfficeP', 'DeptB|OfficeQ', 'DeptC|OfficeR']) };
/** In meetings over the last 7 days => over the last 30; on video over 7 => over 30. */
const NESTED: TableLink[] = [
  { smaller: { table: 'D7', measure: 'active' }, larger: { table: 'D30', measure: 'active' } },
  { smaller: { table: 'D7', measure: 'users' }, larger: { table: 'D30', measure: 'users' } },
];

t.test('Meetings by department for D7 (linked to Teams D7 cohorts) and D30 (grouped with D7\'s unlinked table): a hidden D30 cell\'s non-qualifying people are narrowed', async (t) => {
  const { d7, d30 } = await readScores(t, tenant(3, 4), tenant(5, 5), 'D7');
  t.equal(d30.get('department/DeptA'), null, 'D30 hides Meetings DeptA (3 of 15 never on video)');
  t.same(narrowedAcross(STRUCTURE, [{ name: 'D30', observed: d30, k: 10 }], [], 5, false), [], 'D30 alone narrows nothing');
  // users: the same people in meetings in both windows, D7 releases them.
  const nested = narrowedAcross(STRUCTURE, [{ name: 'D30', observed: d30, k: 10 }, { name: 'D7', observed: d7, k: 10 }], NESTED, 5, false).filter((n) => n.measure !== 'users');
  t.same(nested, [], `G2/G3: D30 Meetings cells narrowed by D7: ${JSON.stringify(nested)}`);
});

/**
 * The other way round: Teams cohorts for D30 only. DeptC has 5 people never on video in both windows; DeptA 2
 * over the week and none over 30 days. D30's Meetings takes the Teams D30 table's states: every department shown
 * (15/15, 20/20, 25/30, 12/12). D7's Meetings is grouped with D30's unlinked table, one pattern: D7's complement
 * cell DeptA (2 of 15) and what protects it (DeptB, DeptC, outside the directory) hidden in both. But D30 shows
 * them: each D7 cell's counted people are capped by D30's (so exact, as they sum to D7's organisation) and DeptC's
 * qualifying at 25, so DeptC has at least 5 of D7's 7 non-qualifying people and DeptA 0..2.
 */
t.test('Meetings by department for D30 (linked to Teams D30 cohorts) and D7 (grouped with D30\'s unlinked table): a hidden D7 cell\'s non-qualifying people are narrowed', async (t) => {
  const { d7, d30 } = await readScores(t, tenant(0, 0, 5), tenant(2, 0, 5), 'D30');
  t.equal(d7.get('department/DeptA'), null, 'D7 hides Meetings DeptA (2 of 15 never on video)');
  t.same(narrowedAcross(STRUCTURE, [{ name: 'D7', observed: d7, k: 10 }], [], 5, false), [], 'D7 alone narrows nothing');
  const nested = narrowedAcross(STRUCTURE, [{ name: 'D30', observed: d30, k: 10 }, { name: 'D7', observed: d7, k: 10 }], NESTED, 5, false).filter((n) => n.measure !== 'users');
  t.same(nested, [], `G2/G3: D7 Meetings cells narrowed by D30: ${JSON.stringify(nested)}`);
});
