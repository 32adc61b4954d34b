/**
 * Persisted privacy state is validated on every read: a malformed ledger or history entry refuses the store
 * at open, naming the file and line (embedded) or the key (Redis), instead of replaying as NaN or being skipped.
 */
import { appendFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Redis } from 'ioredis';
import { BudgetLedger } from '../../src/store/budget-ledger.js';
import { openEmbeddedStore } from '../../src/store/embedded-store.js';
import { RedisStore } from '../../src/store/redis-store.js';
import { ScoreHistory } from '../../src/store/score-history.js';
import { redisAvailable, startRedis } from '../helpers/redis.js';

const day = new Date('2026-11-23T10:00:00Z');
const dir = () => mkdtemp(join(tmpdir(), 'gpp-corrupt-'));
const release = 'a'.repeat(64);
const good = { consumer: 'dash', year: 2026, release, epsilon: 1, at: '2026-11-23T10:00:00.000Z' };
const point = { refreshDate: '2026-11-20', period: 'D30', percentage: 60, points: 300, max: 500, categories: { communication: 60 } };

const LEDGER_CORRUPTIONS: [string, string][] = [
  ['epsilon missing (replayed as NaN before)', JSON.stringify({ ...good, epsilon: undefined })],
  ['epsilon a string', JSON.stringify({ ...good, epsilon: '1' })],
  ['epsilon null', JSON.stringify({ ...good, epsilon: null })],
  ['epsilon negative', JSON.stringify({ ...good, epsilon: -5 })],
  ['epsilon infinite (1e999)', JSON.stringify(good).replace('"epsilon":1', '"epsilon":1e999')],
  ['year not a whole number', JSON.stringify({ ...good, year: 2026.5 })],
  ['consumer missing', JSON.stringify({ ...good, consumer: undefined })],
  ['release not a digest', JSON.stringify({ ...good, release: 'r1' })],
  ['an unknown field', JSON.stringify({ ...good, note: 'x' })],
  ['an array', '[1,2]'],
  ['null', 'null'],
  ['not JSON', 'garbage'],
];

for (const [what, line] of LEDGER_CORRUPTIONS) {
  t.test(`budget ledger: a line with ${what} refuses the store at open, naming file and line`, async (t) => {
    const path = join(await dir(), 'ledger.jsonl');
    await writeFile(path, `${JSON.stringify(good)}\n${line}\n${JSON.stringify({ ...good, release: 'b'.repeat(64) })}\n`);
    await t.rejects(BudgetLedger.open(path), { code: 'StoreCorruptError', message: new RegExp(`${path.replace(/[.]/g, '\\.')}:2\\b`) });
  });
}

t.test('budget ledger: a malformed newline-terminated last line is corruption too (only an unterminated tail is a torn write)', async (t) => {
  const path = join(await dir(), 'ledger.jsonl');
  await writeFile(path, `${JSON.stringify(good)}\n{"consumer":"dash"\n`);
  await t.rejects(BudgetLedger.open(path), { code: 'StoreCorruptError', message: /:2\b/ });
});

