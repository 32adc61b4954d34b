/**
 * Red team (issue 15, the Teams cohorts and the score's Meetings category suppressed as one table): a Teams cohort
 * cell shown beside a hidden Meetings cell (suppress.ts showBeside, linkHolds) releases its metric sums too, and
 * the shipped vendor policy sums `Meeting Count` (clip 120), the very column the Meetings category counts people by:
 * everyone in Teams meetings has a Meeting Count of at least 1 and everyone else 0, so a cell's people in meetings
 * are at most its Meeting Count sum. linkHolds bounds a shown cell's hidden Meetings count by its active Teams users
 * only (m <= A, room w = A - m), and ignores the sums: "every released figure is a sum of whole parts" no longer
 * holds once a sum over the meeting people's own counts is released.
 *
 * The tenant: DeptA (OfficeP) 70 people, all active, 60 of them in one meeting each on video; DeptB (OfficeQ) 19
 * people, 5 idle, 9 active outside meetings, 5 in one meeting each (1 on video). Meetings hides the organisation
 * (4 never on video: G2) and DeptB (5 people), so the Teams organisation total (89 / 84, Meeting Count sum 65) is
 * shown beside it. The attacker reads Meetings' organisation as at most 65 (the sum) and at least DeptA's released
 * 60: DeptB's people in meetings are 0..5, never k = 10 wide (G3), where the link alone (at most 84) leaves 0..24.
 * The data are crafted (one meeting per person makes the bound tight); on real data the sum bounds loosely, and
 * the test shows the argument's gap, not a likely tenant.
 */
import t from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { narrowedAcross, type Observed } from '../helpers/independent-attacker.js';
import { KEYS, shippedPoliciesWithoutCases, startProxyFor } from '../helpers/proxy-stack.js';
import { directoryOf, tenantReports, TEAMS, type Person, type RandomTenant } from '../helpers/random-tenant.js';
import { rewriteColumn } from './helpers.js';

t.setTimeout(120_000);

const person = (idle: boolean, video: boolean): Person => ({ idle, mail: true, files: true, mobile: false, video });
/** A cross's people in row order: idle, active outside meetings (w), in meetings without video (r), with video (q). */
const cross = (idle: number, w: number, r: number, q: number) => ({
  people: [...Array<Person>(idle).fill(person(true, false)), ...Array<Person>(w + r).fill(person(false, false)), ...Array<Person>(q).fill(person(false, true))],
  ghosts: 0,
  outsideMeetings: [...Array<boolean>(idle).fill(true), ...Array<boolean>(w).fill(true), ...Array<boolean>(r + q).fill(false)],
});
const A = cross(0, 10, 0, 60);
const B = cross(5, 9, 4, 1);
const TENANT: RandomTenant = { departments: 2, offices: 2, crosses: [A, { people: [], ghosts: 0 }, { people: [], ghosts: 0 }, B], outsiders: [], k: 10, kC: 5, kOrg: 10 };
/** Per report row (peopleOf's order: crosses in order), whether the person had no Teams meeting. */
const OUTSIDE_MEETINGS = [...A.outsideMeetings, ...B.outsideMeetings];

type Cohorts = { value: { dimension: string; cohort: string[]; users: number | null; activeUsers: number | null; metrics: Record<string, { sum: number | null }> }[] };
type Score = { organization: ScoreRow; cohorts: ScoreRow[] };
type ScoreRow = { dimension: string; cohort: string[]; categories: { id: string; numerator: number | null; denominator: number | null }[] };

