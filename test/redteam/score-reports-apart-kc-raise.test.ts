/**
 * Red team (privacy.md's threat model: consumers "keep every response they ever got"; G2/G3 for score cells;
 * graph-reports.md: reports are refreshed apart, report by report): score-kc-raise-reload.test.ts one report refresh
 * later. The score's *table* is kept for every one of its reports' refreshes (cohort/tables-made.ts scoreTableFor,
 * red team score-reports-apart-reload.test.ts), but a category's *pattern* is kept under all its reports' refresh
 * dates joined (score/org-scores.ts categoryPatternAt). When Graph refreshes the licence report before the others,
 * Content collaboration's pattern is forgotten although its files (OneDrive, SharePoint) are still the same
 * refresh's data and its licences unchanged; a k_c raised then is a new pattern beside the one kept.
 *
 * The tenant is score-kc-raise-reload's (k = k_org = 4; qualifying when working with files; nobody outside the
 * directory): DeptA 11 people (OfficeP 4/3 with files, OfficeQ 7/6), DeptB 13 (P 9/8, Q 4/4), DeptC 9 (P 3/2, Q
 * 6/4). At k_c = 2 the score hides DeptB (1 without files); at k_c = 3 it would show DeptC and hide DeptA and DeptB:
 * joined, DeptB's non-qualifying people read 0..1.
 *
 * Fixed (failed before, kept as a todo test): a category's pattern is kept under each of its reports' refresh
 * dates (score/org-scores.ts categoryPatternsAt).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { narrowedCells } from '../helpers/independent-attacker.js';
import { startProxyFor } from '../helpers/proxy-stack.js';
import { directoryDomain, directoryOf } from '../helpers/random-tenant.js';
import { rewriteColumn } from './helpers.js';
import { periodReports } from './nesting-tenant.js';
import { filesPerson, joined, kcTenant, readContentCollaboration, scorePolicy } from './reload-helpers.js';

t.setTimeout(120_000);


const OFFICE365 = "getOffice365ActiveUserDetail(period='D30')";
const TENANT = kcTenant(filesPerson);

const policy = (kC: number) => scorePolicy('score-by-two', 'organization, department, officeLocation', `k: 4\nkC: ${kC}\nkOrg: 4`);

const read = readContentCollaboration;

const dayAfter = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

t.test('the score at k_c 2 kept; Graph refreshes the licence report first, and a reload raises k_c to 3: no hidden cell is narrowed', async (t) => {
  const reports = await periodReports(TENANT, 'D30');
  const double = await startGraphDouble({ reports, directory: directoryOf(TENANT) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-score-apart-kc-'));
  const file = join(dir, 'score-by-two.yaml');
  await writeFile(file, policy(2));
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir, snapshotTtlSeconds: 0 } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const structure = directoryDomain(TENANT);
  const kept = joined(await read(t, proxy, 'department'), await read(t, proxy, 'officeLocation'));
  t.same(narrowedCells(structure, kept, 4, 2), [], 'the kept score alone narrows nothing');
  // Graph's next refresh of the licence report is out; OneDrive and SharePoint are not yet. Nobody's licences changed.
  reports[OFFICE365] = rewriteColumn(reports[OFFICE365]!.toString('utf8'), 'Report Refresh Date', dayAfter);
  const before = proxy.proxy.policies.current.version;
  await writeFile(file, policy(3));
  await proxy.proxy.policies.reload();
  t.not(proxy.proxy.policies.current.version, before, 'the set with k_c 3 is live');
  const later = joined(await read(t, proxy, 'department'), await read(t, proxy, 'officeLocation'));
  t.same(narrowedCells(structure, later, 4, 3), [], 'the later score alone narrows nothing');
  const narrowed = narrowedCells(structure, joined(kept, later), 4, 2);
  t.same(narrowed, [], `G2/G3: hidden Content collaboration cells narrowed by two releases of the same files' refresh: ${JSON.stringify(narrowed)}`);
});
