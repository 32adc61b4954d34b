/**
 * Red team (privacy.md's threat model: consumers "may vary the request: report, period" and "keep every response
 * they ever got"): the org score's categories of several periods are one table (score/org-scores.ts
 * suppressAcrossPeriods), made "from one refresh": the score compares its periods' refresh dates and answers 503
 * (PeriodsRefreshing) while they differ. But the date it compares is ScoreFacts.refreshDate, the *first* report's
 * (getOffice365ActiveUserDetail), while Graph refreshes each report and each period apart (graph-reports.md:
 * "usually available within 48 hours", report by report). So D7's score is made, grouped with a D30 whose OneDrive
 * download is still yesterday's, and served unchanged for its whole epoch (release-book.ts: the epoch is the first
 * report's date, which does not move); once D30's OneDrive catches up, D30's score is made grouped with D7, whose
 * verdict on D7 differs from the D7 release already served. The consumer joins the two:
 * test/redteam/period-nesting-refresh-apart.test.ts's attack on the score's other reports.
 *
 * The tenant is test/redteam/score-period-nesting.test.ts's (k = k_c = 5, k_org = 10): DeptA 15 people, 3
 * without files over 30 days and 5 over the last 7; DeptB 20 people, 4 and 5; DeptC 30 and 12 outside the
 * directory, all working with files. Yesterday's D30 OneDrive download: everyone worked with files. D7, grouped
 * with it, releases Content collaboration for every department (5 not qualifying each); D30, grouped with D7 once
 * its OneDrive is today's, hides DeptA and DeptB and releases the organisation (7). Joined: DeptA's non-qualifying
 * people over 30 days are 2..5. Fixed: the periods' refresh dates are compared report by report
 * (score/org-scores.ts compute), and nothing is released while any differs (503 PeriodsRefreshing).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { narrowedAcross } from '../helpers/independent-attacker.js';
import { KEYS, startProxyFor } from '../helpers/proxy-stack.js';
import { directoryOf, TEAMS, type Person } from '../helpers/random-tenant.js';
import { rewriteColumn } from './helpers.js';
import { NESTING_STRUCTURE, nestingLinks, nestingTenant, periodReports, readScoreCategory } from './nesting-tenant.js';

t.setTimeout(180_000);

const ONEDRIVE = 'getOneDriveActivityUserDetail';
/** Active in Teams (every Teams cohort, Communication, Teamwork, Meetings and Mobility cell is everyone); `files`: worked with OneDrive files. */
const person = (files: boolean): Person => ({ idle: false, mail: true, files, mobile: true, video: true });
/** The nesting tenant with `withoutA` of DeptA's and `withoutB` of DeptB's people without files over the window. */
const tenant = (withoutA: number, withoutB: number) => nestingTenant(withoutA, withoutB, (without) => person(!without));
const D30 = tenant(3, 4);
const D30_YESTERDAY = tenant(0, 0);
const D7 = tenant(5, 5);

const POLICY = `name: score-two-periods
description: The org score by department over the last 7 and 30 days (red-team fixture).
consumers: [no-policy]
k: 5
kC: 5
kOrg: 10
periods: [D7, D30]
formats: [csv, json]
permissions: [score]
reports:
  ${TEAMS}:
    cohort:
      by: [organization, department]
`;

const dayBefore = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

t.test('D7\'s score made while D30\'s OneDrive download is a refresh behind (its first report is not), then D30\'s: a hidden D30 cell\'s non-qualifying people are narrowed', async (t) => {
  const today = await periodReports(D30, 'D30');
  const yesterday = (await periodReports(D30_YESTERDAY, 'D30'))[`${ONEDRIVE}(period='D30')`]!;
  const reports: Record<string, Buffer> = {
    ...today, ...(await periodReports(D7, 'D7')),
    // Graph has refreshed everything but D30's OneDrive download, which holds the previous refresh (yesterday's data).
    [`${ONEDRIVE}(period='D30')`]: rewriteColumn(yesterday.toString('utf8'), 'Report Refresh Date', dayBefore),
  };
  const double = await startGraphDouble({ reports, directory: directoryOf(D30) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-score-apart-'));
  await writeFile(join(dir, 'score-two-periods.yaml'), POLICY);
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir, snapshotTtlSeconds: 0 } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const behind = await proxy.get('/org-score?period=D7&by=department', KEYS.stranger);
  t.equal(behind.status, 503, "fixed: the score's periods are compared report by report, and nothing is released while they differ");
  t.equal(behind.headers['retry-after'], '300');
  // Graph's D30 OneDrive download catches up with the others' refresh date.
  reports[`${ONEDRIVE}(period='D30')`] = today[`${ONEDRIVE}(period='D30')`]!;
  const d7 = await readScoreCategory(t, proxy, 'period=D7', 'contentCollaboration');
  const d30 = await readScoreCategory(t, proxy, 'period=D30', 'contentCollaboration');
  t.equal(d30.get('department/DeptA'), null, 'D30 hides DeptA (3 of 15 without files)');
  const nested = narrowedAcross(NESTING_STRUCTURE, [{ name: 'D30', observed: d30, k: 10 }, { name: 'D7', observed: d7, k: 10 }], nestingLinks('D7', 'D30'), 5, false).filter((n) => n.measure !== 'users'); // users: D7 releases the same count
  t.same(nested, [], `G2/G3: D30 score cells narrowed by D7: ${JSON.stringify(nested)}`);
});

/**
 * Held snapshots a refresh behind (the snapshot cache keeps each report's download for its TTL): another tool's
 * OneDrive cohorts of one period were read before Graph refreshed, so that period's OneDrive snapshot is
 * yesterday's while the rest is fetched today's. The score fetches the older side again, once, instead of
 * answering 503 until the cache expires.
 */
for (const held of ['D30', 'D7'] as const) {
  t.test(`the score's ${held} OneDrive snapshot held from yesterday's refresh: fetched again, and the score released`, async (t) => {
    const today = { ...(await periodReports(D30, 'D30')), ...(await periodReports(D7, 'D7')) };
    const old = (text: Buffer) => rewriteColumn(text.toString('utf8'), 'Report Refresh Date', dayBefore);
    const reports: Record<string, Buffer> = Object.fromEntries(Object.entries(today).map(([call, csv]) => [call, old(csv)]));
    const double = await startGraphDouble({ reports, directory: directoryOf(D30) });
    const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-score-held-'));
    await writeFile(join(dir, 'score-two-periods.yaml'), POLICY);
    await writeFile(join(dir, 'onedrive-one-period.yaml'), `name: onedrive-one-period\ndescription: OneDrive cohorts over one period (fixture).\nconsumers: [onboarding]\nperiods: [${held}]\nformats: [json]\nreports:\n  ${ONEDRIVE}:\n    cohort:\n      by: [organization]\n`);
    const proxy = await startProxyFor(double, { proxy: { policiesDir: dir, snapshotTtlSeconds: 3600 } });
    t.teardown(async () => {
      await proxy.close();
      await double.close();
    });
    t.equal((await proxy.get(`/cohorts/${ONEDRIVE}?period=${held}&format=json`, KEYS.onboarding)).status, 200, `${held} OneDrive cohorts read (and held) before the refresh`);
    // Graph refreshes every report; the proxy still holds that one OneDrive download from before.
    Object.assign(reports, today);
    // D7 asked for: with D30 held, the other period is the older; with D7 held, the reports in hand are.
    const res = await proxy.get('/org-score?period=D7&by=department', KEYS.stranger);
    t.equal(res.status, 200, `the older ${held === 'D30' ? 'other period' : 'reports in hand'} fetched again`);
  });
}
