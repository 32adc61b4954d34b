/**
 * TablesMade.shared on real stores (a real redis-server, two connections as two replicas; the embedded file store
 * of one process): a release of a refresh made while another replica's release of it is between its load and its
 * merge waits for that merge, so it starts from the cells the other hid (never a second pattern beside it: the race
 * test/redteam/replicas-race.test.ts hits by timing); a later TablesMade (a restart) starts from them too.
 *
 * Each release's own suppression is a fixed choice here (replica A hides DeptB, replica B DeptA): what is under test
 * is what TablesMade keeps and holds, whatever the suppression chose.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { TablesMade } from '../../src/cohort/tables-made.js';
import { openEmbeddedStore } from '../../src/store/embedded-store.js';
import { RedisStore } from '../../src/store/redis-store.js';
import type { RefreshPatternStore } from '../../src/store/store.js';
import { AT, hide, REFRESH, states, table } from '../helpers/pattern-tables.js';
import { redisAvailable, startRedis } from '../helpers/redis.js';


const KINDS = [
  {
    name: 'redis (two replicas)',
    skip: redisAvailable ? false : 'redis-server is not installed (.ci/run installs it)',
    async open(t: { teardown(fn: () => unknown): void }): Promise<[RefreshPatternStore, RefreshPatternStore, () => Promise<RefreshPatternStore>]> {
      const redis = await startRedis();
      t.teardown(() => redis.stop());
      const connect = async () => {
        const store = await RedisStore.connect(redis.url, 'tm');
        t.teardown(() => store.close());
        return store.refreshPatterns;
      };
      return [await connect(), await connect(), connect];
    },
  },
  {
    name: 'embedded (one process)',
    skip: false,
    async open(t: { teardown(fn: () => unknown): void }): Promise<[RefreshPatternStore, RefreshPatternStore, () => Promise<RefreshPatternStore>]> {
      const dir = await mkdtemp(join(tmpdir(), 'gpp-tables-made-shared-'));
      const open = () => openEmbeddedStore({ ledgerFile: join(dir, 'ledger.jsonl'), historyFile: join(dir, 'history.jsonl') });
      let store = await open();
      return [store.refreshPatterns, store.refreshPatterns, async () => {
        await store.close();
        store = await open();
        t.teardown(() => store.close());
        return store.refreshPatterns;
      }];
    },
  },
];

for (const kind of KINDS) {
  t.test(`${kind.name}: a release waits for the other's merge and starts from what it hid; so does a restart`, { skip: kind.skip }, async (t) => {
    const [storeA, storeB, reopen] = await kind.open(t);
    const [a, b] = [new TablesMade(storeA), new TablesMade(storeB)];
    const [tableA, tableB] = [table(), table()];
    const order: string[] = [];
    const first = a.shared([REFRESH], async () => {
      a.withinPatterns([{ at: AT, table: tableA }], 4, 0, hide(tableA, 'DeptB'));
      order.push('A suppressed');
      await sleep(200);
      order.push('A done');
    });
    await sleep(50);
    const second = b.shared([REFRESH], async () => {
      order.push('B starts');
      b.withinPatterns([{ at: AT, table: tableB }], 4, 0, hide(tableB, 'DeptA'));
    });
    await Promise.all([first, second]);
    t.same(order, ['A suppressed', 'A done', 'B starts'], "B's release waits for A's to be merged");
    t.same(states(tableA), { DeptA: 'released', DeptB: 'primary', DeptC: 'released' });
    t.same(states(tableB), { DeptA: 'primary', DeptB: 'secondary', DeptC: 'released' }, 'B holds DeptB, which A hid, hidden');
    t.equal(tableB.cells[1]!.held, true);
    const restarted = new TablesMade(await reopen());
    const later = table();
    await restarted.shared([REFRESH], async () => restarted.withinPatterns([{ at: AT, table: later }], 4, 0, () => undefined));
    t.same(states(later), { DeptA: 'secondary', DeptB: 'secondary', DeptC: 'released' }, 'a restarted process holds what both hid');
    const other = table();
    await restarted.shared([{ ...REFRESH, refreshDate: '2026-01-01' }], async () => restarted.withinPatterns([{ at: { ...AT, refreshDate: '2026-01-01' }, table: other }], 4, 0, () => undefined));
    t.same(states(other), { DeptA: 'released', DeptB: 'released', DeptC: 'released' }, "another refresh starts from nothing");
  });
}

t.test("the patterns' hashes are keyed by the store's own key: kept over a reopen, another store's hashes apart, a bad key refused", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-tables-made-key-'));
  const files = { ledgerFile: join(dir, 'ledger.jsonl'), historyFile: join(dir, 'history.jsonl') };
  const store = await openEmbeddedStore(files);
  const first = new TablesMade(store.refreshPatterns);
  const kept = table();
  await first.shared([REFRESH], async () => first.withinPatterns([{ at: AT, table: kept }], 4, 0, hide(kept, 'DeptB')));
  const key = await readFile(join(dir, 'refresh-patterns.key'), 'utf8');
  t.equal(Buffer.from(key.trim(), 'base64').length, 32, 'a 32-byte key beside the patterns');
  t.equal((await stat(join(dir, 'refresh-patterns.key'))).mode & 0o777, 0o600, "readable by the proxy's user only");
  await store.close();
  const reopened = await openEmbeddedStore(files);
  const again = new TablesMade(reopened.refreshPatterns);
  const later = table();
  await again.shared([REFRESH], async () => again.withinPatterns([{ at: AT, table: later }], 4, 0, () => undefined));
  t.same(states(later), { DeptA: 'released', DeptB: 'secondary', DeptC: 'released' }, 'reopened, the same key: DeptB held');
  await reopened.close();
  // A copied file without its key refuses the store (red team: test/redteam/patterns-key-lost.test.ts); the same
  // patterns beside another store's key: no cell is recognised.
  const otherDir = await mkdtemp(join(tmpdir(), 'gpp-tables-made-key-'));
  const otherFiles = { ledgerFile: join(otherDir, 'ledger.jsonl'), historyFile: join(otherDir, 'history.jsonl') };
  await writeFile(join(otherDir, 'refresh-patterns.jsonl'), await readFile(join(dir, 'refresh-patterns.jsonl')));
  await t.rejects(openEmbeddedStore(otherFiles), { code: 'StoreCorruptError', message: /refresh-patterns\.key: is missing/ }, 'patterns copied without their key refuse the store');
  await writeFile(join(otherDir, 'refresh-patterns.key'), `${randomBytes(32).toString('base64')}\n`);
  const other = await openEmbeddedStore(otherFiles);
  const apart = new TablesMade(other.refreshPatterns);
  const fresh = table();
  await apart.shared([REFRESH], async () => apart.withinPatterns([{ at: AT, table: fresh }], 4, 0, () => undefined));
  t.equal(fresh.cells[1]!.held, undefined, 'another key hashes the cells apart (why the key is kept with the patterns)');
  await other.close();
  await writeFile(join(dir, 'refresh-patterns.key'), 'not a key\n');
  await t.rejects(openEmbeddedStore(files), { code: 'StoreCorruptError', message: /refresh-patterns\.key: is not a hash key/ }, 'a bad key refuses the store');
});
