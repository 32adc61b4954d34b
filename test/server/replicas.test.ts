/**
 * Two proxies sharing one Redis (and the sealing and noise secrets) behave as one: identical sticky answers,
 * a noisy release charged once between them, and each other's paging cursors accepted.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { parseKeyring } from '../../src/sanitize/pseudonyms.js';
import type { ProxySettings } from '../../src/server/proxy.js';
import { KEYS, startStack, type Stack } from '../helpers/proxy-stack.js';
import { redisAvailable, startRedis } from '../helpers/redis.js';
import { noisyVendorPolicies } from '../helpers/vendor-policy.js';

/** One Redis, and two proxy replicas sharing it and the secrets replicas share; `sameTenant`: one simulator. */
async function twoReplicas(t: { teardown(fn: () => unknown): void }, options: { sameTenant: boolean; users: number; proxy?: Partial<ProxySettings> }): Promise<{ a: Stack; b: Stack; redisUrl: string }> {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const shared = {
    redisUrl: redis.url, sealSecret: randomBytes(32), noiseKey: randomBytes(32),
    pseudonymKeys: parseKeyring(`licence-tool=${randomBytes(32).toString('base64')}`), ...options.proxy,
  };
  const a = await startStack({ simulator: { users: options.users }, proxy: shared });
  t.teardown(() => a.close());
  const b = options.sameTenant ? await startStack({ proxy: shared, sharedSimulator: a.sim }) : await startStack({ simulator: { users: options.users }, proxy: shared });
  t.teardown(() => b.close());
  return { a, b, redisUrl: redis.url };
}

t.test('two replicas sharing Redis behave as one', { skip: redisAvailable ? false : 'redis-server is not installed (.ci/run installs it)' }, async (t) => {
  // The noisy example of the vendor policy, so that the shared budget is exercised (the shipped one is exact).
  const { a, b } = await twoReplicas(t, { sameTenant: false, users: 200, proxy: { policiesDir: await noisyVendorPolicies() } });
  const cohorts = "/beta/reports/getTeamsUserActivityUserDetail(period='D30')?$format=application/json";
  const fromA = JSON.parse((await a.get(cohorts, KEYS.vendor)).body.toString()).value;
  const fromB = JSON.parse((await b.get(cohorts, KEYS.vendor)).body.toString()).value;
  t.same(fromB, fromA, 'the same sticky noisy answer from either replica');
  const charges = [...a.logs, ...b.logs].filter((l) => l.includes('"budget"')).map((l) => /"charged":(true|false)/.exec(l)![1]);
  t.same(charges, ['true', 'false'], 'the release is charged once between them');

  const first = JSON.parse((await a.get("/beta/reports/getOffice365ActiveUserDetail(period='D30')?$format=application/json&$top=10", KEYS.licence)).body.toString()) as Record<string, string>;
  const next = first['@odata.nextLink']!.replace(a.proxy.url, b.proxy.url);
  const page = await b.get(next, KEYS.licence);
  t.equal(page.status, 200, "a cursor sealed by one replica is accepted by the other");
  const ownNext = JSON.parse((await a.get(first['@odata.nextLink']!, KEYS.licence)).body.toString()).value;
  t.same(JSON.parse(page.body.toString()).value, ownNext, 'and gives the same page, with the same pseudonyms');
  t.equal(JSON.parse((await a.get('/readyz')).body.toString()).checks.store, 'ok', 'readiness includes the store');
});

t.test('two replicas on one tenant fetch each Graph report once between them (snapshots shared through Redis)', { skip: redisAvailable ? false : 'redis-server is not installed' }, async (t) => {
  const { a, b, redisUrl } = await twoReplicas(t, { sameTenant: true, users: 150 });
  const csv = "/v1.0/reports/getOffice365ActiveUserDetail(period='D30')";
  const { proxyCsv } = await import('../helpers/proxy-stack.js');
  const [fromA, fromB] = await Promise.all([proxyCsv(a, csv, KEYS.licence), proxyCsv(b, csv, KEYS.licence)]);
  t.equal(fromA.status, 200);
  t.equal(fromB.text, fromA.text, 'the same cleaned report from either replica');
  t.equal(a.sim.stats.downloads.getOffice365ActiveUserDetail, 1, 'Graph served the CSV once, although both replicas were asked at the same time');
  t.equal(a.proxy.snapshots.stats.fetches + b.proxy.snapshots.stats.fetches, 1);
  t.equal(a.proxy.snapshots.stats.sharedHits + b.proxy.snapshots.stats.sharedHits, 1, 'the other replica took the shared copy');
  await a.get("/beta/reports/getTeamsUserActivityUserDetail(period='D30')?$format=application/json", KEYS.vendor);
  await b.get("/beta/reports/getTeamsUserActivityUserDetail(period='D30')?$format=application/json", KEYS.vendor);
  t.equal(a.sim.stats.downloads.getTeamsUserActivityUserDetail, 1, 'cohort snapshots are shared too');
  const { Redis } = await import('ioredis');
  const raw = new Redis(redisUrl);
  t.teardown(() => raw.quit());
  const keys = await raw.keys('gpp:snapshot:*');
  t.ok(keys.length > 2);
  const values = (await raw.mgetBuffer(...keys.filter((k) => !k.endsWith(':lock')))).map((v) => v!.toString('latin1'));
  t.notOk(values.some((v) => v.includes('Report Refresh Date') || v.includes('@') && v.includes('.onmicrosoft.com')), 'snapshot records rest encrypted in Redis');
  for (const key of keys) t.ok((await raw.pttl(key)) > 0, `${key.split(':').pop()} expires`);
});

t.test('replicas sharing Redis share one rate limit per consumer', { skip: redisAvailable ? false : 'redis-server is not installed' }, async (t) => {
  const { a, b } = await twoReplicas(t, { sameTenant: true, users: 60, proxy: { rateLimitPerMinute: 3 } });
  const path = '/disclosure';
  const statuses = [await a.get(path, KEYS.vendor), await b.get(path, KEYS.vendor), await a.get(path, KEYS.vendor), await b.get(path, KEYS.vendor)].map((r) => r.status);
  t.same(statuses, [200, 200, 200, 429], 'the fourth request in the minute is refused, whichever replica gets it');
});
