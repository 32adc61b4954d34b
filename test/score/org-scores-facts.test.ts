import t from 'tap';
import { Directory } from '../../src/cohort/directory.js';
import type { LeasedSnapshot, SnapshotSource } from '../../src/cohort/sources.js';
import type { ReportCall } from '../../src/catalogue/odata.js';
import { UTF8_BOM } from '../../src/catalogue/csv.js';
import { OrgScores, type ScoreGrant } from '../../src/score/org-scores.js';
import { SCORE_SOURCE_REPORTS } from '../../src/score/score-facts.js';
import { ReportRenderer } from '../../src/simulator/render.js';
import { LAST_DAY, reportSource } from '../../src/simulator/reports.js';
import { SimulatedTenant } from '../../src/simulator/tenant.js';

/** The simulator's D30 reports held as snapshots, counting how often each one's CSV is read. */
function simulatedSnapshots(tenant: SimulatedTenant): SnapshotSource & { reads: Map<string, number> } {
  const bytes = new Map(SCORE_SOURCE_REPORTS.map((report) => {
    const rows = reportSource(tenant, report, { firstDay: LAST_DAY - 29, lastDay: LAST_DAY, periodDays: 30 });
    const render = new ReportRenderer(tenant, report, { concealed: false });
    let csv = UTF8_BOM + render.csvHeader('\r\n');
    for (let i = 0; i < rows.count; i++) csv += render.csvLines(rows.item(i), '\r\n');
    return [report.name, Buffer.from(csv)] as const;
  }));
  const reads = new Map<string, number>();
  // One snapshot object per report, as SnapshotCache holds it until it expires.
  const snapshots = new Map([...bytes].map(([name, csv]): [string, LeasedSnapshot] => [name, {
    async *csv() {
      reads.set(name, (reads.get(name) ?? 0) + 1);
      for (let at = 0; at < csv.length; at += 4096) yield csv.subarray(at, at + 4096);
    },
    release() {},
  }]));
  return { stats: { hits: 0 }, reads, lease: async (call: ReportCall) => snapshots.get(call.report.name)! };
}

t.test('each score report is read once per snapshot, whatever the dimensions, `by` or consumer', async (t) => {
  const tenant = new SimulatedTenant({ users: 300, seed: 7 });
  const snapshots = simulatedSnapshots(tenant);
  const directory = new Directory(Array.from({ length: tenant.size }, (_, i) => tenant.user(i)));
  const scores = new OrgScores({ snapshots, directory: { current: async () => directory } });
  const grant = (dimensions: ScoreGrant['dimensions']): ScoreGrant => ({ policyName: 'p', dimensions, kOrg: 10, kC: 5, cadence: 'daily' });
  const organisation = await scores.compute({ period: 'D30' }, grant([]), 'a');
  const byDepartment = await scores.compute({ period: 'D30' }, grant(['department']), 'b');
  await scores.compute({ period: 'D30' }, grant(['department', 'officeLocation']), 'a');
  await scores.compute({ period: 'D30' }, grant(['department']), 'c');
  t.same(Object.fromEntries(snapshots.reads), Object.fromEntries(SCORE_SOURCE_REPORTS.map((r) => [r.name, 1])), 'one read of each report for four requests under three sets of dimensions');
  t.same(byDepartment.rows.find((r) => r.dimension === 'organization'), organisation.rows.find((r) => r.dimension === 'organization'), 'the organisation is the same in every release');
  t.ok(byDepartment.rows.some((r) => r.dimension === 'department'), 'the department release has department cohorts');
});
