/**
 * Red team (privacy.md's threat model: consumers "keep every response they ever got"; the policy owner may change
 * policies at any time; README "Periods nest"): within a refresh the patterns only grow (cohort/tables-made.ts
 * TablesMade.withinPatterns), table by table. A period added within the refresh (with a raise of k: the owner
 * tightens and widens at once) makes D7 a member of the D30 group; D30 starts from the cells the kept release hid,
 * but D7 is a table no release of the refresh made, and its first pattern is checked beside the grouped D30 (one
 * pattern), not beside the D30 release the consumer kept, which shows cells the group hides. It failed so (todo)
 * until the refresh's shown cells were kept: a release that hides a cell shown before and shows one never shown now
 * hides the new ones (TablesMade.withinPatterns), here every D7 cell.
 *
 * The tenant (k = k_c = 5): DeptA 15 people, 9 idle over 30 days and 12 over the last 7; DeptB 20, DeptC 30 and 12
 * outside the directory, all active. D30 alone shows every cell (DeptA 15/6). The group hides DeptA (3 active over 7
 * days) and the 12 outside the directory in both periods; the kept D30 caps D7's hidden active counts (DeptA at most
 * 6, the outsiders at most 12), which with D7's organisation give DeptA's active people over 7 days as 3..6.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { narrowedAcross } from '../helpers/independent-attacker.js';
import { startProxyFor } from '../helpers/proxy-stack.js';
import { directoryOf } from '../helpers/random-tenant.js';
import { NESTING_STRUCTURE, nestingLinks, nestingTenant, periodReports, readCohorts } from './nesting-tenant.js';

t.setTimeout(120_000);

const METRICS_TOKEN = 'gpp-redteam-period-added-metrics';
const D30 = nestingTenant(9, 0);
const D7 = nestingTenant(12, 0);

const policy = (k: number, periods: string) => `name: teams-periods
description: Exact Teams cohorts by department (red-team fixture).
consumers: [no-policy]
k: ${k}
kC: 5
periods: [${periods}]
formats: [csv, json]
reports:
  getTeamsUserActivityUserDetail:
    cohort:
      by: [organization, department]
`;

t.test('D30 kept; a reload raises k and adds D7 within the refresh: D7 narrows no cell beside the kept D30', async (t) => {
  const reports = { ...(await periodReports(D30, 'D30')), ...(await periodReports(D7, 'D7')) };
  const double = await startGraphDouble({ reports, directory: directoryOf(D30) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-period-added-'));
  const file = join(dir, 'teams-periods.yaml');
  await writeFile(file, policy(5, 'D30'));
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir, metricsToken: METRICS_TOKEN } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const kept = await readCohorts(t, proxy, 'period=D30');
  t.same(kept.get('department/DeptA'), { users: 15, active: 6 }, 'D30 alone shows DeptA (15 listed, 6 active)');
  const before = proxy.proxy.policies.current.version;
  await writeFile(file, policy(6, 'D7, D30'));
  await proxy.proxy.policies.reload();
  t.not(proxy.proxy.policies.current.version, before, 'the set with k 6 and D7 is live');
  const d7 = await readCohorts(t, proxy, 'period=D7');
  const grouped = await readCohorts(t, proxy, 'period=D30');
  const attack = (d30: typeof kept) => narrowedAcross(NESTING_STRUCTURE, [{ name: 'D30', observed: d30, k: 5 }, { name: 'D7', observed: d7, k: 5 }], nestingLinks('D7', 'D30'), 5, false).filter((n) => n.measure !== 'users'); // users: both periods list the same people
  t.same(attack(grouped), [], 'beside the grouped D30, D7 narrows nothing');
  const narrowed = attack(kept);
  t.same(narrowed, [], `G2/G3: D7 cells narrowed by the D30 kept from the same refresh: ${JSON.stringify(narrowed)}`);
  // What the change costs until the next refresh is counted for the operator: D7's cells the group would show
  // (the organisation, DeptB, DeptC), none shown before.
  const metrics = (await proxy.get('/metrics', METRICS_TOKEN)).body.toString();
  const held = Number(/^gpp_cells_held_until_refresh (\d+)$/m.exec(metrics)?.[1]);
  t.equal(held, 3, 'gpp_cells_held_until_refresh counts the D7 cells held until the next refresh');
  // And the officer is told so when the set goes live (before, the reload line listed only the k and the period).
  const loaded = proxy.logs.map((l) => JSON.parse(l) as { msg?: string; changes?: string[] }).filter((l) => l.msg === 'policy set loaded').at(-1);
  t.match(loaded?.changes?.find((c) => c.startsWith('~ ')), /^~ no-policy getTeamsUserActivityUserDetail: its organisation table for D30 widens \(one table with D7\): until Graph's next refresh, a cell it would show for the first time beside cells today's releases showed is served suppressed \(counted by gpp_cells_held_until_refresh\)/, 'the reload log line says which cells are held until the next refresh');
});
