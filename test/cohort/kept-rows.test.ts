/**
 * The Teams report's rows kept in the snapshot's validation pass (cohort/report-users.ts KeptReportRows, made by
 * score/score-facts.ts scoreFactsSummarizer) make the organisation's cohort table and its companions exactly as
 * the CSV does (aggregateCsvReport), refuse the same reports, and spare the score's linked verdict a second parse
 * of the report (issue 18, item 3: each report parsed once per snapshot).
 */
import t from 'tap';
import { findReport } from '../../src/catalogue/catalogue.js';
import { Directory } from '../../src/cohort/directory.js';
import { suppressOrganisation, tableDigest } from '../../src/cohort/release.js';
import { aggregateCsvReport, KeptReportRows, planCohorts, type CohortPlan } from '../../src/cohort/report-users.js';
import type { CohortTable } from '../../src/cohort/table.js';
import { SnapshotCache } from '../../src/graph/snapshots.js';
import { validateCsvReport } from '../../src/sanitize/csv-report.js';
import { OrgScores, type ScoreGrant } from '../../src/score/org-scores.js';
import { categoryCompanions, scoreFactsSummarizer } from '../../src/score/score-facts.js';
import { SimulatedTenant } from '../../src/simulator/tenant.js';
import { chunked, countingReads, fixtureReports, scoreTenantGraph } from '../helpers/score-fixtures.js';

const teams = findReport('getTeamsUserActivityUserDetail')!;
const tenant = new SimulatedTenant({ users: 300, seed: 7 });
const directory = new Directory(Array.from({ length: tenant.size }, (_, i) => tenant.user(i)));
/** The fixture's Teams report (an `(Unknown)` row, a concealed name, and the first user again at the end). */
const fixture = fixtureReports(tenant).get(teams.name)!;
/** The same without its last row (the first user again): a report whose every user's rows are together. */
const consistent = Buffer.from(fixture.toString('utf8').replace(/[^\n]*\r\n$/, ''));

/** The organisation's Teams table as policy/decide.ts jointCohortPlan makes it when the score is granted too. */
function jointPlan(rule: Parameters<typeof planCohorts>[1]): CohortPlan {
  return { ...planCohorts(teams, rule, 10, 5), companions: categoryCompanions(teams.name) };
}
const joint = jointPlan({ cohort: { by: ['organization', 'department', 'officeLocation', 'department x officeLocation'], metrics: { 'Meeting Count': { clip: 120 }, 'Video Duration In Seconds': { clip: 7200 } } } });

/** The rows a score summarizer keeps of `bytes` in the validation pass, keeping `metrics`. */
async function keptRows(bytes: Buffer, metrics: readonly string[]): Promise<KeptReportRows> {
  const summarizer = scoreFactsSummarizer(() => metrics)(teams)!;
  await validateCsvReport(chunked(bytes), teams, undefined, (batch) => summarizer.add(batch), summarizer.columns);
  if (summarizer.kept === undefined) throw new Error('the Teams report keeps no rows');
  return summarizer.kept;
}

const cells = (table: CohortTable) => table.cells.map((c) => ({ dimension: c.dimension, key: c.key, users: c.users, active: c.active, sums: c.sums }));

t.test('kept rows make the same organisation table and companion tables as the CSV', async (t) => {
  const kept = await keptRows(consistent, ['Meeting Count', 'Video Duration In Seconds']);
  t.ok(kept.serves(joint));
  const fromKept = await kept.aggregate(joint, directory);
  const fromCsv = await aggregateCsvReport(chunked(consistent), joint, directory);
  t.same(cells(fromKept.table), cells(fromCsv.table), 'the same cells, figures and sums');
  t.equal(tableDigest(fromKept.table), tableDigest(fromCsv.table));
  t.same([...fromKept.companions.keys()], ['meetings']);
  t.same(cells(fromKept.companions.get('meetings')!), cells(fromCsv.companions.get('meetings')!), 'the same Meetings table');
  t.ok(fromCsv.table.cells.some((c) => c.sums.some((s) => s > 0)), 'the sums are not all zero (the test compares something)');

  // The verdict (suppression of both as one table) is the same whichever way the rows are read.
  const viaKept = await suppressOrganisation(() => { throw new Error('the CSV is not read'); }, joint, directory, { kept });
  const viaCsv = await suppressOrganisation(() => chunked(consistent), joint, directory);
  t.same([...viaKept.states], [...viaCsv.states]);
  t.same(cells(viaKept.companions.get('meetings')!), cells(viaCsv.companions.get('meetings')!));
  t.same([...viaKept.companions.get('meetings')!.cells.map((c) => c.state)], [...viaCsv.companions.get('meetings')!.cells.map((c) => c.state)]);
  t.equal(viaKept.lpVerified, viaCsv.lpVerified);
});

