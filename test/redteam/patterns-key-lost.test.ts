/**
 * Red team (an operator's restore; deploy/OPERATIONS.md "Backups"): a refresh's patterns are hashes made with the
 * store's hash key (Redis `gpp:patterns-hash-key`, embedded `refresh-patterns.key`). Patterns kept without their key
 * (restored from a backup that missed it, the key deleted or evicted, the embedded file copied alone) match no cell:
 * a cell a release hid is no longer held, and a release after a policy change (a k_c raise) shows a new pattern
 * beside the day's kept releases, as if no pattern were kept (restart-kc-raise.test.ts's attack).
 *
 * Failed before: the store silently made a new key beside the old patterns. Now it refuses (StoreCorruptError): the
 * operator restores the key, or deletes the patterns to start them afresh, knowingly.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { RedisStore } from '../../src/store/redis-store.js';
import { RefreshPatternFile } from '../../src/store/refresh-patterns.js';
import type { RefreshAt, StoredPattern } from '../../src/store/store.js';
import { redisAvailable, startRedis } from '../helpers/redis.js';

const AT: RefreshAt = { source: 'getTeamsUserActivityUserDetail', refreshDate: new Date().toISOString().slice(0, 10) };
const PATTERN: StoredPattern = { window: 'D30', table: '', hidden: Uint32Array.from([7]), shown: Float64Array.from([9]) };

t.test('embedded: patterns whose key file is gone refuse the store; without patterns a key is made', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-key-lost-'));
  const path = join(dir, 'refresh-patterns.jsonl');
  const first = await RefreshPatternFile.open(path);
  const key = await first.hashKey();
  await first.merge(AT, [PATTERN]);
  await first.close();
  await rm(join(dir, 'refresh-patterns.key'));
  await t.rejects(RefreshPatternFile.open(path), { code: 'StoreCorruptError', message: /refresh-patterns\.key/ }, 'no new key beside the old patterns');
  await rm(path);
  const fresh = await RefreshPatternFile.open(path);
  t.teardown(() => fresh.close());
  t.equal((await fresh.hashKey()).length, 32, 'without patterns, a new key is made');
  t.notSame(await fresh.hashKey(), key, 'a new one');
});

t.test('Redis: patterns whose key is gone refuse the hash key; without patterns a key is made', { skip: redisAvailable ? false : 'redis-server is not installed (.ci/run installs it)' }, async (t) => {
  const server = await startRedis();
  t.teardown(() => server.stop());
  const a = await RedisStore.connect(server.url);
  t.teardown(() => a.close());
  const key = await a.refreshPatterns.hashKey();
  await a.refreshPatterns.merge(AT, [PATTERN]);
  await a.redis.del('gpp:patterns-hash-key');
  const b = await RedisStore.connect(server.url);
  t.teardown(() => b.close());
  await t.rejects(b.refreshPatterns.hashKey(), { code: 'StoreCorruptError', message: /gpp:patterns-hash-key/ }, 'no new key beside the old patterns');
  t.equal(await a.redis.exists('gpp:patterns-hash-key'), 0, 'none was made');
  await a.redis.del(`gpp:patterns:${AT.refreshDate}:${AT.source}`);
  t.equal((await b.refreshPatterns.hashKey()).length, 32, 'without patterns, a new key is made');
  t.notSame(await b.refreshPatterns.hashKey(), key, 'a new one');
});