t.test('budget ledger: a torn (unterminated) tail is dropped at open, so the next charge starts on a clean line', async (t) => {
  const path = join(await dir(), 'ledger.jsonl');
  const ledger = await BudgetLedger.open(path);
  await ledger.charge('dash', 'r1', 1, 10, day);
  await ledger.close();
  await appendFile(path, '{"consumer":"dash","year":2026,"rel');
  const reopened = await BudgetLedger.open(path);
  t.equal(await reopened.spent('dash', 2026), 1);
  t.match(await reopened.charge('dash', 'r2', 2, 10, day), { ok: true, charged: true, spent: 3 });
  await reopened.close();
  const again = await BudgetLedger.open(path);
  t.equal(await again.spent('dash', 2026), 3, 'the charge after the torn tail replays');
  await again.close();
  t.notMatch(await readFile(path, 'utf8'), /"rel\{/, 'no line was glued onto the torn one');
});

t.test('budget ledger: with a NaN-free ledger, the limit still holds after a reopen (limit 10, 50 attempts)', async (t) => {
  const path = join(await dir(), 'ledger.jsonl');
  await writeFile(path, `${JSON.stringify({ ...good, epsilon: undefined })}\n`);
  let accepted = 0;
  try {
    const ledger = await BudgetLedger.open(path);
    for (let i = 0; i < 50; i++) if ((await ledger.charge('dash', `r${i}`, 1, 10, day)).ok) accepted++;
    await ledger.close();
  } catch {
    // refused at open: nothing can be accepted
  }
  t.ok(accepted <= 10, `accepted ${accepted} charges against a limit of 10`);
});

const HISTORY_CORRUPTIONS: [string, string][] = [
  ['percentage a string', JSON.stringify({ ...point, percentage: '60' })],
  ['refreshDate not a date', JSON.stringify({ ...point, refreshDate: 'yesterday' })],
  ['an unknown period', JSON.stringify({ ...point, period: 'D1' })],
  ['categories not numbers', JSON.stringify({ ...point, categories: { communication: 'x' } })],
  ['not JSON', '{"refreshDate":'],
];

for (const [what, line] of HISTORY_CORRUPTIONS) {
  t.test(`score history: a line with ${what} refuses the store at open, naming file and line`, async (t) => {
    const d = await dir();
    const historyFile = join(d, 'history.jsonl');
    await writeFile(historyFile, `${JSON.stringify(point)}\n${line}\n`);
    await t.rejects(ScoreHistory.open(historyFile), { code: 'StoreCorruptError', message: /history\.jsonl:2\b/ });
    await t.rejects(openEmbeddedStore({ ledgerFile: join(d, 'ledger.jsonl'), historyFile }), { code: 'StoreCorruptError' });
  });
}

t.test('Redis: malformed budget and history entries refuse the store at connect, naming the key', { skip: redisAvailable ? false : 'no redis-server' }, async (t) => {
  const server = await startRedis();
  t.teardown(() => server.stop());
  const raw = new Redis(server.url);
  t.teardown(() => raw.quit());
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    ['spent not a number', () => raw.set('t1:budget:spent:dash:2026', 'abc'), /t1:budget:spent:dash:2026/],
    ['spent NaN', () => raw.set('t2:budget:spent:dash:2026', 'nan'), /t2:budget:spent:dash:2026/],
    ['spent negative', () => raw.set('t3:budget:spent:dash:2026', '-4'), /t3:budget:spent:dash:2026/],
    ['spent of the wrong type', () => raw.hset('t4:budget:spent:dash:2026', 'a', '1'), /t4:budget:spent:dash:2026/],
    ['releases of the wrong type', () => raw.set('t5:budget:releases:dash:2026', '1'), /t5:budget:releases:dash:2026/],
    ['a release that is not a digest', () => raw.sadd('t6:budget:releases:dash:2026', 'r1'), /t6:budget:releases:dash:2026/],
    ['a history point that is not JSON', () => raw.hset('t7:history:D30', '2026-11-20', '{'), /t7:history:D30 field 2026-11-20/],
    ['a history point of the wrong shape', () => raw.hset('t8:history:D30', '2026-11-20', JSON.stringify({ ...point, max: 'x' })), /t8:history:D30 field 2026-11-20/],
    ['a history point under another date', () => raw.hset('t9:history:D30', '2026-11-21', JSON.stringify(point)), /t9:history:D30 field 2026-11-21/],
  ];
  for (const [what, corrupt, where] of cases) {
    await corrupt();
    const prefix = /^(t\d+)/.exec(where.source)![1]!;
    await t.rejects(RedisStore.connect(server.url, prefix), { code: 'StoreCorruptError', message: where }, what);
  }
  const store = await RedisStore.connect(server.url, 'clean');
  t.match(await store.budget.charge('dash', 'r1', 1, 10, day), { ok: true, charged: true });
  await store.close();
});

t.test('Redis: a spent value corrupted while running is refused at the charge, never treated as 0 or NaN', { skip: redisAvailable ? false : 'no redis-server' }, async (t) => {
  const server = await startRedis();
  t.teardown(() => server.stop());
  const store = await RedisStore.connect(server.url, 'live');
  t.teardown(() => store.close());
  await store.budget.charge('dash', 'r1', 1, 10, day);
  await store.redis.set('live:budget:spent:dash:2026', 'nan');
  await t.rejects(store.budget.charge('dash', 'r2', 1, 10, day), { code: 'StoreCorruptError' });
  await t.rejects(store.budget.spent('dash', 2026), { code: 'StoreCorruptError' });
  await store.redis.hset('live:history:D30', '2026-11-20', '{');
  await t.rejects(store.history.series('D30', day), { code: 'StoreCorruptError' });
});
