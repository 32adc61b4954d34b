/**
 * Red team (privacy.md's threat model: consumers "may vary the request: report, period"): each period's cohorts
 * are suppressed as their own table, but the periods nest. D7 and D30 end on the same refresh date and list the
 * same people, so whoever was active in the last 7 days was active in the last 30: per cell, D7's active people
 * are at most D30's and D30's inactive people at most D7's. An attacker who reads both releases joins them.
 *
 * The tenant (k = k_c = 5): DeptA 15 people, 3 idle for 30 days and 5 for the last 7; DeptB 20 people, 4 and 5;
 * DeptC 30 and 12 people outside the directory, all active. D30 hides DeptA and DeptB (3 and 4 inactive, G2) and
 * releases the organisation (7 inactive): alone, DeptA's inactive people are 0..7, wide. D7 releases every cell
 * (5 inactive each). Joined: DeptB has at most 5 inactive over 30 days, so DeptA has 2..5: "at least two of
 * DeptA's fifteen did nothing in Teams for a month", a hidden cell's inactivity narrowed to 4 values (G2, G3).
 * Fixed: the periods a report's cohorts are released for are one table (policy/decide.ts jointCohortPlan's
 * `periods`, cohort/suppress.ts suppressNested); D7 now hides DeptA and DeptB with D30.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { narrowedAcross } from '../helpers/independent-attacker.js';
import { startProxyFor } from '../helpers/proxy-stack.js';
import { directoryOf, tenantReports, TEAMS } from '../helpers/random-tenant.js';
import { rewriteColumn } from './helpers.js';
import { NESTING_STRUCTURE, nestingLinks, nestingPolicy, nestingTenant, readCohorts } from './nesting-tenant.js';

t.setTimeout(120_000);

const D30 = nestingTenant(3, 4);
const D7 = nestingTenant(5, 5);

t.test('D7 and D30 released apart: joined by their nesting, a hidden D30 cell\'s inactive people are narrowed', async (t) => {
  const thirty = (await tenantReports(D30))[TEAMS]!;
  const seven = rewriteColumn((await tenantReports(D7))[TEAMS]!.toString('utf8'), 'Report Period', () => '7');
  const double = await startGraphDouble({ reports: { [`${TEAMS}(period='D30')`]: thirty, [`${TEAMS}(period='D7')`]: seven }, directory: directoryOf(D30) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-periods-'));
  await writeFile(join(dir, 'two-periods.yaml'), nestingPolicy('two-periods', 'periods: [D7, D30]'));
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const [d30, d7] = [await readCohorts(t, proxy, 'period=D30'), await readCohorts(t, proxy, 'period=D7')];
  t.equal(d30.get('department/DeptA'), null, 'D30 hides DeptA (3 of 15 inactive)');
  const structure = NESTING_STRUCTURE;
  t.same(narrowedAcross(structure, [{ name: 'D30', observed: d30, k: 5 }], [], 5, false), [], 'D30 alone narrows nothing');
  // The same people in both windows; active over the last 7 days => active over the last 30.
  const nested = narrowedAcross(structure, [{ name: 'D30', observed: d30, k: 5 }, { name: 'D7', observed: d7, k: 5 }], nestingLinks('D7', 'D30'), 5, false);
  t.same(nested, [], `G2/G3: D30 cells narrowed by D7: ${JSON.stringify(nested)}`);
});
