/**
 * Red team (privacy.md's threat model: consumers "may vary the request: report, period, date"): a report's periods
 * are suppressed as one table (cohort/suppress.ts suppressNested), but single dates (`date=`) are not grouped with
 * them, and a day nests in the period that holds it as D7 does in D30: whoever was active on a day of the last 7
 * was active over the last 7, and the day's report lists the same people. A consumer allowed a period and single
 * dates (the policy's `dates: true`) joins them.
 *
 * The tenant (k = k_c = 5): DeptA 15 people, 3 idle over the last 7 days and 5 on yesterday; DeptB 20 people, 4
 * and 5; DeptC 30 and 12 people outside the directory, all active. D7 hides DeptA and DeptB (3 and 4 inactive,
 * G2) and releases the organisation (7 inactive): alone, DeptA's inactive people are 0..7. Yesterday's release
 * shows every cell (5 inactive each). Joined: DeptB has at most 5 inactive over the 7 days, so DeptA has 2..5.
 * Fixed: a single day's cohorts of a report whose cohorts are released for periods are the organisation's only
 * (policy/decide.ts dayNestsInPeriods); asked by a dimension, 403 saying why.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { narrowedAcross } from '../helpers/independent-attacker.js';
import { KEYS, startProxyFor } from '../helpers/proxy-stack.js';
import { directoryOf, tenantReports, TEAMS } from '../helpers/random-tenant.js';
import { rewriteColumn } from './helpers.js';
import { NESTING_STRUCTURE, nestingLinks, nestingPolicy, nestingTenant, readCohorts } from './nesting-tenant.js';

t.setTimeout(120_000);

/** Over the last 7 days: 3 and 4 idle. */
const D7 = nestingTenant(3, 4);
/** On one day of them: 5 and 5 idle. */
const DAY = nestingTenant(5, 5);

const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

t.test('D7 and yesterday\'s cohorts, released apart: joined by their nesting, a hidden D7 cell\'s inactive people are narrowed', async (t) => {
  const seven = rewriteColumn((await tenantReports(D7))[TEAMS]!.toString('utf8'), 'Report Period', () => '7');
  const day = rewriteColumn((await tenantReports(DAY))[TEAMS]!.toString('utf8'), 'Report Period', () => '1');
  const double = await startGraphDouble({ reports: { [`${TEAMS}(period='D7')`]: seven, [`${TEAMS}(date=${yesterday})`]: day }, directory: directoryOf(D7) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-days-'));
  await writeFile(join(dir, 'period-and-days.yaml'), nestingPolicy('period-and-days', 'periods: [D7]\ndates: true'));
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const [d7, one] = [await readCohorts(t, proxy, 'period=D7'), await readCohorts(t, proxy, `date=${yesterday}`)];
  t.equal(d7.get('department/DeptA'), null, 'D7 hides DeptA (3 of 15 inactive)');
  const structure = NESTING_STRUCTURE;
  t.same(narrowedAcross(structure, [{ name: 'D7', observed: d7, k: 5 }], [], 5, false), [], 'D7 alone narrows nothing');
  // The same people on the day and over the 7 days; active on the day => active over the 7 days.
  const nested = narrowedAcross(structure, [{ name: 'D7', observed: d7, k: 5 }, { name: 'day', observed: one, k: 5 }], nestingLinks('day', 'D7'), 5, false).filter((n) => n.measure !== 'users'); // users: the day releases the same count
  t.same(nested, [], `G2/G3: D7 cells narrowed by a day: ${JSON.stringify(nested)}`);
  t.same([...one.keys()], ['organization/all'], "the day: the organisation's figures only");
  const byDepartment = await proxy.get(`/cohorts/${TEAMS}?date=${yesterday}&by=department&format=json`, KEYS.stranger);
  t.equal(byDepartment.status, 403, 'a day by department is refused');
  t.match(JSON.parse(byDepartment.body.toString()), { error: { message: /released for the organisation only: its periods are released too/ } });
});
