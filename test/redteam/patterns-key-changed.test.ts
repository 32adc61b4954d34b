/**
 * Red team (an operator or an outage: Redis flushed, or restored from a backup, while replicas run): each replica
 * derives its hashes' offsets from the store's hash key once (TablesMade.shared) and kept them for good. After a
 * flush a replica started (or first asking) later makes a new key, while the ones running go on hashing with the
 * old one: each then merges patterns the other cannot read, and a release on one after a k_c raise on the other
 * shows a new pattern beside it (replicas-kc-raise.test.ts's attack, between replicas that hash apart).
 *
 * Failed before: replica A, still on the old key, merged DeptB hidden; replica C, on the new key, did not hold it.
 * Now a replica reads the key at every shared() and refuses a release (StoreCorruptError) when it is not the one its
 * offsets were derived from: restart it, so every replica derives them from the key in the store.
 */
import t from 'tap';
import { TablesMade } from '../../src/cohort/tables-made.js';
import { RedisStore } from '../../src/store/redis-store.js';
import { AT, hide, REFRESH, states, table } from '../helpers/pattern-tables.js';
import { redisAvailable, startRedis } from '../helpers/redis.js';


t.test('Redis flushed while replicas run: a replica still on the old key makes no release beside one on the new key', { skip: redisAvailable ? false : 'redis-server is not installed (.ci/run installs it)' }, async (t) => {
  const server = await startRedis();
  t.teardown(() => server.stop());
  const [a, c] = [await RedisStore.connect(server.url), await RedisStore.connect(server.url)];
  t.teardown(async () => {
    await a.close();
    await c.close();
  });
  const replicaA = new TablesMade(a.refreshPatterns);
  const first = table();
  await replicaA.shared([REFRESH], async () => replicaA.withinPatterns([{ at: AT, table: first }], 4, 0, () => undefined));
  t.same(states(first), { DeptA: 'released', DeptB: 'released', DeptC: 'released' }, 'A, on the first key, shows every department');
  await a.redis.flushall();
  const replicaC = new TablesMade(c.refreshPatterns);
  const second = table();
  await replicaC.shared([REFRESH], async () => replicaC.withinPatterns([{ at: AT, table: second }], 4, 0, () => undefined));
  const third = table();
  const made = replicaA.shared([REFRESH], async () => replicaA.withinPatterns([{ at: AT, table: third }], 4, 0, hide(third, 'DeptB')));
  const refused = await made.then(() => false, (error: unknown) => (error as { code?: string }).code === 'StoreCorruptError');
  const fourth = table();
  await replicaC.shared([REFRESH], async () => replicaC.withinPatterns([{ at: AT, table: fourth }], 4, 0, () => undefined));
  t.ok(refused || states(fourth).DeptB === 'secondary', `A's release hiding DeptB is refused, or C holds DeptB hidden (refused: ${refused}, C: ${JSON.stringify(states(fourth))})`);
  t.ok(refused, 'A, whose offsets are from a key no longer in the store, is refused');
});
