/**
 * Red team (privacy.md's threat model: consumers "keep every response they ever got"; G3 for score cells;
 * graph-reports.md: reports are refreshed apart, "usually available within 48 hours", report by report): TablesMade
 * keeps the org score's table per refresh date (cohort/tables-made.ts scoreTableFor), and the date it is given is
 * ScoreFacts.refreshDate, the *first* score report's (getOffice365ActiveUserDetail). When Graph refreshes that
 * report before the others, the score's remembered table is forgotten although Content collaboration's files
 * (OneDrive, SharePoint) are still the same refresh's data, and its licences unchanged. A policy change made
 * then that narrows exposure (officeLocation dropped from the `by`) releases the same Content collaboration figures
 * again with a new pattern, beside the release by department and office the consumer kept:
 * score-dimension-drop-reload.test.ts's attack, one report refresh later.
 *
 * The tenant is score-dimension-drop-reload's (k = k_org = 4, k_c = 2, nobody outside the directory): DeptA 7
 * people (P 2/2 with files, Q 4/2, R 1/1), DeptB 5 (P 2/1, Q 2/1, R 1/1), DeptC 5 (P 2/1, Q 3/2), DeptD 7 (P 2/1,
 * Q 2/0, R 3/3). By department and office the score hides DeptB, DeptC and OfficeR; by department alone DeptC is
 * shown, and joined with the kept office cells DeptB's non-qualifying people were pinned to 2. Fixed: the score's
 * table is kept for every one of its reports' refreshes (TablesMade.scoreTableFor); failed before.
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
import { joined, officeDropTenant, readContentCollaboration, scorePolicy } from './reload-helpers.js';

t.setTimeout(120_000);


const OFFICE365 = "getOffice365ActiveUserDetail(period='D30')";
const TENANT = officeDropTenant();

const policy = (by: string) => scorePolicy('score-drop-office', by, 'k: 4\nkC: 2\nkOrg: 4');

const read = readContentCollaboration;

const dayAfter = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

t.test("the score by department and office kept; Graph refreshes the licence report first, and a reload drops officeLocation: no hidden cell is narrowed", async (t) => {
  const reports = await periodReports(TENANT, 'D30');
  const double = await startGraphDouble({ reports, directory: directoryOf(TENANT) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-score-apart-reload-'));
  const file = join(dir, 'score-drop-office.yaml');
  await writeFile(file, policy('organization, department, officeLocation'));
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir, snapshotTtlSeconds: 0 } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const kept = joined(await read(t, proxy, 'department'), await read(t, proxy, 'officeLocation'));
  const structure = directoryDomain(TENANT);
  t.same(narrowedCells(structure, kept, 4, 2), [], 'the kept score alone narrows nothing');
  // Graph's next refresh of the licence report is out; the other reports (OneDrive, SharePoint, ...) are not yet.
  // Nobody's licences changed: the same rows, a day later.
  reports[OFFICE365] = rewriteColumn(reports[OFFICE365]!.toString('utf8'), 'Report Refresh Date', dayAfter);
  const before = proxy.proxy.policies.current.version;
  await writeFile(file, policy('organization, department'));
  await proxy.proxy.policies.reload();
  t.not(proxy.proxy.policies.current.version, before, 'the narrower set is live');
  const later = await read(t, proxy, 'department');
  t.same(narrowedCells(structure, later, 4, 2), [], 'the later score alone narrows nothing');
  const narrowed = narrowedCells(structure, joined(kept, later), 4, 2);
  t.same(narrowed, [], `G3: hidden Content collaboration cells narrowed by two releases of the same files' refresh: ${JSON.stringify(narrowed)}`);
});
