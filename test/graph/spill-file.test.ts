/**
 * The spill file (graph/spill-file.ts): sealed records read back exactly as written, whether written whole or
 * in pieces, one after the other or without waiting for the one before (the snapshot fetch writes a record
 * while it validates the next chunks), and reads wait for every write begun before them.
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import t from 'tap';
import { SpillFile } from '../../src/graph/spill-file.js';

async function readAll(file: SpillFile): Promise<Buffer[]> {
  const records: Buffer[] = [];
  for await (const record of file.readAll()) records.push(record);
  return records;
}

t.test('records written without waiting for each other read back in order, whole or from pieces', async (t) => {
  const file = await SpillFile.create(tmpdir());
  t.teardown(() => file.close());
  const records = Array.from({ length: 40 }, (_, i) => randomBytes(1 + ((i * 7919) % 200_000)));
  const writes = records.map((record, i) => {
    if (i % 3 === 0) return file.writeRecord(record);
    // In pieces: a few large ones, or many tiny ones (joined before sealing).
    const size = i % 3 === 1 ? 16_384 : 3;
    const pieces = Array.from({ length: Math.ceil(record.length / size) }, (_, k) => record.subarray(k * size, (k + 1) * size));
    return file.writeRecord(pieces);
  });
  // Read before the writes are awaited: the read waits for them.
  const read = readAll(file);
  await Promise.all(writes);
  t.equal(file.recordCount, records.length);
  t.same((await read).map((r) => r.toString('hex')), records.map((r) => r.toString('hex')));
  t.same(await file.readRecord(17), records[17], 'any record by its index');
});

t.test('a write that fails fails its own promise and every read after it', async (t) => {
  const file = await SpillFile.create(tmpdir());
  await file.writeRecord(Buffer.from('first'));
  await file.close();
  await t.rejects(file.writeRecord(Buffer.from('second')), 'the file is closed: the write fails');
  await t.rejects(file.readRecord(0), 'nothing is read after a failed write');
});
