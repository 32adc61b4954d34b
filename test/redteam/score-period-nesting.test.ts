/**
 * Red team (privacy.md's threat model: consumers "may vary the request: report, period"; G2 "the same holds for
 * every derived share: an org-score numerator and its complement within the cohort"): the cohorts of a report
 * released for several periods are one table (cohort/suppress.ts suppressNested), but the org score's categories
 * are suppressed period by period. Their counts nest as the cohorts' do: Content collaboration counts the people
 * licensed for OneDrive or SharePoint (the same people over 7 and 30 days) and whoever worked with files in the
 * last 7 days did in the last 30, so per department D7's qualifying people are at most D30's.
 *
 * The tenant (k = k_c = 5, k_org = 10): DeptA 15 people, 3 without files over 30 days and 5 over the last 7;
 * DeptB 20 people, 4 and 5; DeptC 30 and 12 people outside the directory, all working with files. D30's score by
 * department hides DeptA and DeptB (3 and 4 not qualifying, G2) and releases the organisation (7): alone, DeptA's
 * non-qualifying people are 0..7. D7 releases every department (5 not qualifying each). Joined: DeptB has at most
 * 5 non-qualifying people over 30 days, so DeptA has 2..5 (and at most its D7 5): a hidden score cell's
 * complement narrowed to 4 values, the same attack test/redteam/period-nesting.test.ts made on the cohorts.
 * Fixed: the score's categories of every period some policy may read it for are one table (ScoreGrant.periods,
 * score/org-scores.ts suppressAcrossPeriods); D7 now hides DeptA and DeptB with D30.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { narrowedAcross } from '../helpers/independent-attacker.js';
import { startProxyFor } from '../helpers/proxy-stack.js';
import { directoryOf, TEAMS, type Person } from '../helpers/random-tenant.js';
import { NESTING_STRUCTURE, nestingLinks, nestingTenant, periodReports, readScoreCategory } from './nesting-tenant.js';

t.setTimeout(120_000);

/** Active in Teams (so every Teams cohort, Communication, Teamwork, Meetings and Mobility cell is everyone); `without` files: no OneDrive work. */
const person = (without: boolean): Person => ({ idle: false, mail: true, files: !without, mobile: true, video: true });
/** The nesting tenant with `withoutA` of DeptA's and `withoutB` of DeptB's people without files over the window. */
const tenant = (withoutA: number, withoutB: number) => nestingTenant(withoutA, withoutB, person);
const D30 = tenant(3, 4);
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

t.test('the score by department for D7 and D30, suppressed apart: joined by their nesting, a hidden D30 cell\'s non-qualifying people are narrowed', async (t) => {
  const reports = { ...(await periodReports(D30, 'D30')), ...(await periodReports(D7, 'D7')) };
  const double = await startGraphDouble({ reports, directory: directoryOf(D30) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-score-periods-'));
  await writeFile(join(dir, 'score-two-periods.yaml'), POLICY);
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const [d30, d7] = [await readScoreCategory(t, proxy, 'period=D30', 'contentCollaboration'), await readScoreCategory(t, proxy, 'period=D7', 'contentCollaboration')];
  t.equal(d30.get('department/DeptA'), null, 'D30 hides DeptA (3 of 15 without files)');
  const structure = NESTING_STRUCTURE;
  t.same(narrowedAcross(structure, [{ name: 'D30', observed: d30, k: 10 }], [], 5, false), [], 'D30 alone narrows nothing');
  // The same people counted in both windows; worked with files over the last 7 days => over the last 30.
  const nested = narrowedAcross(structure, [{ name: 'D30', observed: d30, k: 10 }, { name: 'D7', observed: d7, k: 10 }], nestingLinks('D7', 'D30'), 5, false).filter((n) => n.measure !== 'users'); // users: D7 releases the same count
  t.same(nested, [], `G2/G3: D30 score cells narrowed by D7: ${JSON.stringify(nested)}`);
});
