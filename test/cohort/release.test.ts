/**
 * What a release's noise is keyed by (issue 15): the figure released (report, window, refresh date, the data,
 * dimension, cell, measure and scale), never the policy's other settings. Two plans that release the same cell
 * at the same scale release the same noisy figure and share its measure (paid once); another scale, another clip
 * or other data is another draw, and another measure to pay for.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import t from 'tap';
import { findReport } from '../../src/catalogue/catalogue.js';
import { Directory, type DirectoryEntry } from '../../src/cohort/directory.js';
import { protectCohortTable, type ProtectedRelease } from '../../src/cohort/release.js';
import { aggregateCsvReport, planCohorts, type CohortRuleShape } from '../../src/cohort/report-users.js';
import { SampleReports } from '../../src/policy/sample-reports.js';

const TEAMS = findReport('getTeamsUserActivityUserDetail')!;
const sample = new SampleReports({ users: 250 });
const csv = sample.csv(TEAMS, 'D30');
const key = randomBytes(32);

async function release(rule: CohortRuleShape['cohort'], k: number, entries: DirectoryEntry[] = sample.directory()): Promise<ProtectedRelease> {
  const plan = planCohorts(TEAMS, { cohort: rule }, k, 5);
  return protectCohortTable(await aggregateCsvReport(Readable.from([csv]), plan, new Directory(entries)), plan, 'D30', 'daily', key);
}

/** Released department figures: cell -> [users, active, team chat sum]. */
function departments(r: ProtectedRelease): Map<string, number[]> {
  return new Map(r.rows(['department']).filter((row) => !row.suppressed).map((row) => [row.cohort.join('|'), [row.users!, row.activeUsers!, row.metrics.teamChatMessageCount!.sum!]]));
}

const shared = (a: Map<string, number[]>, b: Map<string, number[]>) => [...a.keys()].filter((cell) => b.has(cell));

t.test('the same cell and measure at the same scale: the same noisy figure and the same measure, whatever k, the other dimensions and sums', async (t) => {
  const a = await release({ by: ['organization', 'department', 'officeLocation'], metrics: { 'Team Chat Message Count': { clip: 500 } }, noise: { margin95: 5 } }, 10);
  const b = await release({ by: ['organization', 'department'], metrics: { 'Team Chat Message Count': { clip: 500 }, 'Call Count': { clip: 100 } }, noise: { margin95: 5 } }, 5);
  const [da, db] = [departments(a), departments(b)];
  const cells = shared(da, db);
  t.ok(cells.length >= 3, `${cells.length} departments released by both`);
  t.same(cells.map((c) => db.get(c)), cells.map((c) => da.get(c)), 'users, active users and the chat sum are the same figures');
  const ids = new Set(b.measures.map((m) => m.id));
  t.equal(a.measures.filter((m) => ids.has(m.id)).length, 3, "the department's users, active users and chat sum are one measure each, shared (paid once)");
  const exact = await release({ by: ['organization', 'department'], metrics: { 'Team Chat Message Count': { clip: 500 } } }, 5);
  const de = departments(exact);
  t.ok(cells.some((c) => JSON.stringify(de.get(c)) !== JSON.stringify(da.get(c))), 'and they are noisy');
});

t.test('another scale, another clip or other data: another draw and another measure', async (t) => {
  const base = await release({ by: ['organization', 'department'], metrics: { 'Team Chat Message Count': { clip: 500 } }, noise: { margin95: 5 } }, 5);
  const d = departments(base);
  const ids = new Set(base.measures.map((m) => m.id));
  const scale = await release({ by: ['organization', 'department'], metrics: { 'Team Chat Message Count': { clip: 500 } }, noise: { margin95: 4 } }, 5);
  t.ok(shared(d, departments(scale)).some((c) => departments(scale).get(c)![0] !== d.get(c)![0]), 'another scale: other user counts');
  t.equal(scale.measures.filter((m) => ids.has(m.id)).length, 0, 'and no measure shared: both are paid for');
  const clip = await release({ by: ['organization', 'department'], metrics: { 'Team Chat Message Count': { clip: 400 } }, noise: { margin95: 5 } }, 5);
  const dc = departments(clip);
  t.same(shared(d, dc).map((c) => dc.get(c)!.slice(0, 2)), shared(d, dc).map((c) => d.get(c)!.slice(0, 2)), 'another clip: the same counts');
  t.ok(shared(d, dc).some((c) => dc.get(c)![2] !== d.get(c)![2]), 'but another sum (clipped elsewhere, it is another figure)');
  t.equal(clip.measures.filter((m) => ids.has(m.id)).length, 2, 'users and active users shared, the sum not');
  // A change of a directory attribute the dimension does not group by draws nothing new for it.
  const retitled = sample.directory().map((e, i) => (i === 0 ? { ...e, jobTitle: 'Retitled' } : e));
  t.same((await release({ by: ['organization', 'department'], metrics: { 'Team Chat Message Count': { clip: 500 } }, noise: { margin95: 5 } }, 5, retitled)).measures, base.measures, 'a new job title: the same department measures');
  // A move between departments is other data: every department figure is a fresh draw, and paid for.
  const moved = sample.directory().map((e, i) => (i === 0 ? { ...e, department: e.department === 'Sales' ? 'Legal' : 'Sales' } : e));
  t.equal((await release({ by: ['organization', 'department'], metrics: { 'Team Chat Message Count': { clip: 500 } }, noise: { margin95: 5 } }, 5, moved)).measures.filter((m) => ids.has(m.id)).length, 0, 'a move: other department measures');
});
