/**
 * Red team (privacy.md's threat model: consumers "keep every response they ever got"): the org score's categories
 * of every period policies may read it for are one table (score/org-scores.ts suppressAcrossPeriods), but only
 * while the live policy set grants those periods. A change that narrows exposure (D30 dropped from the score's
 * periods) would end the group within the same Graph refresh, and the score for D7 be released again alone
 * beside the D30 score the consumer kept, made with D7's grouped pattern (the cohorts' case is
 * test/redteam/period-group-reload.test.ts).
 *
 * The tenant is test/redteam/score-period-nesting.test.ts's (k = k_c = 5, k_org = 10): DeptA 15 people, 3 without
 * files over 30 days and 5 over the last 7; DeptB 20 people, 4 and 5; DeptC 30 and 12 outside the directory. Grouped,
 * the D30 and D7 scores hide DeptA and DeptB in Content collaboration; D7 alone releases every department (5 not
 * qualifying each), which with the kept D30 gives DeptA's non-qualifying people over 30 days as 2..5. Fixed: the
 * score's releases of a refresh stay within the table they were first made within (cohort/tables-made.ts TablesMade).
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

const person = (without: boolean): Person => ({ idle: false, mail: true, files: !without, mobile: true, video: true });
const tenant = (withoutA: number, withoutB: number) => nestingTenant(withoutA, withoutB, person);
const D30 = tenant(3, 4);
const D7 = tenant(5, 5);

const policy = (periods: string) => `name: score-periods
description: The org score by department (red-team fixture).
consumers: [no-policy]
k: 5
kC: 5
kOrg: 10
periods: [${periods}]
formats: [csv, json]
permissions: [score]
reports:
  ${TEAMS}:
    cohort:
      by: [organization, department]
`;

t.test('the D30 score kept from the grouped set, the D7 score read again after a reload drops D30 within the refresh: no hidden D30 cell is narrowed', async (t) => {
  const reports = { ...(await periodReports(D30, 'D30')), ...(await periodReports(D7, 'D7')) };
  const double = await startGraphDouble({ reports, directory: directoryOf(D30) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-score-reload-'));
  const file = join(dir, 'score-periods.yaml');
  await writeFile(file, policy('D7, D30'));
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const d30 = await readScoreCategory(t, proxy, 'period=D30', 'contentCollaboration');
  t.equal(d30.get('department/DeptA'), null, 'D30 hides DeptA (3 of 15 without files)');
  const before = proxy.proxy.policies.current.version;
  await writeFile(file, policy('D7'));
  await proxy.proxy.policies.reload();
  t.not(proxy.proxy.policies.current.version, before, 'the narrower set is live');
  const d7 = await readScoreCategory(t, proxy, 'period=D7', 'contentCollaboration');
  const nested = narrowedAcross(NESTING_STRUCTURE, [{ name: 'D30', observed: d30, k: 10 }, { name: 'D7', observed: d7, k: 10 }], nestingLinks('D7', 'D30'), 5, false).filter((n) => n.measure !== 'users');
  t.same(nested, [], `G2/G3: the kept D30 score's cells narrowed by the new D7: ${JSON.stringify(nested)}`);
});
