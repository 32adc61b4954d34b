/**
 * Red team (privacy.md's threat model: consumers "keep every response they ever got"; the policy owner may change
 * policies at any time; README: "shared state in Redis for several replicas", test/server/replicas.test.ts "two
 * proxies sharing one Redis behave as one"): kc-raise-reload.test.ts across two replicas. Within a refresh the
 * patterns only grow (cohort/tables-made.ts TablesMade.withinPatterns); held in memory per process, the replica
 * that serves the release after the raise would never see the pattern the other one made, and would make a new one
 * beside it, so they are shared through the Store (TablesMade.shared, store.ts RefreshPatternStore). Behind a load balancer a consumer's requests land on either replica without asking.
 *
 * The tenant is kc-drop-reload's (k = 4; nobody outside the directory): DeptA 11 people (OfficeP 4/3 active,
 * OfficeQ 7/6), DeptB 13 (P 9/8, Q 4/4), DeptC 9 (P 3/2, Q 6/4). Replica A releases at k_c = 2 (DeptA shown, DeptB
 * hidden); both replicas load k_c = 3; replica B releases DeptC and hides DeptA and DeptB: joined, DeptB's inactive
 * people are 0..1.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { narrowedCells } from '../helpers/independent-attacker.js';
import { startProxyFor } from '../helpers/proxy-stack.js';
import { directoryDomain, directoryOf } from '../helpers/random-tenant.js';
import { redisAvailable, startRedis } from '../helpers/redis.js';
import { idlePerson, joined, kcTenant, readTeams, teamsPeriodReports, teamsPolicy } from './reload-helpers.js';

t.setTimeout(120_000);

const TENANT = kcTenant(idlePerson);

t.test('the release at k_c 2 kept from one replica, read from the other after both raise k_c to 3 within the refresh: no hidden cell is narrowed', { skip: redisAvailable ? false : 'redis-server is not installed (.ci/run installs it)' }, async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const double = await startGraphDouble({ reports: await teamsPeriodReports(TENANT), directory: directoryOf(TENANT) });
  t.teardown(() => double.close());
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-replicas-kc-'));
  const file = join(dir, 'exact-teams.yaml');
  await writeFile(file, teamsPolicy('exact-teams', 'no-policy', 2, 'D30'));
  const shared = { policiesDir: dir, redisUrl: redis.url, sealSecret: randomBytes(32), noiseKey: randomBytes(32) };
  const a = await startProxyFor(double, { proxy: shared });
  t.teardown(() => a.close());
  const b = await startProxyFor(double, { proxy: shared });
  t.teardown(() => b.close());
  const structure = directoryDomain(TENANT);
  const kept = await readTeams(t, a, 'D30');
  t.equal(kept.get('department/DeptB'), null, 'DeptB hidden at k_c 2 (1 of 13 inactive)');
  t.same(narrowedCells(structure, kept, 4, 2), [], 'the kept release alone narrows nothing');
  await writeFile(file, teamsPolicy('exact-teams', 'no-policy', 3, 'D30'));
  await a.proxy.policies.reload();
  await b.proxy.policies.reload();
  t.equal(b.proxy.policies.current.version, a.proxy.policies.current.version, 'both replicas run the set with k_c 3');
  const later = await readTeams(t, b, 'D30');
  t.same(narrowedCells(structure, later, 4, 3), [], 'the later release alone narrows nothing');
  const narrowed = narrowedCells(structure, joined(kept, later), 4, 2);
  t.same(narrowed, [], `G2/G3: hidden cells narrowed by two replicas' releases of one refresh: ${JSON.stringify(narrowed)}`);
});
