/**
 * Append-only columns of per-row values (numbers, or names) that grow at tenant scale without a long pause:
 * values are held in blocks of COLUMN_BLOCK, a new block started when the last is full, so appending never
 * copies what is already held. V8 grows a JavaScript array by copying it into one about 1.5 times the size, and
 * the score reads one report's rows into several arrays that grow at the same row: at 300,000 rows the Teams
 * report's facts and kept rows held one 32 KiB step of its download for 40-95 ms, at rows 58k, 87k, 131k,
 * 197k and 296k (issue 18; measured in process over the report of bench/stand-in-graph.ts, step by step).
 * Numbers are held in typed arrays outside the JavaScript heap (Int32 for people's numbers and facts codes,
 * Float64 for metric values and codes that may grow): half the memory of an array of small integers for Int32,
 * and nothing for the collector to scan.
 */

/** Values per block: 64 KiB of Int32, 128 KiB of Float64. */
export const COLUMN_BLOCK = 16_384;

type NumberBlock = Int32Array | Float64Array;

/** An append-only column of numbers: `int32` (whole numbers in [-2^31, 2^31)) or `float64`. */
export class NumberColumn implements Iterable<number> {
  private readonly blocks: NumberBlock[] = [];
  private last: NumberBlock;
  private count = 0;

  constructor(private readonly kind: 'int32' | 'float64') {
    this.last = this.newBlock();
  }

  /** An int32 column holding `values`, copied a block at a time (no step per value). */
  static fromInt32Array(values: Int32Array): NumberColumn {
    const column = new NumberColumn('int32');
    for (let at = 0; at < values.length; at += COLUMN_BLOCK) {
      if (at > 0) column.last = column.newBlock();
      column.last.set(values.subarray(at, at + COLUMN_BLOCK));
    }
    column.count = values.length;
    return column;
  }

  get length(): number {
    return this.count;
  }

  /** Appends `value`. Throws RangeError for an int32 column given anything but a whole number in its range. */
  push(value: number): void {
    // An Int32Array would wrap such a value silently (2^31 becomes -2^31): refused, never stored wrong.
    if (this.kind === 'int32' && (value | 0) !== value) throw new RangeError(`${value} is not a 32-bit whole number`);
    const at = this.count % COLUMN_BLOCK;
    if (at === 0 && this.count > 0) this.last = this.newBlock();
    this.last[at] = value;
    this.count++;
  }

  /** The value at `index` (0-based), or undefined past the end. */
  at(index: number): number | undefined {
    if (index < 0 || index >= this.count) return undefined;
    return this.blocks[Math.floor(index / COLUMN_BLOCK)]![index % COLUMN_BLOCK];
  }

  *[Symbol.iterator](): Iterator<number> {
    for (let b = 0; b < this.blocks.length; b++) {
      const block = this.blocks[b]!;
      const end = Math.min(COLUMN_BLOCK, this.count - b * COLUMN_BLOCK);
      for (let i = 0; i < end; i++) yield block[i]!;
    }
  }

  /** Every value in one Int32Array of its own (to move to another thread). */
  toInt32Array(): Int32Array<ArrayBuffer> {
    const out = new Int32Array(this.count);
    for (let b = 0; b < this.blocks.length; b++) out.set(this.blocks[b]!.subarray(0, Math.min(COLUMN_BLOCK, this.count - b * COLUMN_BLOCK)), b * COLUMN_BLOCK);
    return out;
  }

  /** Every value in a plain array (for comparisons and tests). */
  toArray(): number[] {
    return [...this];
  }

  private newBlock(): NumberBlock {
    const block = this.kind === 'int32' ? new Int32Array(COLUMN_BLOCK) : new Float64Array(COLUMN_BLOCK);
    this.blocks.push(block);
    return block;
  }
}

/** An append-only column of strings (people's names by number), in blocks that are filled, never copied. */
export class StringColumn implements Iterable<string> {
  private readonly blocks: string[][] = [];
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(value: string): void {
    const at = this.count % COLUMN_BLOCK;
    if (at === 0) this.blocks.push(new Array<string>(COLUMN_BLOCK).fill(''));
    this.blocks[this.blocks.length - 1]![at] = value;
    this.count++;
  }

  /** The string at `index` (0-based), or undefined past the end. */
  at(index: number): string | undefined {
    if (index < 0 || index >= this.count) return undefined;
    return this.blocks[Math.floor(index / COLUMN_BLOCK)]![index % COLUMN_BLOCK];
  }

  *[Symbol.iterator](): Iterator<string> {
    for (let i = 0; i < this.count; i++) yield this.at(i)!;
  }
}

/**
 * `array` if it holds an element at `index`, else a new array of the same kind holding at least `index + 1` and
 * `atLeast` elements and twice `array`'s length (so growth by one element at a time copies O(n) in all), with
 * `array`'s elements copied to its start and zeros after them. For arrays numbered by person (4 bytes a number:
 * a copy of 1.2 MB at 300,000 people), where a block column (NumberColumn) does not fit because elements are set
 * at any number, not appended.
 */
export function grownToHold<A extends Int32Array | Uint8Array>(array: A, index: number, atLeast = 0): A {
  if (index < array.length) return array;
  const grown = new (array.constructor as new (length: number) => A)(Math.max(index + 1, atLeast, 2 * array.length));
  grown.set(array);
  return grown;
}

/**
 * A set of people's numbers (whole numbers from 0, as a PersonIndex gives them): one bit each, grown by copying
 * (grownToHold: a copy of 37 KB at 300,000 people), where a Set of 300,000 numbers costs a hash lookup per row and a rehash
 * of all of them as it grows. Throws RangeError for anything but a whole number from 0 to 2^31 - 1.
 */
export class NumberSet {
  private bits = new Uint8Array(0);

  has(value: number): boolean {
    const byte = this.bits[NumberSet.byteOf(value)];
    return byte !== undefined && (byte & (1 << (value & 7))) !== 0;
  }

  add(value: number): this {
    const at = NumberSet.byteOf(value);
    this.bits = grownToHold(this.bits, at);
    this.bits[at]! |= 1 << (value & 7);
    return this;
  }

  private static byteOf(value: number): number {
    if ((value | 0) !== value || value < 0) throw new RangeError(`${value} is not a person's number (a whole number from 0 to 2^31 - 1)`);
    return value >> 3;
  }
}
