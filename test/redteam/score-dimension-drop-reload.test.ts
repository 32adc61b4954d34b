/**
 * Red team (privacy.md's threat model: consumers "keep every response they ever got"; G3 for score cells): the
 * score's side of test/redteam/dimension-drop-reload.test.ts. A policy change within one Graph refresh that drops officeLocation from the policy's cohort
 * dimensions (so from the score's `by`: an exposure decrease) makes the next score release by department with a
 * new pattern, beside the score by department and by office the consumer kept.
 *
 * The tenant is dimension-drop-reload's (k = k_org = 4, k_c = 2, nobody outside the directory), with files for
 * activity (Content collaboration: licensed for OneDrive, qualifying when working with files): DeptA 7 people (P
 * 2/2 with files, Q 4/2, R 1/1), DeptB 5 (P 2/1, Q 2/1, R 1/1), DeptC 5 (P 2/1, Q 3/2), DeptD 7 (P 2/1, Q 2/0, R
 * 3/3). By department and office, the score hides DeptB, DeptC and OfficeR; by department alone DeptC is shown, and
 * joined with the kept office cells DeptB's non-qualifying people are pinned to 2.
 * Fixed: every release of a refresh is suppressed within the union of the tables the refresh's releases were made
 * within (cohort/tables-made.ts TablesMade); the test failed before (GPP_REDTEAM_TODO=run on 878e080).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { narrowedCells } from '../helpers/independent-attacker.js';
import { startProxyFor } from '../helpers/proxy-stack.js';
import { directoryDomain, directoryOf } from '../helpers/random-tenant.js';
import { periodReports } from './nesting-tenant.js';
import { joined, officeDropTenant, readContentCollaboration, scorePolicy } from './reload-helpers.js';

t.setTimeout(120_000);


const TENANT = officeDropTenant();
const policy = (by: string) => scorePolicy('score-drop-office', by, 'k: 4\nkC: 2\nkOrg: 4');
const read = readContentCollaboration;

t.test('the score by department and office kept, by department read again after a reload drops officeLocation within the refresh: no hidden cell is narrowed', async (t) => {
  const double = await startGraphDouble({ reports: await periodReports(TENANT, 'D30'), directory: directoryOf(TENANT) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-score-drop-office-'));
  const file = join(dir, 'score-drop-office.yaml');
  await writeFile(file, policy('organization, department, officeLocation'));
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const kept = joined(await read(t, proxy, 'department'), await read(t, proxy, 'officeLocation'));
  const structure = directoryDomain(TENANT);
  t.same(narrowedCells(structure, kept, 4, 2), [], 'the kept score alone narrows nothing');
  const before = proxy.proxy.policies.current.version;
  await writeFile(file, policy('organization, department'));
  await proxy.proxy.policies.reload();
  t.not(proxy.proxy.policies.current.version, before, 'the narrower set is live');
  const later = await read(t, proxy, 'department');
  t.same(narrowedCells(structure, later, 4, 2), [], 'the later score alone narrows nothing');
  const narrowed = narrowedCells(structure, joined(kept, later), 4, 2);
  t.same(narrowed, [], `G3: hidden score cells narrowed by the two releases of one refresh: ${JSON.stringify(narrowed)}`);
});
