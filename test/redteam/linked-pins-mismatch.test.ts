/**
 * Red team (privacy.md's threat model: consumers "know who joined or left" and "keep every response they ever
 * got"; G2): the score takes its Teams report's directory pin and lends it to its other reports' refresh dates
 * (cohort/sources.ts DirectoryPins.forData), but where another report's date already has a pin (its cohorts were
 * read before a directory change) the score's categories of that report are joined to the new directory
 * (counted in gpp_directory_pin_mismatches, a known limit). "Separate tables of different measures" does not hold
 * for Content collaboration: where nobody syncs files or works in SharePoint (graph-reports.md: Microsoft's
 * OneDrive activity is viewed or edited, synced, or shared files; the category counts viewed, edited or shared),
 * its people and qualifying people per department are the OneDrive cohorts' users and active users, from the
 * same OneDrive snapshot. The vendor reads the OneDrive cohorts, a person moves, the vendor reads the score: the
 * two releases of one snapshot under two directories differ by the mover's row.
 *
 * The tenant (the vendor's k = 10, k_c = 5): DeptA (OfficeP) 20 people, 6 of them without files; DeptB (OfficeQ)
 * 20, 5 without; DeptC (OfficeR) 25 and 12 outside the directory, all with files; everyone active in Teams with
 * video, so every other category is everyone. Graph refreshed the OneDrive report a day before the others. Every
 * cell passes k and k_c before and after the move, so both releases showed DeptA. Fixed: where the score's
 * reports are pinned to two directories it is released for the organisation only that day (409 by a dimension;
 * cohort/sources.ts DirectoryPins.pinnedApart).
 */
import t, { type Test } from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { KEYS, shippedPoliciesWithoutCases, startProxyFor } from '../helpers/proxy-stack.js';
import { directoryOf, tenantReports, type Person, type RandomTenant } from '../helpers/random-tenant.js';
import { rewriteColumn } from './helpers.js';
import type { Cohorts } from './linked-tenant.js';

t.setTimeout(120_000);

const ONEDRIVE = 'getOneDriveActivityUserDetail';
const person = (files: boolean): Person => ({ idle: false, mail: true, files, mobile: true, video: true });
const people = (without: number, withFiles: number): Person[] => [...Array<Person>(without).fill(person(false)), ...Array<Person>(withFiles).fill(person(true))];
const TENANT: RandomTenant = {
  departments: 3, offices: 3, k: 10, kC: 5, kOrg: 10,
  crosses: [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => ({ people: i === 0 ? people(6, 14) : i === 4 ? people(5, 15) : i === 8 ? people(0, 25) : [], ghosts: 0 })),
  outsiders: people(0, 12),
};

const dayBefore = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
type Score = { cohorts: { cohort: string[]; categories: { id: string; numerator: number | null; denominator: number | null }[] }[] };

/** The vendor reads DeptA's OneDrive cohort, `mover` (DeptA, with files or not) moves to DeptB, the vendor reads DeptA's Content collaboration. */
async function attack(t: Test, mover: string) {
  const reports = await tenantReports(TENANT);
  // Nobody syncs files (the OneDrive report's other activity), and Graph refreshed this report a day before the others.
  const onedrive = rewriteColumn(reports[ONEDRIVE]!.toString('utf8'), 'Synced File Count', () => '0');
  reports[ONEDRIVE] = rewriteColumn(onedrive.toString('utf8'), 'Report Refresh Date', dayBefore);
  const directory = directoryOf(TENANT);
  const double = await startGraphDouble({ reports, directory });
  const proxy = await startProxyFor(double, { proxy: { policiesDir: await shippedPoliciesWithoutCases('gpp-redteam-pins-mismatch-'), directoryTtlSeconds: 0 } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const cohorts = await proxy.get(`/cohorts/${ONEDRIVE}?period=D30&by=department&format=json`, KEYS.vendor);
  t.equal(cohorts.status, 200, 'the vendor reads the OneDrive cohorts by department');
  const od = (JSON.parse(cohorts.body.toString()) as Cohorts).value.find((r) => r.dimension === 'department' && r.cohort[0] === 'DeptA')!;
  t.same([od.users, od.activeUsers], [20, 14], 'DeptA: 20 people, 14 active in OneDrive');
  directory.value = directory.value.map((u) => (u.userPrincipalName === mover ? { ...u, department: 'DeptB', officeLocation: 'OfficeQ' } : u));
  const score = await proxy.get('/org-score?period=D30&by=department', KEYS.vendor);
  if (score.status === 409) {
    // Fixed: the score's reports are joined to two directories, so it is released for the organisation only.
    t.match(JSON.parse(score.body.toString()), { error: { code: 'CohortsUnavailable', message: /directory changed between reads of this score's reports/ } });
    const organisation = await proxy.get('/org-score?period=D30', KEYS.vendor);
    t.equal(organisation.status, 200, "the organisation's score is still released");
    const page = await proxy.get('/', KEYS.vendor);
    t.match(page.body.toString(), /id="directory-changed"/, 'the dashboard says why the departments are missing');
    t.notMatch(page.body.toString(), /id="concealed"/, 'and does not blame concealed names');
    return { before: { users: od.users!, active: od.activeUsers! }, after: { users: null, active: null } };
  }
  t.equal(score.status, 200, 'the vendor reads the score by department');
  const content = (JSON.parse(score.body.toString()) as Score).cohorts.find((c) => c.cohort[0] === 'DeptA')!.categories.find((c) => c.id === 'contentCollaboration')!;
  t.comment(`OneDrive DeptA ${od.users}/${od.activeUsers} (before the move); Content collaboration DeptA ${content.numerator}/${content.denominator} (after it)`);
  return { before: { users: od.users!, active: od.activeUsers! }, after: { users: content.denominator, active: content.numerator } };
}

/** What the attacker reads off the two releases about the mover. */
function moverRow(t: Test, before: { users: number; active: number }, after: { users: number | null; active: number | null }) {
  if (after.users === null || after.active === null) {
    t.pass('DeptA\'s Content collaboration is not released after the move: no difference released');
    return;
  }
  const [users, active] = [before.users - after.users, before.active - after.active];
  t.notOk(users === 1 && (active === 0 || active === 1), `G2: one snapshot joined to two directories: the mover is ${users} person, ${active} active in OneDrive`);
}

t.test('OneDrive cohorts before a move, the score after it: a mover who worked with files', async (t) => {
  const { before, after } = await attack(t, 'p0x10@contoso.onmicrosoft.com');
  moverRow(t, before, after);
});

t.test('OneDrive cohorts before a move, the score after it: a mover who did not', async (t) => {
  const { before, after } = await attack(t, 'p0x0@contoso.onmicrosoft.com');
  moverRow(t, before, after);
});