t.test('a user whose rows come back after other users is refused from kept rows as from the CSV', async (t) => {
  const kept = await keptRows(fixture, ['Meeting Count', 'Video Duration In Seconds']);
  const csv = aggregateCsvReport(chunked(fixture), joint, directory);
  await t.rejects(csv, { code: 'InconsistentReport' });
  const message = await csv.catch((error: Error) => error.message);
  await t.rejects(kept.aggregate(joint, directory), { code: 'InconsistentReport', message });
});

t.test('a plan the kept rows cannot make is read from the CSV, with the same verdict', async (t) => {
  const kept = await keptRows(consistent, ['Meeting Count']);
  const unkept = jointPlan({ cohort: { by: ['organization', 'department'], metrics: { 'Meeting Count': { clip: 120 }, 'Audio Duration In Seconds': { clip: 600 } } } });
  const byColumn = jointPlan({ cohort: { by: ['organization', 'hasOtherAction'] } });
  const byLicence = jointPlan({ cohort: { by: ['organization', 'licenceClass'] } });
  for (const [name, plan] of [['a metric not kept', unkept], ['a yes/no column', byColumn], ['the licence class', byLicence]] as const) {
    t.notOk(kept.serves(plan), name);
    await t.rejects(kept.aggregate(plan, directory), { code: 'InternalInvariant' }, `${name}: never aggregated from rows that lack it`);
    let reads = 0;
    const verdict = await suppressOrganisation(() => (reads++, chunked(consistent)), plan, directory, { kept });
    const alone = await suppressOrganisation(() => chunked(consistent), plan, directory);
    t.equal(reads, 1, `${name}: read from the CSV`);
    t.same([...verdict.states], [...alone.states]);
  }
});

t.test("the score's linked verdict reads no report again: the Teams table comes from the rows kept in its fetch", async (t) => {
  const graph = await scoreTenantGraph(t);
  const metrics = () => ['Meeting Count', 'Video Duration In Seconds'];
  const onePass = countingReads(new SnapshotCache({ client: graph, ttlMs: 60_000, summarizeCsv: scoreFactsSummarizer(metrics) }));
  const twoPasses = countingReads(new SnapshotCache({ client: graph, ttlMs: 60_000 }));
  const grant: ScoreGrant = { policyName: 'p', dimensions: ['department', 'officeLocation'], kOrg: 10, kC: 5, cadence: 'daily', linked: [joint] };
  const lookup = { current: async () => directory };
  const fast = await new OrgScores({ snapshots: onePass, directory: lookup }).compute({ period: 'D30' }, grant, 'a');
  const slow = await new OrgScores({ snapshots: twoPasses, directory: lookup }).compute({ period: 'D30' }, grant, 'a');
  t.equal(onePass.reads, 0, 'no report read again after its fetch, the Teams report included');
  t.ok(twoPasses.reads > 7, 'without summaries every report is read again, and the Teams report once more for its table');
  t.same(fast.rows, slow.rows, 'the same score');
  t.same(fast.counts, slow.counts, 'the same suppression');
  const meetings = fast.rows.find((r) => r.dimension === 'organization')!.categories.find((c) => c.id === 'meetings');
  t.ok(meetings !== undefined, 'Meetings is released with the organisation');
});
