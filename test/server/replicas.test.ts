/**
 * Two proxies sharing one Redis (and the sealing and noise secrets) behave as one: identical sticky answers,
 * a noisy release charged once between them, and each other's paging cursors accepted.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { parseKeyring } from '../../src/sanitize/pseudonyms.js';
import { KEYS, startStack } from '../helpers/proxy-stack.js';
import { redisAvailable, startRedis } from '../helpers/redis.js';

t.test('two replicas sharing Redis behave as one', { skip: redisAvailable ? false : 'redis-server is not installed (.ci/run installs it)' }, async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const shared = { redisUrl: redis.url, sealSecret: randomBytes(32), noiseKey: randomBytes(32), pseudonymKeys: parseKeyring(`licence-tool=${randomBytes(32).toString('base64')}`) };
  const a = await startStack({ simulator: { users: 200 }, proxy: shared });
  t.teardown(() => a.close());
  const b = await startStack({ simulator: { users: 200 }, proxy: shared });
  t.teardown(() => b.close());
  const cohorts = "/v1.0/reports/getTeamsUserActivityUserDetail(period='D30')?$format=application/json";
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
