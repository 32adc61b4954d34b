/** One suite for both Store implementations: the embedded files and a real redis-server. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { openEmbeddedStore } from '../../src/store/embedded-store.js';
import { RedisStore } from '../../src/store/redis-store.js';
import type { Store } from '../../src/store/store.js';
import { redisAvailable, startRedis } from '../helpers/redis.js';

const day = new Date('2026-11-23T10:00:00Z');
const point = (refreshDate: string, percentage: number) => ({ refreshDate, period: 'D30', percentage, points: percentage * 5, max: 500, categories: { communication: percentage } });

interface Kind {
  readonly name: string;
  readonly skip: string | false;
  /** Opens a store on the same durable state each time (reopen = restart). */
  setup(): Promise<{ open(): Promise<Store>; teardown(): Promise<void> }>;
}

const KINDS: Kind[] = [
  {
    name: 'embedded',
    skip: false,
    async setup() {
      const dir = await mkdtemp(join(tmpdir(), 'gpp-store-'));
      return { open: () => openEmbeddedStore({ ledgerFile: join(dir, 'ledger.jsonl'), historyFile: join(dir, 'history.jsonl') }), teardown: async () => {} };
    },
  },
  {
    name: 'redis',
    skip: redisAvailable ? false : 'redis-server is not installed (.ci/run installs it)',
    async setup() {
      const redis = await startRedis();
      return { open: () => RedisStore.connect(redis.url, 'test'), teardown: () => redis.stop() };
    },
  },
];

for (const kind of KINDS) {
  t.test(`${kind.name} store`, { skip: kind.skip }, async (t) => {
    const { open, teardown } = await kind.setup();
    t.teardown(teardown);

    t.test('G6/G7: charges persist across a reopen; the budget holds at its boundary; repeats are free', async (t) => {
      const store = await open();
      t.match(await store.budget.charge('dash', 'r1', 1.5, 4, day), { ok: true, charged: true, spent: 1.5 });
      t.match(await store.budget.charge('dash', 'r2', 2.5, 4, day), { ok: true, charged: true, spent: 4 });
      t.match(await store.budget.charge('dash', 'r3', 0.1, 4, day), { ok: false, spent: 4, limit: 4 });
      t.match(await store.budget.charge('dash', 'r1', 1.5, 4, day), { ok: true, charged: false, spent: 4 }, 'a release already paid for');
      t.ok(await store.ping());
      await store.close();
      const reopened = await open();
      t.equal(await reopened.budget.spent('dash', 2026), 4, 'a restart loses nothing');
      t.match(await reopened.budget.charge('dash', 'r4', 1, 4, day), { ok: false });
      await reopened.close();
    });

    t.test("issue 15: a release's noisy measures are paid all or none, each once for the organisation; the organisation limit refuses only what is new to it", async (t) => {
      // Another year than the other cases' (they share the store): the organisation starts at 0.
      const day = new Date('2027-03-01T10:00:00Z');
      const store = await open();
      const m = (id: string, epsilon = 1) => ({ id, epsilon });
      t.match(await store.budget.chargeMeasures('a', [m('dept-users'), m('dept-active')], { consumer: 10, organisation: 3 }, day), { ok: true, charged: true, spent: 2, organisationSpent: 2 });
      // Tool B reads the same department figures (the same draws) and office figures of its own.
      t.match(await store.budget.chargeMeasures('b', [m('dept-users'), m('dept-active'), m('office-users')], { consumer: 10, organisation: 3 }, day), { ok: true, charged: true, spent: 3, organisationSpent: 3 }, 'B pays its share; the organisation only for the office figure');
      t.match(await store.budget.chargeMeasures('a', [m('dept-users'), m('other-users')], { consumer: 10, organisation: 3 }, day), { ok: false, refusedBy: 'organisation', limit: 3, spent: 2, organisationSpent: 3 }, 'a figure new to the organisation past its limit is refused');
      t.match(await store.budget.chargeMeasures('a', [m('office-users')], { consumer: 10, organisation: 3 }, day), { ok: true, charged: true, spent: 3, organisationSpent: 3 }, 'one the organisation already paid for is not refused on its account');
      t.match(await store.budget.chargeMeasures('b', [m('x'), m('y')], { consumer: 4, organisation: 100 }, day), { ok: false, refusedBy: 'consumer', limit: 4, spent: 3 }, "past the consumer's own share: refused, none of the two recorded");
      t.equal(await store.budget.spent('b', 2027), 3);
      await store.close();
      const reopened = await open();
      t.same([await reopened.budget.spent('a', 2027), await reopened.budget.spent('b', 2027), await reopened.budget.organisationSpent(2027)], [3, 3, 3], 'a restart loses nothing');
      t.match(await reopened.budget.chargeMeasures('b', [m('dept-users')], { consumer: 3, organisation: 3 }, day), { ok: true, charged: false, spent: 3 }, 'a figure already read is free');
      await reopened.close();
    });

    t.test('concurrent charges from two connections never overspend', async (t) => {
      const a = await open();
      const b = kind.name === 'redis' ? await open() : a;
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).budget.charge('race', `r${i}`, 1, 7, day)));
      t.equal(results.filter((r) => r.ok).length, 7);
      t.equal(await a.budget.spent('race', 2026), 7);
      await a.close();
      if (b !== a) await b.close();
    });

    t.test('score history: one point per refresh date and period, six months, survives a reopen', async (t) => {
      const store = await open();
      await store.history.record(point('2026-05-01', 40));
      await store.history.record(point('2026-11-20', 60));
      await store.history.record(point('2026-11-20', 60));
      await store.history.record(point('2026-11-21', 62));
      await store.close();
      const reopened = await open();
      t.same((await reopened.history.series('D30', day)).map((p) => [p.refreshDate, p.percentage]), [['2026-11-20', 60], ['2026-11-21', 62]]);
      t.same(await reopened.history.series('D7', day), []);
      await reopened.close();
    });
  });
}

t.test('Redis that is not there: a clear error at connect, not a hang', { skip: redisAvailable ? false : 'no redis-server' }, async (t) => {
  await t.rejects(RedisStore.connect('redis://127.0.0.1:1'), /cannot reach Redis/);
});
