/**
 * Red team (privacy.md's threat model: consumers "keep every response they ever got"; the policy owner may change
 * policies at any time; graph-reports.md: Graph refreshes reports apart, report by report): the widening rule
 * (cohort/tables-made.ts TablesMade.withinPatterns, showNothingNew) one report refresh later. A score category of
 * several reports keeps its *hidden* cells while any of its reports' refresh is the same (score/org-scores.ts
 * categoryPatternsAt: "a category keeps its pattern while any of its reports' data is the same", red team
 * score-reports-apart-kc-raise.test.ts), but its *shown* cells only where all of them are (the PatternAts' shown
 * cells intersected). When Graph refreshes the licence report first, Content collaboration's files are the same
 * refresh's data and nobody's licences changed, yet the cells it showed are forgotten: a release that raises k_c
 * (hiding a department shown before) and adds the office (cells never shown) is no longer made to show nothing new.
 *
 * The tenant (k = k_org = 4; qualifying when working with files; nobody outside the directory): DeptA 11 people in
 * OfficeQ, 9 with files; DeptB 13 in OfficeQ, 12 with files; DeptC 9 in OfficeP, 6 with files. Kept: the score by
 * department at k_c 2 (DeptA 9/11 shown, DeptB and DeptC hidden). Then the licence report's next refresh, and a
 * reload to the score by department and office at k_c 3: DeptA is withdrawn (2 without files), and the offices are
 * new. OfficeQ (21/24) is DeptA and DeptB: beside the kept DeptA, DeptB's one person without files is read exactly.
 *
 * Fixed (the second test failed before: OfficeQ shown beside DeptA withdrawn, DeptB's non-qualifying read as 1..1):
 * a table's shown cells are those shown under any of its PatternAts, as its hidden cells are
 * (TablesMade.showNothingNew).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { narrowedCells, type Observed } from '../helpers/independent-attacker.js';
import { startProxyFor } from '../helpers/proxy-stack.js';
import { directoryDomain, directoryOf } from '../helpers/random-tenant.js';
import { rewriteColumn } from './helpers.js';
import { periodReports } from './nesting-tenant.js';
import { filesPerson, joined, readContentCollaboration, scorePolicy } from './reload-helpers.js';

t.setTimeout(120_000);

const OFFICE365 = "getOffice365ActiveUserDetail(period='D30')";
const c = (people: number, active: number) => ({ people: Array.from({ length: people }, (_, i) => filesPerson(i >= active)), ghosts: 0 });
const none = { people: [], ghosts: 0 };
const TENANT = { departments: 3, offices: 2, k: 4, kC: 2, kOrg: 4, crosses: [none, c(11, 9), none, c(13, 12), c(9, 6), none], outsiders: [] };

const policy = (by: string, kC: number) => scorePolicy('score-widen', by, `k: 4\nkC: ${kC}\nkOrg: 4`);

const dayAfter = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/** The cells `later` shows that `kept` did not, and those `kept` showed that `later` hides. */
function compare(kept: Observed, later: Observed): { fresh: string[]; withdrawn: string[] } {
  const shown = (o: Observed) => new Set([...o].filter(([, v]) => v !== null).map(([cell]) => cell));
  const [before, after] = [shown(kept), shown(later)];
  return { fresh: [...after].filter((c) => !before.has(c)), withdrawn: [...before].filter((c) => !after.has(c)) };
}

/** The score by department kept at k_c 2; then (after the licence report's next refresh, where `licenceFirst`) the score by department and office at k_c 3. */
async function keptThenWidened(t: Test, licenceFirst: boolean) {
  const reports = await periodReports(TENANT, 'D30');
  const double = await startGraphDouble({ reports, directory: directoryOf(TENANT) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-score-widen-apart-'));
  const file = join(dir, 'score-widen.yaml');
  await writeFile(file, policy('organization, department', 2));
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir, snapshotTtlSeconds: 0 } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const kept = await readContentCollaboration(t, proxy, 'department');
  // Graph's next refresh of the licence report is out; OneDrive and SharePoint are not yet. Nobody's licences changed.
  if (licenceFirst) reports[OFFICE365] = rewriteColumn(reports[OFFICE365]!.toString('utf8'), 'Report Refresh Date', dayAfter);
  const before = proxy.proxy.policies.current.version;
  await writeFile(file, policy('organization, department, officeLocation', 3));
  await proxy.proxy.policies.reload();
  t.not(proxy.proxy.policies.current.version, before, 'the set by department and office at k_c 3 is live');
  const later = joined(await readContentCollaboration(t, proxy, 'department'), await readContentCollaboration(t, proxy, 'officeLocation'));
  return { kept, later, structure: directoryDomain(TENANT) };
}

t.test('within one refresh (control): the widened score hides a department shown before, so it shows no cell never shown', async (t) => {
  const { kept, later } = await keptThenWidened(t, false);
  const { fresh, withdrawn } = compare(kept, later);
  t.ok(fresh.length === 0 || withdrawn.length === 0, `shows every cell shown before or none new: new ${JSON.stringify(fresh)}, withdrawn ${JSON.stringify(withdrawn)}`);
});

t.test('the licence report refreshed first: the widened score still shows every cell shown before or no cell never shown, and narrows no hidden cell', async (t) => {
  const { kept, later, structure } = await keptThenWidened(t, true);
  t.same(narrowedCells(structure, later, 4, 3), [], 'the later score alone narrows nothing');
  const { fresh, withdrawn } = compare(kept, later);
  t.ok(fresh.length === 0 || withdrawn.length === 0, `TablesMade.withinPatterns: new ${JSON.stringify(fresh)} beside withdrawn ${JSON.stringify(withdrawn)}`);
  const narrowed = narrowedCells(structure, joined(kept, later), 4, 2);
  t.same(narrowed, [], `G2/G3: hidden Content collaboration cells narrowed by two releases of the same files' refresh: ${JSON.stringify(narrowed)}`);
});
