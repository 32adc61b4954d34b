/**
 * Utility beside the red team (TablesMade.shared, store.ts RefreshPatternStore): with NO policy change, the shared
 * patterns must hide nothing a single fresh proxy would show. Two tools with their own policies (by department and
 * office at k_c 2; by department at k_c 3) read one refresh's Teams cohorts over D30 and D7 on two replicas sharing
 * Redis, then on a third process started after both closed; every body each tool reads is the one a fresh proxy (its
 * own Redis) gives it, byte for byte, in the same order of requests. A pattern misread (another replica's hashes, a
 * wrong key, a period grouped twice) would hide a cell here, or show another. (The restarted process serves the
 * kept releases from the release book; the second tool's on the other replica is made within the first's pattern.)
 * Held on main (6a1aaeb).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { KEYS, startProxyFor, type ProxyUnderTest } from '../helpers/proxy-stack.js';
import { directoryOf, TEAMS } from '../helpers/random-tenant.js';
import { redisAvailable, startRedis } from '../helpers/redis.js';
import { idlePerson, kcTenant, teamsPeriodReports, teamsPolicy } from './reload-helpers.js';

t.setTimeout(120_000);

const TENANT = kcTenant(idlePerson);
/** Who reads what, in order: [tool's key, period]. */
const READS: readonly (readonly [string, string])[] = [[KEYS.stranger, 'D30'], [KEYS.onboarding, 'D30'], [KEYS.stranger, 'D7'], [KEYS.onboarding, 'D7']];

async function body(t: Test, proxy: ProxyUnderTest, key: string, period: string): Promise<string> {
  const res = await proxy.get(`/cohorts/${TEAMS}?period=${period}&format=csv`, key);
  t.equal(res.status, 200, `${period} released`);
  return res.body.toString('utf8');
}

t.test('no policy change: two replicas and a restart read one refresh as a fresh proxy does, byte for byte', { skip: redisAvailable ? false : 'redis-server is not installed (.ci/run installs it)' }, async (t) => {
  const double = await startGraphDouble({ reports: await teamsPeriodReports(TENANT), directory: directoryOf(TENANT) });
  t.teardown(() => double.close());
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-no-change-'));
  await writeFile(join(dir, 'exact-teams.yaml'), teamsPolicy('exact-teams', 'no-policy', 2, 'D7, D30'));
  await writeFile(join(dir, 'onboarding.yaml'), teamsPolicy('onboarding-teams', 'onboarding', 3, 'D7, D30').replace('by: [organization, department, officeLocation]', 'by: [organization, department]'));
  const secrets = { policiesDir: dir, sealSecret: randomBytes(32), noiseKey: randomBytes(32) };
  const freshRedis = await startRedis();
  t.teardown(() => freshRedis.stop());
  const fresh = await startProxyFor(double, { proxy: { ...secrets, redisUrl: freshRedis.url } });
  t.teardown(() => fresh.close());
  const expected: string[] = [];
  for (const [key, period] of READS) expected.push(await body(t, fresh, key, period));
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const shared = { ...secrets, redisUrl: redis.url };
  const a = await startProxyFor(double, { proxy: shared });
  const b = await startProxyFor(double, { proxy: shared });
  const replicas: string[] = [];
  for (const [i, [key, period]] of READS.entries()) replicas.push(await body(t, i % 2 === 0 ? a : b, key, period));
  await a.close();
  await b.close();
  t.same(replicas, expected, 'two replicas, each tool on the other one: the fresh proxy\'s bodies');
  const restarted = await startProxyFor(double, { proxy: shared });
  t.teardown(() => restarted.close());
  const again: string[] = [];
  for (const [key, period] of [...READS].reverse()) again.unshift(await body(t, restarted, key, period));
  t.same(again, expected, 'a restarted process, read in the other order: the same bodies');
});
