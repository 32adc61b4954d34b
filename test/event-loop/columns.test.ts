/** NumberColumn and StringColumn (src/event-loop/columns.ts) against plain arrays, across block boundaries. */
import t from 'tap';
import { COLUMN_BLOCK, NumberColumn, StringColumn } from '../../src/event-loop/columns.js';

t.test('a NumberColumn holds what was pushed, in order, across blocks: at, length, iteration, Int32Array and array copies, and one made from an Int32Array', async (t) => {
  const fc = (await import('fast-check')).default;
  fc.assert(
    fc.property(fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 200 }), fc.integer({ min: 0, max: 3 }), (values, blocks) => {
      // Pad past whole blocks so that the values cross block boundaries.
      const all = [...Array.from({ length: blocks * COLUMN_BLOCK - 7 * Math.min(blocks, 1) }, (_, i) => i - 5), ...values];
      const column = new NumberColumn('int32');
      for (const value of all) column.push(value);
      if (column.length !== all.length) return false;
      for (let i = 0; i < all.length; i += Math.max(1, Math.floor(all.length / 500))) if (column.at(i) !== all[i]) return false;
      if (column.at(all.length - 1) !== all.at(-1) || column.at(all.length) !== undefined || column.at(-1) !== undefined) return false;
      const copy = column.toInt32Array();
      const again = NumberColumn.fromInt32Array(copy);
      return copy.length === all.length && JSON.stringify(column.toArray()) === JSON.stringify(all) && copy.every((v, i) => v === all[i]) &&
        again.length === all.length && JSON.stringify(again.toArray()) === JSON.stringify(all);
    }),
    { numRuns: 40 },
  );
});

t.test('a float64 NumberColumn keeps fractions and large whole numbers exactly', async (t) => {
  const values = [0.5, -1.25, 2 ** 40 + 1, Number.MAX_SAFE_INTEGER, 1e-9];
  const column = new NumberColumn('float64');
  for (let i = 0; i < COLUMN_BLOCK + 3; i++) column.push(values[i % values.length]!);
  t.equal(column.length, COLUMN_BLOCK + 3);
  t.equal(column.at(COLUMN_BLOCK + 2), values[(COLUMN_BLOCK + 2) % values.length]);
  t.same(column.toArray().slice(0, 5), values);
});

t.test('an int32 NumberColumn refuses what it cannot hold instead of wrapping it', async (t) => {
  const column = new NumberColumn('int32');
  column.push(2 ** 31 - 1);
  column.push(-(2 ** 31));
  for (const value of [2 ** 31, -(2 ** 31) - 1, 0.5, Number.NaN]) t.throws(() => column.push(value), RangeError, String(value));
  t.same(column.toArray(), [2 ** 31 - 1, -(2 ** 31)], 'nothing refused was stored');
});

t.test('a StringColumn holds what was pushed across blocks; nothing past the end', async (t) => {
  const column = new StringColumn();
  const names = Array.from({ length: 2 * COLUMN_BLOCK + 5 }, (_, i) => `user${i}@contoso.com`);
  for (const name of names) column.push(name);
  t.equal(column.length, names.length);
  t.equal(column.at(0), names[0]);
  t.equal(column.at(COLUMN_BLOCK), names[COLUMN_BLOCK], 'the first of the second block');
  t.equal(column.at(names.length - 1), names.at(-1));
  t.equal(column.at(names.length), undefined);
  t.same([...column], names);
  t.equal(new StringColumn().at(0), undefined, 'an empty column');
});

t.test('a NumberSet answers as a Set of whole numbers does, across growth; refuses what is not a person\'s number', async (t) => {
  const fc = (await import('fast-check')).default;
  const { NumberSet } = await import('../../src/event-loop/columns.js');
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.oneof(fc.nat(70), fc.nat(300_000))), { maxLength: 80 }), (operations) => {
      const expected = new Set<number>();
      const actual = new NumberSet();
      for (const [add, value] of operations) {
        if (add) {
          expected.add(value);
          if (actual.add(value) !== actual) return false;
        }
        if (actual.has(value) !== expected.has(value) || actual.has(value + 1) !== expected.has(value + 1)) return false;
      }
      return [...expected].every((v) => actual.has(v));
    }),
    { numRuns: 300 },
  );
  const set = new NumberSet();
  for (const value of [-1, 0.5, 2 ** 31, Number.NaN]) {
    t.throws(() => set.add(value), RangeError, `add ${value}`);
    t.throws(() => set.has(value), RangeError, `has ${value}`);
  }
  t.notOk(set.has(0), 'nothing refused was added');
});

t.test('grownToHold: the same array while it holds the index; else a larger one of its kind, its values first and zeros after', async (t) => {
  const { grownToHold } = await import('../../src/event-loop/columns.js');
  const small = Int32Array.of(7, -3, 9);
  t.equal(grownToHold(small, 2), small, 'an index it holds: not copied');
  const grown = grownToHold(small, 3);
  t.ok(grown instanceof Int32Array, 'the same kind');
  t.same([...grown], [7, -3, 9, 0, 0, 0], 'doubled: its values first, zeros after');
  t.equal(grownToHold(small, 10).length, 11, 'at least the index + 1');
  t.equal(grownToHold(small, 3, 40).length, 40, 'at least the length asked for');
  t.same([...small], [7, -3, 9], 'the array grown is left as it was');
  const bytes = grownToHold(new Uint8Array(0), 0);
  t.ok(bytes instanceof Uint8Array && bytes.length === 1, 'an empty Uint8Array grown to one byte');
  // Growing one element at a time copies about twice the final length in all (doubling), not its square.
  let array = new Int32Array(0);
  let copies = 0;
  for (let i = 0; i < 100_000; i++) {
    const next = grownToHold(array, i);
    if (next !== array) copies += array.length;
    array = next;
  }
  t.ok(copies < 2 * 100_000, `${copies} elements copied growing to 100,000 one at a time`);
});
