/**
 * Everything the proxy writes to Redis lives under GPP_REDIS_PREFIX, rate-limit counters included, so two
 * deployments (or a staging and a production proxy) sharing one Redis never count into each other's limits.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { Redis } from 'ioredis';
import { KEYS, startStack } from '../helpers/proxy-stack.js';
import { redisAvailable, startRedis } from '../helpers/redis.js';

t.test('rate-limit counters, budget and snapshots all live under the configured prefix', { skip: redisAvailable ? false : 'redis-server is not installed (.ci/run installs it)' }, async (t) => {
  const server = await startRedis();
  t.teardown(() => server.stop());
  const stack = await startStack({ simulator: { users: 80 }, proxy: { redisUrl: server.url, redisPrefix: 'tenant-a', sealSecret: randomBytes(32), noiseKey: randomBytes(32) } });
  t.teardown(() => stack.close());
  t.equal((await stack.get("/beta/reports/getTeamsUserActivityUserDetail(period='D30')?$format=application/json", KEYS.vendor)).status, 200);
  const redis = new Redis(server.url);
  t.teardown(() => redis.quit());
  const keys = await redis.keys('*');
  t.ok(keys.some((k) => k.startsWith('tenant-a:ratelimit:')), `a rate-limit counter under the prefix (keys: ${keys.join(', ')})`);
  t.same(keys.filter((k) => !k.startsWith('tenant-a:')), [], 'no key outside the prefix');
});
