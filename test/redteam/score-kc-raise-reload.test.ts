/**
 * Red team (privacy.md's threat model: consumers "keep every response they ever got"; G2 and G3 for score cells):
 * the score's side of kc-raise-reload.test.ts. Raising the policy's k_c within one Graph refresh (policy/diff.ts:
 * `less`, an exposure decrease) is united with the score table made (cohort/tables-made.ts scoreTableFor: the
 * largest k_c) as a widening: the next score release is made with a new pattern, beside the one kept. The same holds
 * for k_org (the largest is taken likewise).
 *
 * The tenant is kc-drop-reload's with files for activity (k = k_org = 4; Content collaboration: licensed for
 * OneDrive, qualifying when working with files; nobody outside the directory): DeptA 11 people (OfficeP 4/3 with
 * files, OfficeQ 7/6), DeptB 13 (P 9/8, Q 4/4), DeptC 9 (P 3/2, Q 6/4). The score by department and office is read
 * at k_c = 2, then again at k_c = 3; joined, a hidden cell's non-qualifying people are narrower than k_c = 2 allows.
 *
 * Fixed (failed before, kept as a todo test): within a refresh the patterns only grow (tables-made.ts
 * TablesMade.withinPatterns), so the release at k_c = 3 starts from the cells the kept one hid and hides DeptA too.
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
import { filesPerson, joined, kcTenant, readContentCollaboration, scorePolicy } from './reload-helpers.js';

t.setTimeout(120_000);

const TENANT = kcTenant(filesPerson);

const policy = (kC: number) => scorePolicy('score-by-two', 'organization, department, officeLocation', `k: 4\nkC: ${kC}\nkOrg: 4`);

const read = readContentCollaboration;

t.test('the score at k_c 2 kept, read again after the policy raises k_c to 3 within the refresh: no hidden cell is narrowed', async (t) => {
  const double = await startGraphDouble({ reports: await periodReports(TENANT, 'D30'), directory: directoryOf(TENANT) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-score-kc-raise-'));
  const file = join(dir, 'score-by-two.yaml');
  await writeFile(file, policy(2));
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const structure = directoryDomain(TENANT);
  const kept = joined(await read(t, proxy, 'department'), await read(t, proxy, 'officeLocation'));
  t.same(narrowedCells(structure, kept, 4, 2), [], 'the kept score alone narrows nothing');
  const before = proxy.proxy.policies.current.version;
  await writeFile(file, policy(3));
  await proxy.proxy.policies.reload();
  t.not(proxy.proxy.policies.current.version, before, 'the set with k_c 3 is live');
  const later = joined(await read(t, proxy, 'department'), await read(t, proxy, 'officeLocation'));
  t.same(narrowedCells(structure, later, 4, 3), [], 'the later score alone narrows nothing');
  const narrowed = narrowedCells(structure, joined(kept, later), 4, 2);
  t.same(narrowed, [], `G2/G3: hidden score cells narrowed by the two releases of one refresh (even at the old k_c 2): ${JSON.stringify(narrowed)}`);
});
