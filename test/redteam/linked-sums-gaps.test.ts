/**
 * Red team (the Meetings companion's count bounded by released sums, suppress.ts LinkedSums): a Teams cohort
 * cell shown beside a hidden Meetings cell (showBeside) releases its sums; LinkedSums models each Meeting Count
 * sum alone (ceil(sum / clip) <= m <= sum) and turns showing beside off when a sum of another column Meetings
 * reads (by header) is released. Three gaps:
 * - Two sums of the same column at different clips (two policies; here 120 and 119) say more together: with S1
 *   at clip c1 < S2 at clip c2, everyone above c1 adds exactly c1 to S1 and at most c2 - c1 more to S2, so at
 *   least H = (S2 - S1) / (c2 - c1) people are above c1, and m <= S1 - (c1 - 1) * H, far below S1.
 * - The Teams report carries the video and screen-share durations twice, as `Video Duration` (ISO 8601) and
 *   `Video Duration In Seconds`; Meetings reads the second, so a policy summing the first is neither modelled
 *   nor turns showing beside off. At clip 1 second such a sum is the number of people who used video, which caps
 *   the people in meetings who did (Meetings' qualifying count).
 * - Columns Meetings does not read still nest with its count: everyone who attended a meeting was in one, so a
 *   Meetings Attended Count sum at clip 1 (the number of attendees) is a floor under the people in meetings,
 *   unmodelled (weaker: DeptB's hidden count is read as 5..14, one person short of k = 10).
 *
 * The tenant is linked-meeting-count-sum.test.ts's: DeptA (OfficeP) 70 people, all active, 60 in meetings on
 * video; DeptB (OfficeQ) 19 people, 5 idle, 9 active outside meetings, 5 in meetings (1 on video). Meetings hides
 * the organisation (4 never on video) and DeptB (5 people). DeptA's people in meetings had 120 meetings each over
 * the 30 days (four a day), DeptB's one each. The policy set: the vendor's, its Teams sums without the chat counts
 * (a sum of another column Meetings reads turns showing beside off: LinkedSums.othersShown), and a second
 * consumer's policy reading the organisation's Teams total with its own sums. With the vendor's Meeting Count sum
 * alone, Meetings' organisation is 61..84 (DeptB 1..14 people in meetings), so the Teams organisation total is
 * shown beside it. The data are crafted; the tests show the model's gaps, not a likely tenant.
 */
import t, { type Test } from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startGraphDouble } from '../helpers/graph-double.js';
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
const OUTSIDE_MEETINGS = [...A.outsideMeetings, ...B.outsideMeetings];
/** Meetings over the 30 days: DeptA's people in meetings had 120 each (four a day), DeptB's one each. */
const meetingsOf = (row: number) => (OUTSIDE_MEETINGS[row] === true ? '0' : row < A.people.length ? '120' : '1');

/** The second consumer's policy: the Teams organisation total with `metrics` (YAML lines). */
const secondPolicy = (metrics: string) => `name: meeting-load
description: The organisation's Teams total and its meeting load.
consumers: [no-policy]
k: 10
kC: 5
periods: [D30]
formats: [csv, json]
reports:
  ${TEAMS}:
    cohort:
      by: [organization]
      metrics:
${metrics}`;

type Cohorts = { value: { dimension: string; cohort: string[]; users: number | null; activeUsers: number | null; metrics: Record<string, { sum: number | null }> }[] };
type Score = { organization: ScoreRow; cohorts: ScoreRow[] };
type Category = { id: string; numerator: number | null; denominator: number | null };
type ScoreRow = { dimension: string; cohort: string[]; categories: Category[] };

/** The people counted (Meeting Count above 0) that sums s1 (clip c1) and s2 (clip c2 > c1) of one column allow. */
function countBounds(s1: number, c1: number, s2: number, c2: number): { min: number; max: number } {
  const above = Math.ceil((s2 - s1) / (c2 - c1));
  return { min: Math.max(Math.ceil(s1 / c1), Math.ceil(s2 / c2)), max: s1 - (c1 - 1) * above };
}

interface Observed {
  /** The organisation's Teams cohort as the vendor and as the second consumer read it. */
  readonly vendor: Cohorts['value'][number];
  readonly second: Cohorts['value'][number];
  /** DeptA's Teams cohort as the vendor reads it. */
  readonly teamsA: Cohorts['value'][number] | undefined;
  /** Meetings' organisation, DeptA and DeptB cells of the vendor's score by department. */
  readonly organisation: Category;
  readonly deptA: Category;
  readonly deptB: Category;
}

