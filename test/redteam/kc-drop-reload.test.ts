/**
 * Red team (privacy.md's threat model: consumers "keep every response they ever got" and "may collude"; G2: "the
 * inactive count is 0 or at least k_c"): the organisation's table of a report is suppressed at the largest k_c among
 * the policies that release it (policy/decide.ts jointCohortPlan). Within one Graph refresh, removing the policy that
 * set the larger k_c (a tool retired: an exposure decrease) makes the other tool's next release with a new pattern
 * at the smaller k_c, beside the release both tools kept.
 *
 * The tenant (k = 4; one tool k_c = 2, the other k_c = 3; nobody outside the directory): DeptA 11 people (OfficeP
 * 4/3 active, OfficeQ 7/6), DeptB 13 (P 9/8, Q 4/4), DeptC 9 (P 3/2, Q 6/4). At k_c = 3 the release shows DeptC (3
 * inactive) and OfficeQ, hides DeptA (2 inactive), DeptB (1) and OfficeP. At k_c = 2 it shows DeptA and hides DeptB
 * (its one inactive person: G2 at the new k_c too) and DeptC. Joined: DeptB's inactive people are 0..1 (k_c = 2
 * needs an interval of 2), under either policy's k_c.
 * Fixed: every release of a refresh is suppressed within the union of the tables the refresh's releases were made
 * within (cohort/tables-made.ts TablesMade); the test failed before (GPP_REDTEAM_TODO=run on 878e080).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { narrowedCells } from '../helpers/independent-attacker.js';
import { KEYS, startProxyFor } from '../helpers/proxy-stack.js';
import { directoryDomain, directoryOf } from '../helpers/random-tenant.js';
import { idlePerson, joined, kcTenant, readTeams, teamsPeriodReports, teamsPolicy } from './reload-helpers.js';

t.setTimeout(120_000);

const TENANT = kcTenant(idlePerson);


for (const periods of ['D30', 'D7, D30']) {
  t.test(`periods [${periods}]: releases at k_c 3 kept, the k_c 2 tool reads again after the k_c 3 tool's policy is removed within the refresh: no hidden cell is narrowed`, async (t) => {
    const double = await startGraphDouble({ reports: await teamsPeriodReports(TENANT), directory: directoryOf(TENANT) });
    const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-kc-drop-'));
    await writeFile(join(dir, 'kc-two.yaml'), teamsPolicy('kc-two', 'no-policy', 2, periods));
    const stricter = join(dir, 'kc-three.yaml');
    await writeFile(stricter, teamsPolicy('kc-three', 'onboarding', 3, periods));
    const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
    t.teardown(async () => {
      await proxy.close();
      await double.close();
    });
    const kept = joined(await readTeams(t, proxy, 'D30'), await readTeams(t, proxy, 'D30', KEYS.onboarding));
    const structure = directoryDomain(TENANT);
    t.equal(kept.get('department/DeptB'), null, 'DeptB hidden (1 of 13 inactive)');
    t.same(narrowedCells(structure, kept, 4, 3), [], 'the kept releases alone narrow nothing');
    const before = proxy.proxy.policies.current.version;
    await rm(stricter);
    await proxy.proxy.policies.reload();
    t.not(proxy.proxy.policies.current.version, before, 'the set without the k_c 3 tool is live');
    const later = await readTeams(t, proxy, 'D30');
    t.equal(later.get('department/DeptB'), null, 'DeptB still hidden at k_c 2');
    t.same(narrowedCells(structure, later, 4, 2), [], 'the later release alone narrows nothing');
    const narrowed = narrowedCells(structure, joined(kept, later), 4, 2);
    t.same(narrowed, [], `G2/G3: hidden cells narrowed by the releases of one refresh: ${JSON.stringify(narrowed)}`);
  });
}
