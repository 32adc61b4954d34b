/**
 * Each refresh's suppression patterns in the Store (store.ts RefreshPatternStore), both implementations on real
 * state (files, a real redis-server): a merge is a union, kept over a reopen; expired refreshes go; a stored entry
 * that does not unpack refuses with StoreCorruptError (never an empty pattern, which would let a release show what
 * the refresh hid); `exclusive` keeps two releases of a refresh from interleaving, across two connections (replicas).
 */
import { appendFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { openEmbeddedStore } from '../../src/store/embedded-store.js';
import { RedisStore } from '../../src/store/redis-store.js';
import { RefreshPatternFile } from '../../src/store/refresh-patterns.js';
import { PATTERN_RETENTION_DAYS, type RefreshAt, type RefreshPatternStore, type Store, type StoredPattern } from '../../src/store/store.js';
import { redisAvailable, startRedis } from '../helpers/redis.js';

const today = new Date().toISOString().slice(0, 10);
const AT: RefreshAt = { source: 'getTeamsUserActivityUserDetail', refreshDate: today };
const pattern = (window: string, table: string, hidden: number[], shown: number[]): StoredPattern => ({ window, table, hidden: Uint32Array.from(hidden), shown: Float64Array.from(shown) });
/** A stored pattern as plain arrays, for comparing. */
const plain = (patterns: readonly StoredPattern[]) =>
  patterns.map((p) => ({ window: p.window, table: p.table, hidden: [...p.hidden], shown: [...p.shown] })).sort((a, b) => `${a.window} ${a.table}`.localeCompare(`${b.window} ${b.table}`));

const KINDS = [
  {
    name: 'embedded',
    skip: false as string | false,
    async setup() {
      const dir = await mkdtemp(join(tmpdir(), 'gpp-patterns-'));
      const open = () => openEmbeddedStore({ ledgerFile: join(dir, 'ledger.jsonl'), historyFile: join(dir, 'history.jsonl') });
      return { open, openTwo: undefined, teardown: async () => {} };
    },
  },
  {
    name: 'redis',
    skip: redisAvailable ? false : 'redis-server is not installed (.ci/run installs it)',
    async setup() {
      const redis = await startRedis();
      // The key read first, as TablesMade.shared does before any merge (patterns without their key refuse it).
      const open = async () => {
        const store = await RedisStore.connect(redis.url, 'pat');
        await store.refreshPatterns.hashKey();
        return store;
      };
      return { open, openTwo: open, teardown: () => redis.stop() };
    },
  },
];

for (const kind of KINDS) {
  t.test(`${kind.name} store`, { skip: kind.skip }, async (t) => {
    const { open, openTwo, teardown } = await kind.setup();
    t.teardown(teardown);

    t.test('merges are a union, in any order, kept over a reopen; other refreshes are apart', async (t) => {
      const store: Store = await open();
      t.same(await store.refreshPatterns.load(AT), [], 'nothing kept yet');
      await store.refreshPatterns.merge(AT, [pattern('D30', '', [7, 3], [2 ** 40 + 5])]);
      await store.refreshPatterns.merge(AT, [pattern('D30', '', [3, 1, 4_000_000_000], []), pattern('D7', 'meetings', [], [9])]);
      await store.refreshPatterns.merge(AT, [pattern('D30', '', [], [])]);
      const expected = [
        { window: 'D30', table: '', hidden: [1, 3, 7, 4_000_000_000], shown: [2 ** 40 + 5] },
        { window: 'D7', table: 'meetings', hidden: [], shown: [9] },
      ];
      t.same(plain(await store.refreshPatterns.load(AT)), expected, 'the union, ascending, repeats dropped');
      t.same(await store.refreshPatterns.load({ ...AT, source: 'getEmailActivityUserDetail' }), [], "another report's refresh holds nothing");
      await store.close();
      const reopened = await open();
      t.same(plain(await reopened.refreshPatterns.load(AT)), expected, 'a restart loses nothing');
      await reopened.close();
    });

    t.test('exclusive: a release of the refresh waits for the one between its load and its merge (another connection: a replica)', async (t) => {
      const a = await open();
      const b = openTwo === undefined ? a : await openTwo();
      const order: string[] = [];
      const first = a.refreshPatterns.exclusive(AT, async () => {
        order.push('a in');
        await sleep(150);
        order.push('a out');
      });
      await sleep(20);
      const second = b.refreshPatterns.exclusive(AT, async () => {
        order.push('b in');
      });
      const other = b.refreshPatterns.exclusive({ ...AT, refreshDate: '2020-01-01' }, async () => {
        order.push('other refresh');
      });
      await Promise.all([first, second, other]);
      t.same(order, ['a in', 'other refresh', 'a out', 'b in'], 'the same refresh waits; another does not');
      await t.rejects(a.refreshPatterns.exclusive(AT, async () => Promise.reject(new Error('release failed'))), /release failed/);
      t.equal(await b.refreshPatterns.exclusive(AT, async () => 'after'), 'after', 'a failed release frees the refresh');
      await a.close();
      if (b !== a) await b.close();
    });

    t.test('hashKey: 32 bytes, the same for every connection and over a reopen', async (t) => {
      const a = await open();
      const b = openTwo === undefined ? a : await openTwo();
      const [key, other] = await Promise.all([a.refreshPatterns.hashKey(), b.refreshPatterns.hashKey()]);
      t.equal(key.length, 32);
      t.same(Buffer.from(other), Buffer.from(key), 'every replica reads one key');
      await a.close();
      if (b !== a) await b.close();
      const reopened = await open();
      t.same(Buffer.from(await reopened.refreshPatterns.hashKey()), Buffer.from(key), 'a restart reads it again');
      await reopened.close();
    });
  });
}

t.test('embedded: refreshes past retention are dropped when opened; a bad line refuses the file (file:line)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-patterns-file-'));
  const path = join(dir, 'refresh-patterns.jsonl');
  const now = new Date(`${today}T12:00:00Z`);
  const old = new Date(now.getTime() - (PATTERN_RETENTION_DAYS + 1) * 86_400_000).toISOString().slice(0, 10);
  const store: RefreshPatternStore & { close(): Promise<void> } = await RefreshPatternFile.open(path, () => now);
  await store.merge({ ...AT, refreshDate: old }, [pattern('D30', '', [1], [])]);
  await store.merge(AT, [pattern('D30', '', [2], [])]);
  await store.close();
  const later = await RefreshPatternFile.open(path, () => now);
  t.same(await later.load({ ...AT, refreshDate: old }), [], `a refresh of ${old} is past ${PATTERN_RETENTION_DAYS} days`);
  t.same(plain(await later.load(AT)), [{ window: 'D30', table: '', hidden: [2], shown: [] }]);
  await later.close();
  t.notMatch(await readFile(path, 'utf8'), old, 'and compacted out of the file');
  const lines: [string, string][] = [
    ['not JSON', '{'],
    ['a hidden hash torn (5 bytes)', JSON.stringify({ source: AT.source, refreshDate: today, window: 'D30', table: '', hidden: Buffer.alloc(5).toString('base64'), shown: '' })],
    ['a shown hash that is not a 53-bit integer', JSON.stringify({ source: AT.source, refreshDate: today, window: 'D30', table: '', hidden: '', shown: Buffer.from(new Float64Array([0.5]).buffer).toString('base64') })],
    ['a missing field', JSON.stringify({ source: AT.source, refreshDate: today, window: 'D30', hidden: '', shown: '' })],
    ['no refresh date', JSON.stringify({ source: AT.source, refreshDate: 'yesterday', window: 'D30', table: '', hidden: '', shown: '' })],
  ];
  for (const [what, line] of lines) {
    const bad = join(dir, `bad-${what.replace(/\W+/g, '-')}.jsonl`);
    await writeFile(bad, `${JSON.stringify({ source: AT.source, refreshDate: today, window: 'D30', table: '', hidden: '', shown: '' })}\n`);
    await appendFile(bad, `${line}\n`);
    await t.rejects(RefreshPatternFile.open(bad, () => now), { code: 'StoreCorruptError', message: new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2`) }, what);
  }
});

t.test('Redis: the refresh expires past retention; a bad entry refuses at connect and at load, naming the key', { skip: redisAvailable ? false : 'no redis-server' }, async (t) => {
  const server = await startRedis();
  t.teardown(() => server.stop());
  const store = await RedisStore.connect(server.url, 'pat');
  t.teardown(() => store.close());
  await store.refreshPatterns.merge(AT, [pattern('D30', '', [1], [2])]);
  const key = `pat:patterns:${today}:${AT.source}`;
  const left = (await store.redis.expiretime(key)) * 1000 - Date.parse(`${today}T00:00:00Z`);
  t.equal(left, PATTERN_RETENTION_DAYS * 86_400_000, `kept ${PATTERN_RETENTION_DAYS} days past the refresh date`);
  const old = new Date(Date.now() - (PATTERN_RETENTION_DAYS + 3) * 86_400_000).toISOString().slice(0, 10);
  await store.refreshPatterns.merge({ ...AT, refreshDate: old }, [pattern('D30', '', [1], [])]);
  const ttl = await store.redis.ttl(`pat:patterns:${old}:${AT.source}`);
  t.ok(ttl > 0 && ttl <= 86_400, `a refresh already past retention is kept a day at most (${ttl} s)`);
  for (const [what, field, value] of [
    ['a torn hidden hash', JSON.stringify(['hidden', 'D30', '']), Buffer.alloc(6)],
    ['a shown hash that is not an integer', JSON.stringify(['shown', 'D30', '']), Buffer.from(new Float64Array([Number.NaN]).buffer)],
    ['a field that is not a pattern field', 'D30', Buffer.alloc(4)],
  ] as const) {
    const bad = { ...AT, source: 'getEmailActivityUserDetail' };
    const badKey = `pat:patterns:${today}:${bad.source}`;
    await store.redis.hset(badKey, field, value);
    await t.rejects(store.refreshPatterns.load(bad), { code: 'StoreCorruptError', message: new RegExp(badKey) }, `${what}: at load`);
    await t.rejects(RedisStore.connect(server.url, 'pat'), { code: 'StoreCorruptError', message: new RegExp(badKey) }, `${what}: at connect`);
    await store.redis.del(badKey);
  }
  await store.redis.set(`pat:patterns:${today}:wrong-type`, 'x');
  await t.rejects(RedisStore.connect(server.url, 'pat'), { code: 'StoreCorruptError', message: /is a Redis string, not a hash/ }, 'a key of the wrong type');
  await store.redis.del(`pat:patterns:${today}:wrong-type`);
  t.same(plain(await store.refreshPatterns.load(AT)), [{ window: 'D30', table: '', hidden: [1], shown: [2] }], 'the good entries are untouched');
  await store.redis.set('pat:patterns-hash-key', Buffer.alloc(16).toString('base64'));
  await t.rejects(store.refreshPatterns.hashKey(), { code: 'StoreCorruptError', message: /pat:patterns-hash-key: is not a hash key/ }, 'a hash key of 16 bytes is refused');
});
