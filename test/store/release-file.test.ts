/**
 * The embedded release book (src/store/release-file.ts): first release of an epoch wins, a restart keeps what was
 * served, a bad line refuses the file, retention drops releases past RELEASE_RETENTION_DAYS, compaction bounds the file.
 */
import { appendFile, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ReleaseFile } from '../../src/store/release-file.js';
import type { StoredRelease } from '../../src/store/store.js';

const hex = (n: number) => n.toString(16).padStart(64, '0');
const release = (slot: number, epoch: string, id: number): StoredRelease => ({
  id: hex(id), slot: hex(slot), epoch, epsilon: 0, kind: 'cohort',
  body: { refreshDate: epoch, counts: { primary: 1, complement: 0, secondary: 1, lpVerified: true }, rows: [] },
});

t.test('the first release of an epoch wins; a later epoch replaces it; both survive a restart with what each consumer was served', async (t) => {
  const path = join(await mkdtemp(join(tmpdir(), 'gpp-release-file-')), 'releases.jsonl');
  const book = await ReleaseFile.open(path);
  t.same(await book.commit(release(1, '2026-11-20', 10)), release(1, '2026-11-20', 10));
  t.same(await book.commit(release(1, '2026-11-20', 11)), release(1, '2026-11-20', 10), 'a second release of the same epoch is not made');
  await book.served('vendor', release(1, '2026-11-20', 10));
  t.same(await book.commit(release(1, '2026-11-21', 12)), release(1, '2026-11-21', 12));
  await book.close();
  const again = await ReleaseFile.open(path);
  t.teardown(() => again.close());
  t.same(await again.current(hex(1)), release(1, '2026-11-21', 12));
  t.same(await again.lastServed('vendor', hex(1)), release(1, '2026-11-20', 10), 'the release served before is kept while it is pointed at');
  t.equal(await again.lastServed('other', hex(1)), undefined);
});

t.test('a line that is not a release refuses the file, naming file:line', async (t) => {
  const path = join(await mkdtemp(join(tmpdir(), 'gpp-release-file-')), 'releases.jsonl');
  const book = await ReleaseFile.open(path);
  await book.commit(release(1, '2026-11-20', 10));
  await book.close();
  await appendFile(path, '{"id":"nope"}\n');
  await t.rejects(ReleaseFile.open(path), { code: 'StoreCorruptError', message: /releases\.jsonl:2/ });
  const dangling = join(await mkdtemp(join(tmpdir(), 'gpp-release-file-')), 'releases.jsonl');
  await appendFile(dangling, `${JSON.stringify({ consumer: 'vendor', slot: hex(1), release: hex(9) })}\n`);
  await t.rejects(ReleaseFile.open(dangling), { code: 'StoreCorruptError', message: /does not hold/ });
});

t.test('bounded retention: releases older than the retention are dropped, and superseded lines are compacted away', async (t) => {
  const path = join(await mkdtemp(join(tmpdir(), 'gpp-release-file-')), 'releases.jsonl');
  const book = await ReleaseFile.open(path);
  await book.commit(release(1, '2024-01-01', 1));
  for (let day = 0; day < 400; day++) {
    const epoch = new Date(Date.UTC(2026, 0, 1) + day * 86_400_000).toISOString().slice(0, 10);
    const made = await book.commit(release(2, epoch, 100 + day));
    await book.served('vendor', made);
  }
  await book.close();
  const lines = (await readFile(path, 'utf8')).split('\n').length;
  t.ok(lines < 2 * 3 + 300, `the file holds ${lines} lines, not 800`);
  const again = await ReleaseFile.open(path, () => new Date('2027-02-10T00:00:00Z'));
  t.teardown(() => again.close());
  t.equal(await again.current(hex(1)), undefined, 'a release of 2024 is past retention');
  t.equal((await again.current(hex(2)))?.id, hex(499));
});
