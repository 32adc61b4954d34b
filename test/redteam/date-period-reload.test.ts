/**
 * Red team (privacy.md's threat model: consumers "keep every response they ever got" and "may vary the request:
 * report, period, date"; the policy owner may change policies at any time): date-period-nesting.test.ts across a
 * reload. A single day's cohorts are the organisation's only while the live set releases the report's periods
 * (policy/decide.ts dayNestsInPeriods), but a D7 release the consumer kept from the set before is not in the live
 * set. The owner drops the periods (a narrowing change) within the refresh, and yesterday's cohorts by department,
 * a table no release of the refresh made, stand beside the kept D7: joined by their nesting (whoever was active
 * yesterday was active over the last 7 days), they narrow what D7 hides. Neither the tables made within the refresh
 * (cohort/tables-made.ts: a day's table is keyed apart from the periods') nor the shown cells (PatternAt: a day's
 * window is its date) tie a day to the period that holds it.
 *
 * The other way round, the same: yesterday's cohorts by department kept from a set that releases no period of the
 * report (only ALL, which the Teams report does not have), then D7 after a reload adds it. Both are todo: the
 * nesting of a day in the periods that hold it outlives the refresh (date reports reach 28 days back, and a D7
 * kept from one refresh holds days the next refresh's date reports still serve), so keeping it within the refresh
 * (cohort/tables-made.ts) would not be enough; what a consumer was released of a report's periods, or days by a
 * dimension, has to be remembered for as long as a day of them can be asked for.
 *
 * The tenant is date-period-nesting's (k = k_c = 5): DeptA 15 people, 3 idle over the last 7 days and 5 yesterday;
 * DeptB 20, 4 and 5; DeptC 30 and 12 outside the directory, all active. D7 hides DeptA and DeptB and shows the
 * organisation (7 inactive); yesterday shows every cell (5 inactive each): joined, DeptA's inactive people over the
 * 7 days are 2..5.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { narrowedAcross, type Observed } from '../helpers/independent-attacker.js';
import { startProxyFor } from '../helpers/proxy-stack.js';
import { directoryOf, tenantReports, TEAMS } from '../helpers/random-tenant.js';
import { rewriteColumn } from './helpers.js';
import { NESTING_STRUCTURE, nestingLinks, nestingPolicy, nestingTenant, readCohorts } from './nesting-tenant.js';

t.setTimeout(120_000);

const todo = (finding: string) => (process.env.GPP_REDTEAM_TODO === 'run' ? false : finding);

/** Over the last 7 days: 3 and 4 idle. */
const D7 = nestingTenant(3, 4);
/** On one day of them: 5 and 5 idle. */
const DAY = nestingTenant(5, 5);

const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

/** The Teams report over D7 and yesterday, served by the Graph double; the proxy starts on `first` (YAML lines). */
async function proxyOn(t: Test, first: string) {
  const seven = rewriteColumn((await tenantReports(D7))[TEAMS]!.toString('utf8'), 'Report Period', () => '7');
  const day = rewriteColumn((await tenantReports(DAY))[TEAMS]!.toString('utf8'), 'Report Period', () => '1');
  const double = await startGraphDouble({ reports: { [`${TEAMS}(period='D7')`]: seven, [`${TEAMS}(date=${yesterday})`]: day }, directory: directoryOf(D7) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-days-reload-'));
  const file = join(dir, 'period-and-days.yaml');
  await writeFile(file, nestingPolicy('period-and-days', first));
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const reload = async (windows: string) => {
    const before = proxy.proxy.policies.current.version;
    await writeFile(file, nestingPolicy('period-and-days', windows));
    await proxy.proxy.policies.reload();
    t.not(proxy.proxy.policies.current.version, before, `the set with ${windows.replace('\n', ', ')} is live`);
  };
  return { proxy, reload };
}

/** What D7 and the day joined narrow: the same people on the day and over the 7 days; active on the day => active over the 7 days. */
const nestedNarrowed = (d7: Observed, one: Observed) =>
  narrowedAcross(NESTING_STRUCTURE, [{ name: 'D7', observed: d7, k: 5 }, { name: 'day', observed: one, k: 5 }], nestingLinks('day', 'D7'), 5, false).filter((n) => n.measure !== 'users'); // users: the day releases the same count

/** Periods only ALL, which the Teams report does not have (policy/decide.ts windowCohortPlan): single days alone. */
const DAYS_ONLY = 'periods: [ALL]\ndates: true';
const D7_AND_DAYS = 'periods: [D7]\ndates: true';

t.test("D7 kept; a reload drops the periods: yesterday's cohorts by department narrow no hidden D7 cell", { todo: todo("yesterday's cohorts by department, released once no policy releases the Teams report's periods, beside the D7 cohorts kept from the set before: DeptA's and DeptB's inactive people over the 7 days read 2..5 (policy/decide.ts dayNestsInPeriods reads the live set only)") }, async (t) => {
  const { proxy, reload } = await proxyOn(t, D7_AND_DAYS);
  const d7 = await readCohorts(t, proxy, 'period=D7');
  t.equal(d7.get('department/DeptA'), null, 'D7 hides DeptA (3 of 15 inactive)');
  await reload(DAYS_ONLY);
  const one = await readCohorts(t, proxy, `date=${yesterday}`);
  const nested = nestedNarrowed(d7, one);
  t.same(nested, [], `G2/G3: D7 cells kept from the set before narrowed by a day: ${JSON.stringify(nested)}`);
});

t.test("yesterday's cohorts by department kept; a reload adds D7: D7 narrows no cell beside the kept day", { todo: todo("D7 by department, released after a reload adds the period, beside yesterday's cohorts by department kept from the set that released days alone: D7's hidden DeptA and DeptB inactive people read 2..5") }, async (t) => {
  const { proxy, reload } = await proxyOn(t, DAYS_ONLY);
  const one = await readCohorts(t, proxy, `date=${yesterday}`);
  t.same(one.get('department/DeptA'), { users: 15, active: 10 }, 'alone, the days are released by department (DeptA 15 listed, 10 active)');
  await reload(D7_AND_DAYS);
  const d7 = await readCohorts(t, proxy, 'period=D7');
  const nested = nestedNarrowed(d7, one);
  t.same(nested, [], `G2/G3: D7 cells narrowed by a day kept from the set before: ${JSON.stringify(nested)}`);
});
