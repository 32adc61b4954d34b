/**
 * Red team (issue 15, the Teams cohorts and the score's Meetings category suppressed as one table; privacy.md's
 * threat model: consumers know who moved, keep every answer and may collude): one release per epoch is served
 * unchanged whatever the directory does meanwhile (cohort/release-book.ts), but the cohorts and the score are two
 * release slots, each made at its own first request with the directory of that moment (release.ts
 * organisationVerdictOf is per snapshot *and directory*). The consumer reads the Teams cohorts, waits for a known
 * move (an idle Legal employee moves to Sales), then reads the score by department: the same report snapshot,
 * joined to two directories. Published definitions nest the two (people in Teams meetings are active Teams users),
 * so Legal's Meetings denominator after the move can be set against Legal's active Teams users before it:
 * A_before = A_after + [mover active] and A_after >= m_after, so m_after = A_before says the mover was inactive.
 * Fixed by one directory per refresh date (cohort/sources.ts DirectoryPins): these tests failed before it.
 * The window is one Graph refresh (a day; under the vendor's weekly cadence the two slots may also be made from
 * different days' data, which blurs the link but leaves the same-day case exact). The same
 * holds for two colluding consumers whose policies read the Teams cohorts with other dimensions (two slots): one
 * snapshot joined to two directories, and DeptA before minus DeptA after is the mover's exact row.
 */
import t, { type Test } from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startGraphDouble } from '../helpers/graph-double.js';
import { KEYS, shippedPoliciesWithoutCases, startProxyFor } from '../helpers/proxy-stack.js';
import { exactPolicy } from './crafted-teams.js';
import { directoryOf, tenantReports, TEAMS } from '../helpers/random-tenant.js';

import { MOVER_TENANT, type Cohorts, type Score } from './linked-tenant.js';

t.setTimeout(120_000);


/** Reads DeptA's Teams cohort, moves `mover` in the directory, then reads DeptA's Meetings score cell (vendor key). */
async function attack(t: Test, mover: string, to: { department: string; officeLocation: string }) {
  const reports = await tenantReports(MOVER_TENANT);
  const directory = directoryOf(MOVER_TENANT);
  const double = await startGraphDouble({ reports, directory });
  const proxy = await startProxyFor(double, { proxy: { policiesDir: await shippedPoliciesWithoutCases('gpp-redteam-linked-move-'), directoryTtlSeconds: 0 } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const cohorts = await proxy.get(`/cohorts/${TEAMS}?period=D30&by=department&format=json`, KEYS.vendor);
  t.equal(cohorts.status, 200, 'the vendor reads the Teams cohorts by department');
  const teams = (JSON.parse(cohorts.body.toString()) as Cohorts).value.find((r) => r.dimension === 'department' && r.cohort[0] === 'DeptA')!;
  t.same([teams.users, teams.activeUsers], [20, 14], 'DeptA: 20 people, 14 active in Teams (released: 6 inactive)');
  // The directory changes within the epoch (who moved is directory knowledge).
  directory.value = directory.value.map((u) => (u.userPrincipalName === mover ? { ...u, ...to } : u));
  const again = await proxy.get(`/cohorts/${TEAMS}?period=D30&by=department&format=json`, KEYS.vendor);
  t.same(again.body, cohorts.body, 'the cohorts are served as made for the epoch, whatever the directory does');
  const score = await proxy.get('/org-score?period=D30&by=department', KEYS.vendor);
  t.equal(score.status, 200, 'the vendor reads the score by department');
  const meetings = (JSON.parse(score.body.toString()) as Score).cohorts.find((c) => c.cohort[0] === 'DeptA')!.categories.find((c) => c.id === 'meetings')!;
  t.comment(`Teams DeptA ${teams.users}/${teams.activeUsers} (before the move); Meetings DeptA ${meetings.numerator}/${meetings.denominator} (score, after it)`);
  return { active: teams.activeUsers, inMeetings: meetings.denominator };
}

// Failed before one directory was pinned per refresh date (cohort/sources.ts DirectoryPins): the score, made after
// the move, counted DeptA's people in meetings with the new directory (13 against the cohorts' 14 active), so the
// mover was active and in meetings.
t.test('an active person on video leaves DeptA between the cohorts and the score: the score is joined to the directory the cohorts were', async (t) => {
  // p0x6: DeptA's seventh person (its first six are idle), active and on video.
  const { active, inMeetings } = await attack(t, 'p0x6@contoso.onmicrosoft.com', { department: 'DeptB', officeLocation: 'OfficeQ' });
  t.equal(inMeetings, active, `one directory for the day's data: DeptA's ${inMeetings} people in meetings are its ${active} active Teams users, as the cohorts were made`);
});

t.test('a person on video joins DeptA between the cohorts and the score: the score counts more in meetings than the cohorts count active', async (t) => {
  // p4x5: DeptB's sixth person (its first five are idle), active and on video.
  const { active, inMeetings } = await attack(t, 'p4x5@contoso.onmicrosoft.com', { department: 'DeptA', officeLocation: 'OfficeP' });
  t.ok(inMeetings === null || active === null || inMeetings <= active, `one release behind every surface: DeptA's ${inMeetings} people in meetings exceed its ${active} active Teams users, so the joiner (p4x5) was active and in meetings`);
});

t.test('two consumers whose policies read the Teams cohorts with other dimensions, before and after a move: the mover\'s row is the difference', async (t) => {
  const reports = await tenantReports(MOVER_TENANT);
  const directory = directoryOf(MOVER_TENANT);
  const dir = await shippedPoliciesWithoutCases('gpp-redteam-linked-move-');
  await writeFile(join(dir, 'exact.yaml'), exactPolicy('exact-departments', 'no-policy', 'organization, department').replace('k: 5', 'k: 10'));
  const double = await startGraphDouble({ reports, directory });
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir, directoryTtlSeconds: 0 } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const deptA = async (key: string) => {
    const res = await proxy.get(`/cohorts/${TEAMS}?period=D30&by=department&format=json`, key);
    t.equal(res.status, 200);
    return (JSON.parse(res.body.toString()) as Cohorts).value.find((r) => r.dimension === 'department' && r.cohort[0] === 'DeptA')!;
  };
  const before = await deptA(KEYS.stranger);
  directory.value = directory.value.map((u) => (u.userPrincipalName === 'p0x0@contoso.onmicrosoft.com' ? { ...u, department: 'DeptB', officeLocation: 'OfficeQ' } : u));
  const after = await deptA(KEYS.vendor);
  t.comment(`DeptA: ${before.users}/${before.activeUsers} to one consumer, ${after.users}/${after.activeUsers} to the other, from one report snapshot`);
  const released = before.users !== null && after.users !== null;
  t.notOk(released && before.users! - after.users! === 1, `G2: DeptA ${before.users}/${before.activeUsers} minus ${after.users}/${after.activeUsers} is p0x0's row: 1 person, ${before.activeUsers! - after.activeUsers!} active`);
});
