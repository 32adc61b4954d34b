/**
 * Red team (one directory per refresh date, cohort/sources.ts DirectoryPins): the pins are held for 16 refresh
 * dates, the first pinned evicted first, whatever its age. A consumer whose policy allows single dates (`dates:
 * true`) with cohorts by a directory attribute, of any report, makes a release per date, each pinning its date (a
 * single day's report is dated by its day here: the Graph double serves each date's data refreshed on that date).
 * Sixteen dates read after a known move evict the pin of today's D30 data, and the next release slot of that data
 * (the score, another policy) reads the directory anew: one Teams snapshot joined to two directories again
 * (test/redteam/linked-directory-change.test.ts's attack, with a colluding date reader). Fixed first by keeping 64
 * dates and dropping the oldest; since single days beside periods are released for the organisation only, a
 * day's release reads no directory at all.
 */
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startGraphDouble } from '../helpers/graph-double.js';
import { KEYS, shippedPoliciesWithoutCases, startProxyFor } from '../helpers/proxy-stack.js';
import { directoryOf, tenantReports, TEAMS } from '../helpers/random-tenant.js';
import { records, rewriteColumn } from './helpers.js';
import { MOVER_TENANT, type Cohorts, type Score } from './linked-tenant.js';

t.setTimeout(120_000);

/** The colluding consumer's policy: Teams cohorts by department, single dates allowed (no D30). */
const DATES_POLICY = `name: single-days
description: Teams cohorts of single days by department.
consumers: [no-policy]
k: 10
kC: 5
periods: [D7]
dates: true
formats: [csv, json]
reports:
  ${TEAMS}:
    cohort:
      by: [organization, department]
`;

/** Sixteen single days before `last` (YYYY-MM-DD), within Graph's 28 days of today. */
const daysBefore = (last: string) => Array.from({ length: 16 }, (_, i) => new Date(Date.parse(`${last}T00:00:00Z`) - (i + 1) * 86_400_000).toISOString().slice(0, 10));

t.test('sixteen single days read after a move evict the D30 data\'s pin: the score joins the Teams snapshot to the new directory', async (t) => {
  const reports = await tenantReports(MOVER_TENANT);
  const teamsText = reports[TEAMS]!.toString('utf8');
  const refreshed = records(teamsText)[0]!['Report Refresh Date']!;
  const days = daysBefore(refreshed);
  for (const day of days) reports[`${TEAMS}(date=${day})`] = rewriteColumn(teamsText, 'Report Refresh Date', () => day);
  const directory = directoryOf(MOVER_TENANT);
  const dir = await shippedPoliciesWithoutCases('gpp-redteam-pins-evict-');
  await writeFile(join(dir, 'single-days.yaml'), DATES_POLICY);
  const double = await startGraphDouble({ reports, directory });
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir, directoryTtlSeconds: 0 } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const cohorts = await proxy.get(`/cohorts/${TEAMS}?period=D30&by=department&format=json`, KEYS.vendor);
  t.equal(cohorts.status, 200, 'the vendor reads the Teams cohorts by department');
  const teams = (JSON.parse(cohorts.body.toString()) as Cohorts).value.find((r) => r.dimension === 'department' && r.cohort[0] === 'DeptA')!;
  t.same([teams.users, teams.activeUsers], [20, 14], 'DeptA: 20 people, 14 active in Teams');
  directory.value = directory.value.map((u) => (u.userPrincipalName === 'p0x6@contoso.onmicrosoft.com' ? { ...u, department: 'DeptB', officeLocation: 'OfficeQ' } : u));
  for (const day of days) {
    // A single day beside periods is the organisation's only (policy/decide.ts dayNestsInPeriods): by department, refused.
    const res = await proxy.get(`/cohorts/${TEAMS}?date=${day}&format=json`, KEYS.stranger);
    t.equal(res.status, 200, `the colluder reads ${day}`);
    t.same((JSON.parse(res.body.toString()) as Cohorts).value.map((r) => r.dimension), ['organization'], 'the organisation only');
  }
  const score = await proxy.get('/org-score?period=D30&by=department', KEYS.vendor);
  t.equal(score.status, 200, 'the vendor reads the score by department');
  const meetings = (JSON.parse(score.body.toString()) as Score).cohorts.find((c) => c.cohort[0] === 'DeptA')!.categories.find((c) => c.id === 'meetings')!;
  t.comment(`Teams DeptA ${teams.users}/${teams.activeUsers} (before the move); Meetings DeptA ${meetings.numerator}/${meetings.denominator} (after it, ${days.length} dates read between)`);
  t.equal(meetings.denominator, teams.activeUsers, 'one directory for the D30 data: DeptA\'s people in meetings are its active Teams users, as the cohorts were made');
});
