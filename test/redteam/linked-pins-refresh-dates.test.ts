/**
 * Red team (one directory per refresh date, cohort/sources.ts DirectoryPins): the Teams cohorts pin the directory
 * by the Teams report's refresh date, but the score pins it by its first report's (score-facts.ts ScoreFacts
 * .refreshDate: getOffice365ActiveUserDetail's first row), and Graph refreshes its reports apart (each report's
 * data is "usually available within 48 hours", report by report: graph-reports.md). When the Office 365 active
 * users report is a day behind the Teams report, the score's Meetings category, made from the same Teams snapshot
 * the cohorts were, is joined to the directory read for the other date: one snapshot, two directories, and the
 * mover's row is their difference (test/redteam/linked-directory-change.test.ts's attack, which the pins fixed
 * for reports refreshed alike). Before the fix DeptA's people in meetings were 13 against 14 active Teams users
 * (the leaver) and 15 (the joiner); the score now takes the Teams report's pin and lends it to its other dates.
 */
import t, { type Test } from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { KEYS, shippedPoliciesWithoutCases, startProxyFor } from '../helpers/proxy-stack.js';
import { directoryOf, tenantReports, TEAMS } from '../helpers/random-tenant.js';
import { records, rewriteColumn } from './helpers.js';

import { MOVER_TENANT, type Cohorts, type Score } from './linked-tenant.js';

t.setTimeout(120_000);


const dayBefore = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

/**
 * The vendor reads DeptA's Teams cohort, `mover` moves in the directory, the vendor reads DeptA's Meetings score
 * cell; the Office 365 active users report (the score's first) was refreshed the day before the Teams report.
 */
async function attack(t: Test, mover: string, to: { department: string; officeLocation: string }) {
  const reports = await tenantReports(MOVER_TENANT);
  const teamsDate = records(reports[TEAMS]!.toString('utf8'))[0]!['Report Refresh Date']!;
  reports.getOffice365ActiveUserDetail = rewriteColumn(reports.getOffice365ActiveUserDetail!.toString('utf8'), 'Report Refresh Date', () => dayBefore(teamsDate));
  const directory = directoryOf(MOVER_TENANT);
  const double = await startGraphDouble({ reports, directory });
  const proxy = await startProxyFor(double, { proxy: { policiesDir: await shippedPoliciesWithoutCases('gpp-redteam-pins-dates-'), directoryTtlSeconds: 0 } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const cohorts = await proxy.get(`/cohorts/${TEAMS}?period=D30&by=department&format=json`, KEYS.vendor);
  t.equal(cohorts.status, 200, 'the vendor reads the Teams cohorts by department');
  const teams = (JSON.parse(cohorts.body.toString()) as Cohorts).value.find((r) => r.dimension === 'department' && r.cohort[0] === 'DeptA')!;
  t.same([teams.users, teams.activeUsers], [20, 14], 'DeptA: 20 people, 14 active in Teams');
  directory.value = directory.value.map((u) => (u.userPrincipalName === mover ? { ...u, ...to } : u));
  const score = await proxy.get('/org-score?period=D30&by=department', KEYS.vendor);
  t.equal(score.status, 200, 'the vendor reads the score by department');
  const body = JSON.parse(score.body.toString()) as Score;
  const meetings = body.cohorts.find((c) => c.cohort[0] === 'DeptA')!.categories.find((c) => c.id === 'meetings')!;
  t.comment(`Teams data of ${teamsDate}, Office 365 active users of ${dayBefore(teamsDate)}; Teams DeptA ${teams.users}/${teams.activeUsers} (before the move); Meetings DeptA ${meetings.numerator}/${meetings.denominator} (after it)`);
  return { active: teams.activeUsers, inMeetings: meetings.denominator };
}

t.test('the Office 365 active users report a day behind Teams: an active person on video leaves DeptA between the cohorts and the score', async (t) => {
  const { active, inMeetings } = await attack(t, 'p0x6@contoso.onmicrosoft.com', { department: 'DeptB', officeLocation: 'OfficeQ' });
  t.equal(inMeetings, active, `one directory per Teams snapshot: DeptA's ${inMeetings} people in meetings are its ${active} active Teams users, as the cohorts were made`);
});

t.test('the Office 365 active users report a day behind Teams: a person on video joins DeptA between the cohorts and the score', async (t) => {
  const { active, inMeetings } = await attack(t, 'p4x5@contoso.onmicrosoft.com', { department: 'DeptA', officeLocation: 'OfficeP' });
  t.ok(inMeetings === null || active === null || inMeetings <= active, `DeptA's ${inMeetings} people in meetings against its ${active} active Teams users`);
});
