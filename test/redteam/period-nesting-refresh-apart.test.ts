/**
 * Red team (privacy.md's threat model: consumers "may vary the request: report, period" and "keep every response
 * they ever got"): a report's periods are suppressed as one table (cohort/release.ts suppressPeriods), but a
 * period whose snapshot holds another refresh date is left out of the group, and the release made then is served
 * unchanged for its whole epoch (release-book.ts). Graph refreshes the periods of a report one call at a time
 * (each `period=` is its own download, "usually available within 48 hours", graph-reports.md), and the proxy's
 * snapshot of one period may be a refresh behind another's (its own TTL). So D7 of the new refresh date is
 * released alone while D30's snapshot is still yesterday's; once D30 is refreshed, D30 is released with D7 as one
 * table, whose verdict on D7 differs from the D7 release already served. The consumer joins the two.
 *
 * The tenant is test/redteam/period-nesting.test.ts's (k = k_c = 5): DeptA 15 people, 3 idle for 30 days and 5 for
 * the last 7; DeptB 20 people, 4 and 5; DeptC 30 and 12 outside the directory, all active. D7 alone releases every
 * cell (5 inactive each); D30, grouped, hides DeptA and DeptB and releases the organisation (7 inactive). Joined:
 * DeptA's inactive people over 30 days are 2..5, the attack the grouping fixed for periods refreshed together.
 * Fixed: a period whose group holds another refresh date is fetched again, and while the dates differ nothing of
 * the group is released (503 PeriodsRefreshing, Retry-After); once they agree, the group is made from one refresh.
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

const D30 = nestingTenant(3, 4);
const D7 = nestingTenant(5, 5);

const dayBefore = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

t.test('D7 asked for while D30\'s snapshot is a refresh behind: nothing released until they agree, then one table', async (t) => {
  const thirty = (await tenantReports(D30))[TEAMS]!;
  const seven = rewriteColumn((await tenantReports(D7))[TEAMS]!.toString('utf8'), 'Report Period', () => '7');
  // Graph has refreshed D7; its D30 download still holds the previous refresh date (yesterday's data).
  const reports: Record<string, Buffer> = {
    [`${TEAMS}(period='D30')`]: rewriteColumn(thirty.toString('utf8'), 'Report Refresh Date', dayBefore),
    [`${TEAMS}(period='D7')`]: seven,
  };
  const double = await startGraphDouble({ reports, directory: directoryOf(D30) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-periods-apart-'));
  await writeFile(join(dir, 'two-periods.yaml'), nestingPolicy('two-periods', 'periods: [D7, D30]'));
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir, snapshotTtlSeconds: 0 } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const behind = await proxy.get(`/cohorts/${TEAMS}?period=D7&format=json`, KEYS.stranger);
  t.equal(behind.status, 503, 'D7 is not released alone while D30 is a refresh behind');
  t.equal(behind.headers['retry-after'], '300');
  t.match(JSON.parse(behind.body.toString()), { error: { code: 'ServiceUnavailable', message: /not yet refreshed all the periods of this report/ } });
  t.notMatch((JSON.parse(behind.body.toString()) as { error: { message: string } }).error.message, /DeptA|\d{4}-\d{2}-\d{2}/, 'nothing of the data in the answer');
  // Graph's D30 download catches up with the same refresh date as D7's.
  reports[`${TEAMS}(period='D30')`] = thirty;
  const d7 = await readCohorts(t, proxy, 'period=D7');
  const d30 = await readCohorts(t, proxy, 'period=D30');
  t.equal(d30.get('department/DeptA'), null, 'D30 hides DeptA (3 of 15 inactive)');
  t.equal(d7.get('department/DeptA'), null, 'and D7 with it');
  const nested = narrowedAcross(NESTING_STRUCTURE, [{ name: 'D30', observed: d30, k: 5 }, { name: 'D7', observed: d7, k: 5 }], nestingLinks('D7', 'D30'), 5, false);
  t.same(nested, [], `G2/G3: D30 cells narrowed by D7: ${JSON.stringify(nested)}`);
});
