/**
 * Snapshots shared through a real redis-server: the fetch lock belongs to its owner (a replica whose lock
 * expired cannot delete the next owner's), records are bound to their snapshot (not only to their index),
 * a malformed meta is refused, and a large report is written in bounded MULTI batches.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { RedisSharedSnapshots } from '../../src/store/shared-snapshots.js';
import { redisAvailable, startRedis } from '../helpers/redis.js';

const secret = Buffer.alloc(32, 9);
async function* records(n: number, tag: string): AsyncGenerator<Buffer> {
  for (let i = 0; i < n; i++) yield Buffer.from(`${tag}-record-${i}`);
}
async function readAll(iterable: AsyncIterable<Buffer>): Promise<string[]> {
  const out: string[] = [];
  for await (const r of iterable) out.push(r.toString());
  return out;
}

t.test('shared snapshots in Redis', { skip: redisAvailable ? false : 'redis-server is not installed (.ci/run installs it)' }, async (t) => {
  const server = await startRedis();
  t.teardown(() => server.stop());
  const redis = new Redis(server.url);
  t.teardown(() => redis.quit());
  const shared = new RedisSharedSnapshots(redis, secret, 'snap');

  t.test('the fetch lock has an owner: a replica whose lock expired does not delete the next owner\'s', async (t) => {
    const slow = await shared.lock('report-a', 100);
    t.ok(slow, 'the slow replica takes the lock');
    await new Promise((r) => setTimeout(r, 200));
    const next = await shared.lock('report-a', 60_000);
    t.ok(next, 'after expiry another replica takes it');
    await shared.unlock('report-a', slow!);
    t.equal(await shared.lock('report-a', 60_000), undefined, 'the slow replica\'s late unlock left the new owner\'s lock in place');
    await shared.unlock('report-a', next!);
    t.ok(await shared.lock('report-a', 1000), 'the owner\'s unlock releases it');
  });

  t.test('records are sealed with their snapshot key: one moved into another snapshot is refused', async (t) => {
    await shared.put('snapshot-one', { count: 2, itemStarts: [0], records: 0 }, records(2, 'one'), 60_000);
    await shared.put('snapshot-two', { count: 2, itemStarts: [0], records: 0 }, records(2, 'two'), 60_000);
    t.same(await readAll((await shared.get('snapshot-two'))!.records), ['two-record-0', 'two-record-1']);
    const keys = await redis.keys('snap:snapshot:*');
    const name = (snapshot: string, part: string) => keys.find((k) => k === `snap:snapshot:${Buffer.from(snapshot).toString('base64url')}:${part}`)!;
    await redis.set(name('snapshot-two', 'r0'), (await redis.getBuffer(name('snapshot-one', 'r0')))!);
    await t.rejects(readAll((await shared.get('snapshot-two'))!.records), 'a record of snapshot-one at the same index is not accepted');
  });

  t.test('a malformed meta record is refused, not trusted', async (t) => {
    await redis.set(`snap:snapshot:${Buffer.from('bad-meta').toString('base64url')}:meta`, JSON.stringify({ count: 'x', itemStarts: [], records: 1e9 }));
    await t.rejects(shared.get('bad-meta'), { code: 'StoreCorruptError' });
  });

  t.test('a large report is written in bounded MULTI batches, the meta last', async (t) => {
    const monitor = await redis.monitor();
    const commands: string[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => commands.push(String(args[0]).toLowerCase() === 'set' ? `set:${String(args[1]).split(':').pop()}` : String(args[0]).toLowerCase()));
    await shared.put('large', { count: 1000, itemStarts: [0], records: 0 }, records(1000, 'large'), 60_000);
    await new Promise((r) => setTimeout(r, 200));
    await monitor.disconnect();
    const execs = commands.filter((c) => c === 'exec').length;
    t.ok(execs >= 4, `1000 records went in ${execs} MULTI batches`);
    const sets = commands.filter((c) => c.startsWith('set:'));
    t.equal(sets.length, 1001);
    t.equal(sets.at(-1), 'set:meta', 'the meta is written after every record');
    t.equal((await readAll((await shared.get('large'))!.records)).length, 1000);
  });
});
