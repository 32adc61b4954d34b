/**
 * Red team (privacy.md's threat model: consumers "keep every response they ever got"; the policy owner may change
 * policies at any time; G2 and G3 for score cells): within a Graph refresh the score's category tables are
 * suppressed within the patterns the refresh's releases hid (cohort/tables-made.ts TablesMade.withinPatterns), but
 * a category's pattern is kept only where every one of its reports has a refresh date (score/org-scores.ts
 * categoryPatternAt: "null where one is empty", and withinPatterns suppresses such tables "as they are"). A tenant
 * with no Viva Engage licences (the simulated tenant's own people: `Has Yammer License` False) gets an empty
 * Yammer report from Graph (a header, no rows), so Communication (Office 365, e-mail, Teams, Yammer) is suppressed
 * afresh by every release: raising k_c within the refresh makes a new pattern beside the kept one, exactly
 * score-kc-raise-reload.test.ts's attack on Content collaboration before the fix.
 *
 * The tenant is kc-drop-reload's (k = k_org = 4; nobody outside the directory; active in Teams or idle, all sending
 * mail): DeptA 11 people (OfficeP 4/3 active, OfficeQ 7/6), DeptB 13 (P 9/8, Q 4/4), DeptC 9 (P 3/2, Q 6/4). With
 * no Yammer, Communication qualifies who both sent mail and Teams messages: the active ones.
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
import { periodReports, readScoreCategory } from './nesting-tenant.js';
import { idlePerson, joined, kcTenant, scorePolicy } from './reload-helpers.js';

t.setTimeout(120_000);


const TENANT = kcTenant(idlePerson);
const YAMMER = "getYammerActivityUserDetail(period='D30')";

const policy = (kC: number) => scorePolicy('score-by-two', 'organization, department, officeLocation', `k: 4\nkC: ${kC}\nkOrg: 4`);

t.test('Communication with an empty Yammer report, read at k_c 2, then after a raise to 3 within the refresh: no hidden cell is narrowed', async (t) => {
  const reports = await periodReports(TENANT, 'D30');
  const yammer = reports[YAMMER]!.toString('utf8');
  reports[YAMMER] = Buffer.from(yammer.slice(0, yammer.indexOf('\n') + 1));
  const double = await startGraphDouble({ reports, directory: directoryOf(TENANT) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-score-empty-report-'));
  const file = join(dir, 'score-by-two.yaml');
  await writeFile(file, policy(2));
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const structure = directoryDomain(TENANT);
  const read = async () => joined(await readScoreCategory(t, proxy, 'period=D30', 'communication', 'department'), await readScoreCategory(t, proxy, 'period=D30', 'communication', 'officeLocation'));
  const kept = await read();
  t.same(narrowedCells(structure, kept, 4, 2), [], 'the kept score alone narrows nothing');
  const before = proxy.proxy.policies.current.version;
  await writeFile(file, policy(3));
  await proxy.proxy.policies.reload();
  t.not(proxy.proxy.policies.current.version, before, 'the set with k_c 3 is live');
  const later = await read();
  t.same(narrowedCells(structure, later, 4, 3), [], 'the later score alone narrows nothing');
  const narrowed = narrowedCells(structure, joined(kept, later), 4, 2);
  t.same(narrowed, [], `G2/G3: hidden Communication cells narrowed by the two releases of one refresh: ${JSON.stringify(narrowed)}`);
});
