/**
 * Red team (privacy.md threat model: consumers "know who joined or left" and "keep every response they ever got"):
 * an exact cohort consumer reads the Teams cohorts by department, one person moves from Sales to Marketing (or
 * leaves the organisation) in the directory, and the consumer reads them again over the same report data. Every
 * cell that changes between the two releases changes by that one person only, so the difference of two released
 * cells is that person's row: whether they were active (G2: one named person's inactivity is read off).
 * A release is made once per (report, window, settings, refresh date) and served as made whatever the directory
 * does meanwhile (cohort/release-book.ts), so the change shows at the next refresh; over a quiet day (nobody's
 * 30-day activity changes, as over a weekend) the two releases differ by the mover alone.
 */
import t, { type Test } from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startGraphDouble } from '../helpers/graph-double.js';
import { KEYS, shippedPoliciesWithoutCases, startProxyFor, type ProxyUnderTest } from '../helpers/proxy-stack.js';
import { cellsOf, craftedTeams, exactPolicy, TEAMS, type Cell } from './crafted-teams.js';
import { rewriteColumn } from './helpers.js';

t.setTimeout(60_000);

/** A finding's one line, or false to run the attack (GPP_REDTEAM_TODO=run shows it fail). */
const todo = (finding: string) => (process.env.GPP_REDTEAM_TODO === 'run' ? false : finding);

const GROUPS = [
  { department: 'Sales', office: 'London', people: 20, inactive: 6 },
  { department: 'Marketing', office: 'Paris', people: 20, inactive: 5 },
  { department: 'Engineering', office: 'Berlin', people: 25, inactive: 0 },
  // Guests: in the report, not in the directory (an empty '(not in directory)' cell would be suppressed and take
  // Sales and Marketing with it).
  { department: 'Guests', office: 'None', people: 12, inactive: 0 },
];

type Users = { value: Record<string, string>[] };

/** A proxy whose directory and report are re-read on every request (no cache), over a directory the test can edit. */
async function setup(t: Test): Promise<{ proxy: ProxyUnderTest; directory: Users; nextDay(): void }> {
  const crafted = await craftedTeams(GROUPS);
  const directory = crafted.directory as Users;
  directory.value = directory.value.filter((u) => u.department !== 'Guests');
  const dir = await shippedPoliciesWithoutCases('gpp-redteam-move-');
  await writeFile(join(dir, 'exact.yaml'), exactPolicy('exact-departments', 'no-policy', 'organization, department'));
  const reports: Record<string, Buffer> = { [TEAMS]: crafted.csv };
  const double = await startGraphDouble({ reports, directory });
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir, directoryTtlSeconds: 0, snapshotTtlSeconds: 0 } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  // Graph's next refresh over a quiet day: the same activity, the refresh date one day on.
  const nextDay = () => {
    const text = crafted.csv.toString('utf8');
    reports[TEAMS] = rewriteColumn(text, 'Report Refresh Date', (old) => new Date(Date.parse(old) + 86_400_000).toISOString().slice(0, 10));
  };
  return { proxy, directory, nextDay };
}

const read = async (proxy: ProxyUnderTest) => {
  const res = await proxy.get(`/cohorts/${TEAMS}?period=D30&by=organization,department&format=json`, KEYS.stranger);
  if (res.status !== 200) throw new Error(`${res.status} ${res.body.toString()}`);
  return cellsOf(res.body);
};

/** What the attacker reads off two releases about the one person whose directory entry changed. */
function moverActivity(t: Test, before: Cell, after: Cell, who: string): void {
  if (before.users === null || after.users === null || before.activeUsers === null || after.activeUsers === null) {
    t.pass(`${before.dimension}/${before.cohort} suppressed in one of the two releases: no difference released`);
    return;
  }
  const users = before.users - after.users;
  const active = before.activeUsers - after.activeUsers;
  t.comment(`${before.cohort}: ${before.users}/${before.activeUsers} then ${after.users}/${after.activeUsers}: ${who} is ${users} user, ${active} active`);
  t.notOk(Math.abs(users) === 1 && Math.abs(active) <= 1, `G2: ${who}'s activity is read off the difference of two releases (${active === 0 ? 'inactive' : 'active'})`);
}

t.test('a move from Sales to Marketing, released the next (quiet) day', { todo: todo('a mover\'s activity is the difference of their old department\'s cells across two refreshes (Sales 20/14 -> 19/14: sales0 inactive), G2 over time') }, async (t) => {
  const { proxy, directory, nextDay } = await setup(t);
  const before = await read(proxy);
  // sales0 did nothing in Teams over the period (craftedTeams: the first `inactive` people of a department).
  directory.value = directory.value.map((u) => (u.userPrincipalName === 'sales0@contoso.onmicrosoft.com' ? { ...u, department: 'Marketing', officeLocation: 'Paris' } : u));
  const sameDay = await read(proxy);
  t.same(sameDay, before, 'within the refresh date the release is served as made, whatever the directory does');
  nextDay();
  const after = await read(proxy);
  t.not(after.get('organization/all')!.users, null, 'the next day is released');
  t.comment(`Marketing ${JSON.stringify(before.get('department/Marketing'))} -> ${JSON.stringify(after.get('department/Marketing'))}`);
  moverActivity(t, before.get('department/Sales')!, after.get('department/Sales')!, 'sales0 (moved to Marketing)');
});

/**
 * A leaver's row moves from their department to '(not in directory)' (12 guests, all active, released). Whether
 * that cell is released the next day says whether the leaver was inactive: 13 with 1 inactive is suppressed (G2),
 * 13 all active is released. The attacker reads the suppression pattern, not a figure.
 */
const leaverWorld = async (t: Test, upn: string) => {
  const { proxy, directory, nextDay } = await setup(t);
  const before = await read(proxy);
  directory.value = directory.value.filter((u) => u.userPrincipalName !== upn);
  nextDay();
  const after = await read(proxy);
  const [outsideBefore, outsideAfter] = [before.get('department/(not in directory)')!, after.get('department/(not in directory)')!];
  t.comment(`${upn} leaves: (not in directory) ${outsideBefore.users}/${outsideBefore.activeUsers} -> ${outsideAfter.users}/${outsideAfter.activeUsers}; Sales ${before.get('department/Sales')!.users}/${before.get('department/Sales')!.activeUsers} -> ${after.get('department/Sales')!.users}/${after.get('department/Sales')!.activeUsers}`);
  t.equal(outsideBefore.users, 12, 'the guests are released before');
  t.equal(outsideBefore.activeUsers, 12, 'all of them active');
  // The attacker's rule: all-active (not in directory) before, suppressed after the leaver joins it -> inactive.
  return outsideAfter.users === null ? 'inactive' : outsideAfter.activeUsers === outsideBefore.activeUsers ? 'inactive' : 'active';
};

t.test('a leaver, released the next (quiet) day: the suppression pattern says whether they were active', { todo: todo('a leaver joins (not in directory); its suppression (1 inactive) or release (all active) the next refresh says which, G2/G8 over time') }, async (t) => {
  t.equal(await leaverWorld(t, 'sales1@contoso.onmicrosoft.com'), 'active', 'G2: an inactive leaver (sales1) must not be read off as inactive');
  t.equal(await leaverWorld(t, 'sales10@contoso.onmicrosoft.com'), 'inactive', 'nor an active one (sales10) as active');
});
