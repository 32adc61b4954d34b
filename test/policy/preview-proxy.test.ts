/**
 * `policy preview` against a real proxy on the same simulated tenant: the cells the preview says are released
 * are those a fresh proxy releases. Before, the preview suppressed each policy's table alone, and on its tenant
 * (refreshed 2026-11-20) reported 9 of 22 Teams cells released where the proxy, whose Teams table is one with the
 * org score's Meetings (README, Cohorts), releases 5.
 */
import t from 'tap';
import { loadPolicySet } from '../../src/policy/load.js';
import { previewPolicySet, simulatedData, type CohortPreview } from '../../src/policy/preview.js';
import { SampleReports } from '../../src/policy/sample-reports.js';
import { KEYS, SHIPPED_POLICIES, startStack } from '../helpers/proxy-stack.js';

t.setTimeout(240_000);

t.test("the preview's released cohort cells are the proxy's, report by report", async (t) => {
  // One tenant for both (the preview's default: 250 people, seed 1), refreshed two days ago as the simulator's default.
  const refreshDate = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
  const loaded = await loadPolicySet(SHIPPED_POLICIES);
  if (!loaded.ok) throw new Error('the shipped policies must load');
  const preview = await previewPolicySet(loaded.set, simulatedData(new SampleReports({ users: 250, seed: 1, refreshDate })));
  const cohorts = preview.consumers.find((c) => c.consumer === 'adoption-dashboard')!.reports.filter((r): r is CohortPreview => r.kind === 'cohort');
  t.ok(cohorts.some((r) => r.report === 'getTeamsUserActivityUserDetail'), 'the Teams cohorts (linked with the score) are previewed');

  const stack = await startStack({ simulator: { seed: 1, users: 250, refreshDate } });
  t.teardown(() => stack.close());
  for (const previewed of cohorts) {
    const res = await stack.get(`/cohorts/${previewed.report}?period=${previewed.period}&format=json`, KEYS.vendor);
    t.equal(res.status, 200, `${previewed.report}: the proxy answers`);
    const cells = (JSON.parse(res.body.toString()) as { value: { suppressed: boolean }[] }).value;
    t.same(
      { cells: previewed.cells, released: previewed.released },
      { cells: cells.length, released: cells.filter((c) => !c.suppressed).length },
      `${previewed.report} ${previewed.period}: the preview's cells and released cells are the proxy's`,
    );
  }
});