/** The proxy (the vendor's Teams sums without chat counts, the second consumer's `metrics`), read by both. */
async function observe(t: Test, metrics: string): Promise<Observed> {
  const reports = await tenantReports(TENANT);
  const text = reports[TEAMS]!.toString('utf8');
  let teams = rewriteColumn(text, 'Meeting Count', (_old, row) => meetingsOf(row));
  for (const header of ['Meetings Attended Count', 'Scheduled One-time Meetings Attended Count']) teams = rewriteColumn(teams.toString('utf8'), header, (old, row) => (OUTSIDE_MEETINGS[row] === true ? '0' : old));
  reports[TEAMS] = teams;
  const dir = await shippedPoliciesWithoutCases('gpp-redteam-linked-sums-');
  // The vendor's Teams sums without the chat counts (sums of other columns Meetings reads turn showing beside off).
  const vendorPolicy = await readFile(join(dir, 'vendor-dashboard.yaml'), 'utf8');
  await writeFile(join(dir, 'vendor-dashboard.yaml'), vendorPolicy.replace(/^ +(Team Chat|Private Chat) Message Count: .*\n/gm, ''));
  await writeFile(join(dir, 'meeting-load.yaml'), secondPolicy(metrics));
  const double = await startGraphDouble({ reports, directory: directoryOf(TENANT) });
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const rowsOf = async (key: string) => {
    const res = await proxy.get(`/cohorts/${TEAMS}?period=D30&format=json`, key);
    t.equal(res.status, 200);
    return (JSON.parse(res.body.toString()) as Cohorts).value;
  };
  const [vendorRows, secondRows] = [await rowsOf(KEYS.vendor), await rowsOf(KEYS.stranger)];
  const [vendor, second] = [vendorRows, secondRows].map((rows) => rows.find((r) => r.dimension === 'organization')!) as [Cohorts['value'][number], Cohorts['value'][number]];
  const teamsA = vendorRows.find((r) => r.dimension === 'department' && r.cohort[0] === 'DeptA');
  const scoreRes = await proxy.get('/org-score?period=D30&by=department', KEYS.vendor);
  t.equal(scoreRes.status, 200);
  const score = JSON.parse(scoreRes.body.toString()) as Score;
  const meetings = (row: ScoreRow) => row.categories.find((c) => c.id === 'meetings')!;
  const figures = (c: Category) => `${c.numerator}/${c.denominator}`;
  const observed = {
    vendor, second, teamsA, organisation: meetings(score.organization),
    deptA: meetings(score.cohorts.find((c) => c.cohort[0] === 'DeptA')!), deptB: meetings(score.cohorts.find((c) => c.cohort[0] === 'DeptB')!),
  };
  t.comment(`Teams organisation ${vendor.users}/${vendor.activeUsers}, vendor sums ${JSON.stringify(vendor.metrics)}, second ${JSON.stringify(second.metrics)}; Meetings (in meetings on video / in meetings) organisation ${figures(observed.organisation)}, DeptA ${figures(observed.deptA)}, DeptB ${figures(observed.deptB)}`);
  t.equal(observed.organisation.denominator, null, 'Meetings hides its organisation total (4 people never on video)');
  t.equal(observed.deptB.denominator, null, 'Meetings hides DeptB (5 people in meetings)');
  return observed;
}

t.test('two Meeting Count sums at clips 119 and 120 beside a hidden Meetings total bound its count together', async (t) => {
  const { vendor, second, deptA } = await observe(t, '        Meeting Count: { clip: 119 }\n');
  const s120 = vendor.metrics.meetingCount?.sum ?? null;
  const s119 = second.metrics.meetingCount?.sum ?? null;
  if (s120 === null || s119 === null || deptA.denominator === null) {
    t.pass('the Teams organisation total or DeptA\'s Meetings cell is hidden: nothing to bound with');
    return;
  }
  const inMeetings = countBounds(s119, 119, s120, 120);
  const hiddenB = { min: inMeetings.min - deptA.denominator, max: inMeetings.max - deptA.denominator };
  t.comment(`the attacker: Meetings organisation ${inMeetings.min}..${inMeetings.max}, so DeptB ${hiddenB.min}..${hiddenB.max} people in meetings`);
  t.ok(hiddenB.max - hiddenB.min >= 10, `G3: DeptB's hidden count of people in meetings is read as ${hiddenB.min}..${hiddenB.max}, narrower than k = 10`);
});

t.test('Video and Screen Share Duration sums (the ISO 8601 columns) at clip 1 second beside a hidden Meetings total cap its qualifying count', async (t) => {
  const { second, deptA } = await observe(t, '        Video Duration: { clip: 1 }\n        Screen Share Duration: { clip: 1 }\n');
  const video = second.metrics.videoDuration?.sum ?? null;
  const screenShare = second.metrics.screenShareDuration?.sum ?? null;
  if (video === null || screenShare === null || deptA.numerator === null) {
    t.pass('the Teams organisation total or DeptA\'s Meetings cell is hidden: nothing to bound with');
    return;
  }
  // Whole seconds: at clip 1 each person who used video adds 1. Those in meetings who did are at most all of them.
  const qualifying = { min: 0, max: video + screenShare - deptA.numerator };
  t.comment(`the attacker: at most ${video + screenShare} people used video or screen sharing, DeptA's ${deptA.numerator} of them in meetings, so DeptB's hidden qualifying count is ${qualifying.min}..${qualifying.max}`);
  t.ok(qualifying.max - qualifying.min >= 5, `G3: DeptB's hidden count of people in meetings on video is read as ${qualifying.min}..${qualifying.max}, narrower than k_c = 5`);
});

t.test('a Meetings Attended Count sum at clip 1 beside a hidden Meetings total puts a floor under its count', async (t) => {
  const { vendor, second, teamsA, deptA } = await observe(t, '        Meetings Attended Count: { clip: 1 }\n');
  const attendees = second.metrics.meetingsAttendedCount?.sum ?? null;
  if (attendees === null || vendor.activeUsers === null || teamsA?.activeUsers == null || deptA.denominator === null) {
    t.pass('the Teams organisation total or DeptA\'s Meetings cell is hidden: nothing to bound with');
    return;
  }
  // Everyone who attended a meeting was in one; no one in meetings is inactive in Teams. DeptB's people in
  // meetings are at most its active Teams users (the organisation's released total less DeptA's released cohort).
  const deptBActive = vendor.activeUsers - teamsA.activeUsers;
  const inMeetingsB = { min: Math.max(0, attendees - deptA.denominator), max: deptBActive };
  t.comment(`the attacker: at least ${attendees} people in meetings, DeptA's ${deptA.denominator} of them; DeptB ${inMeetingsB.min}..${inMeetingsB.max}`);
  t.ok(inMeetingsB.max - inMeetingsB.min >= 10, `G3: DeptB's hidden count of people in meetings is read as ${inMeetingsB.min}..${inMeetingsB.max}, narrower than k = 10`);
});