t.test('a Teams total shown beside a hidden Meetings total releases its Meeting Count sum, which caps the people in meetings', async (t) => {
  const reports = await tenantReports(TENANT);
  // One meeting each for the people in meetings, none for the others (their other meeting columns follow).
  const text = reports[TEAMS]!.toString('utf8');
  let teams = rewriteColumn(text, 'Meeting Count', (old, row) => (OUTSIDE_MEETINGS[row] === true ? '0' : old === '0' ? '0' : '1'));
  for (const header of ['Meetings Attended Count', 'Scheduled One-time Meetings Attended Count']) teams = rewriteColumn(teams.toString('utf8'), header, (old, row) => (OUTSIDE_MEETINGS[row] === true ? '0' : old));
  reports[TEAMS] = teams;
  const double = await startGraphDouble({ reports, directory: directoryOf(TENANT) });
  const proxy = await startProxyFor(double, { proxy: { policiesDir: await shippedPoliciesWithoutCases('gpp-redteam-meeting-sum-') } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });

  const cohortRes = await proxy.get(`/cohorts/${TEAMS}?period=D30&format=json`, KEYS.vendor);
  t.equal(cohortRes.status, 200);
  const rows = (JSON.parse(cohortRes.body.toString()) as Cohorts).value;
  const scores = await Promise.all(['department', 'officeLocation'].map(async (by) => {
    const res = await proxy.get(`/org-score?period=D30&by=${by}`, KEYS.vendor);
    t.equal(res.status, 200);
    return JSON.parse(res.body.toString()) as Score;
  }));
  const key = (dimension: string, cohort: readonly string[]) => `${dimension}/${cohort.join('|')}`;
  const teamsCells: Observed = new Map(rows.map((r) => [key(r.dimension, r.cohort), r.users === null ? null : { users: r.users, active: r.activeUsers! }]));
  const sums: Observed = new Map(rows.map((r) => [key(r.dimension, r.cohort), r.users === null ? null : { users: r.metrics.meetingCount!.sum!, active: r.metrics.meetingCount!.sum! }]));
  const meetingsCells = new Map<string, { users: number; active: number } | null>();
  for (const row of [scores[0]!.organization, ...scores.flatMap((s) => s.cohorts)]) {
    const m = row.categories.find((c) => c.id === 'meetings')!;
    meetingsCells.set(key(row.dimension, row.cohort), m.denominator === null ? null : { users: m.denominator, active: m.numerator! });
  }
  const organisation = rows.find((r) => r.dimension === 'organization')!;
  t.comment(`Teams organisation ${organisation.users}/${organisation.activeUsers}, Meeting Count sum ${organisation.metrics.meetingCount!.sum}; Meetings organisation ${JSON.stringify(meetingsCells.get('organization/all'))}`);
  t.equal(meetingsCells.get('organization/all'), null, 'Meetings hides its organisation total (4 people never on video)');
  // Before the sums bounded the count (suppress.ts LinkedSums), the Teams total was shown beside it, 89 / 84 with a
  // Meeting Count sum of 65, and the attacker below narrowed DeptB's people in meetings to 0..5.
  t.comment(organisation.users === null ? 'the Teams organisation total is hidden with it' : 'the Teams organisation total is shown beside it');

  const structure = { departments: ['DeptA', 'DeptB'], offices: ['OfficeP', 'OfficeQ'], occupied: new Set(['DeptA|OfficeP', 'DeptB|OfficeQ']) };
  const tables = [{ name: 'teams', observed: teamsCells, k: 10 }, { name: 'meetings', observed: meetingsCells as Observed, k: 10 }];
  const link = { smaller: { table: 'meetings', measure: 'users' as const }, larger: { table: 'teams', measure: 'active' as const } };
  t.same(narrowedAcross(structure, tables, [link], 5), [], 'with the link alone, no hidden cell is narrowed (what linkHolds checked)');
  // The sums obey the same relations; the people in meetings are at most their Meeting Count sum, cell by cell.
  const withSums = narrowedAcross(structure, [...tables, { name: 'meetingCount', observed: sums, k: 0 }], [link, { smaller: { table: 'meetings', measure: 'users' }, larger: { table: 'meetingCount', measure: 'users' } }], 5)
    .filter((n) => n.cell.startsWith('meetings:'));
  t.same(withSums, [], `G3: with the released Meeting Count sums, hidden Meetings cells are narrowed: ${JSON.stringify(withSums)}`);
});
