/**
 * Red team (privacy.md's threat model: consumers "keep every response they ever got"; G2: "the inactive count is 0
 * or at least k_c"): raising a policy's k_c is an exposure decrease (policy/diff.ts: "kC 2 -> 3" is `less`, nothing
 * a reviewer stops), yet TablesMade (cohort/tables-made.ts) unites it with the table made as a *widening* (the
 * largest k_c: a new pattern). Within one Graph refresh, the tool's release at k_c = 2 is kept; the owner raises
 * k_c to 3; the next release of the same data is made with the k_c = 3 pattern beside it. Either pattern alone
 * holds; joined they narrow a hidden cell, exactly as kc-drop-reload.test.ts's two tools did before the fix (the
 * join of two patterns does not care which came first).
 *
 * The tenant is kc-drop-reload's (k = 4; nobody outside the directory): DeptA 11 people (OfficeP 4/3 active,
 * OfficeQ 7/6), DeptB 13 (P 9/8, Q 4/4), DeptC 9 (P 3/2, Q 6/4). At k_c = 2 the release shows DeptA (2 inactive),
 * hides DeptB (1) and DeptC; at k_c = 3 it shows DeptC (3 inactive) and hides DeptA and DeptB. Joined: DeptB's
 * inactive people are 0..1, narrower than either k_c allows.
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
import { idlePerson, joined, kcTenant, readTeams, teamsPeriodReports, teamsPolicy } from './reload-helpers.js';

t.setTimeout(120_000);

const TENANT = kcTenant(idlePerson);


for (const periods of ['D30', 'D7, D30']) {
  t.test(`periods [${periods}]: the release at k_c 2 kept, read again after the policy raises k_c to 3 within the refresh: no hidden cell is narrowed`, async (t) => {
    const double = await startGraphDouble({ reports: await teamsPeriodReports(TENANT), directory: directoryOf(TENANT) });
    const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-kc-raise-'));
    const file = join(dir, 'exact-teams.yaml');
    await writeFile(file, teamsPolicy('exact-teams', 'no-policy', 2, periods));
    const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
    t.teardown(async () => {
      await proxy.close();
      await double.close();
    });
    const structure = directoryDomain(TENANT);
    const kept = await readTeams(t, proxy, 'D30');
    t.equal(kept.get('department/DeptB'), null, 'DeptB hidden at k_c 2 (1 of 13 inactive)');
    t.same(narrowedCells(structure, kept, 4, 2), [], 'the kept release alone narrows nothing');
    const before = proxy.proxy.policies.current.version;
    await writeFile(file, teamsPolicy('exact-teams', 'no-policy', 3, periods));
    await proxy.proxy.policies.reload();
    t.not(proxy.proxy.policies.current.version, before, 'the set with k_c 3 is live');
    const later = await readTeams(t, proxy, 'D30');
    t.same(narrowedCells(structure, later, 4, 3), [], 'the later release alone narrows nothing');
    const narrowed = narrowedCells(structure, joined(kept, later), 4, 2);
    t.same(narrowed, [], `G2/G3: hidden cells narrowed by the two releases of one refresh (even at the old k_c 2): ${JSON.stringify(narrowed)}`);
  });
}
