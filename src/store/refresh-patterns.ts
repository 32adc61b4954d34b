/**
 * Each Graph refresh's suppression patterns in the Store (store.ts RefreshPatternStore): how a pattern's hashes are
 * packed (4 bytes a hidden cell, 8 a shown one, little-endian) and checked when read back, and the embedded store's
 * file of them. A stored entry that does not unpack is refused (StoreCorruptError), never read as an empty pattern:
 * an empty pattern would let a release show what the refresh's releases hid.
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { AppendOnlyFile } from './append-only-file.js';
import { StoreCorruptError } from './records.js';
import { patternsExpired, type RefreshAt, type RefreshPatternStore, type StoredPattern } from './store.js';

/** The hidden cells' hashes packed: 4 bytes each, little-endian. */
export function packHidden(hashes: Uint32Array): Buffer {
  const out = Buffer.alloc(hashes.length * 4);
  hashes.forEach((hash, i) => out.writeUInt32LE(hash, i * 4));
  return out;
}

/** The shown cells' hashes packed: 8 bytes each (a float64 holding an integer below 2^53), little-endian. */
export function packShown(hashes: Float64Array): Buffer {
  const out = Buffer.alloc(hashes.length * 8);
  hashes.forEach((hash, i) => out.writeDoubleLE(hash, i * 8));
  return out;
}

/** packHidden's bytes read back, ascending and without repeats; StoreCorruptError (at `where`) unless whole 4-byte hashes. */
export function unpackHidden(bytes: Buffer, where: string): Uint32Array {
  if (bytes.length % 4 !== 0) throw new StoreCorruptError(where, `holds ${bytes.length} bytes of hidden cells, not a whole number of 4-byte hashes`);
  const hashes = new Uint32Array(bytes.length / 4);
  for (let i = 0; i < hashes.length; i++) hashes[i] = bytes.readUInt32LE(i * 4);
  return distinct(hashes);
}

/** packShown's bytes read back, ascending and without repeats; StoreCorruptError (at `where`) unless whole 8-byte hashes below 2^53. */
export function unpackShown(bytes: Buffer, where: string): Float64Array {
  if (bytes.length % 8 !== 0) throw new StoreCorruptError(where, `holds ${bytes.length} bytes of shown cells, not a whole number of 8-byte hashes`);
  const hashes = new Float64Array(bytes.length / 8);
  for (let i = 0; i < hashes.length; i++) {
    const hash = bytes.readDoubleLE(i * 8);
    if (!Number.isSafeInteger(hash) || hash < 0) throw new StoreCorruptError(where, 'holds a shown cell that is not a 53-bit hash');
    hashes[i] = hash;
  }
  return distinct(hashes);
}

/** `a` and `b` as one pattern: the union of each's hidden and shown hashes. */
export function unitePatterns(a: Pick<StoredPattern, 'hidden' | 'shown'>, b: Pick<StoredPattern, 'hidden' | 'shown'>): { hidden: Uint32Array; shown: Float64Array } {
  const hidden = new Uint32Array(a.hidden.length + b.hidden.length);
  hidden.set(a.hidden);
  hidden.set(b.hidden, a.hidden.length);
  const shown = new Float64Array(a.shown.length + b.shown.length);
  shown.set(a.shown);
  shown.set(b.shown, a.shown.length);
  return { hidden: distinct(hidden), shown: distinct(shown) };
}

/** `hashes` sorted ascending, repeats dropped. */
function distinct<T extends Uint32Array | Float64Array>(hashes: T): T {
  hashes.sort();
  let n = 0;
  for (let i = 0; i < hashes.length; i++) if (i === 0 || hashes[i] !== hashes[i - 1]) hashes[n++] = hashes[i]!;
  return hashes.subarray(0, n) as T;
}

/** A new hash key (RefreshPatternStore.hashKey) as it is stored: 32 random bytes in base64. */
export const newHashKey = (): string => randomBytes(32).toString('base64');

/** A stored hash key read back; StoreCorruptError (at `where`) unless 32 bytes of base64. */
export function checkedHashKey(stored: string, where: string): Uint8Array {
  const text = stored.trim();
  const key = Buffer.from(text, 'base64');
  if (!BASE64.test(text) || key.length !== 32) throw new StoreCorruptError(where, 'is not a hash key (32 bytes of base64)');
  return new Uint8Array(key);
}

/** A refresh's name in a map or a key: source and date (a report name holds no space). */
export const refreshName = (at: RefreshAt) => `${at.refreshDate} ${at.source}`;

/**
 * The embedded store's refresh patterns (one replica): an append-only, fsync'd file of JSON lines, one per merge
 * (`{source, refreshDate, window, table, hidden, shown}`, the hashes packed and base64), replayed whole when opened
 * and held in memory. Patterns past `PATTERN_RETENTION_DAYS` are dropped when opened (the file is then compacted),
 * so memory and file hold at most the refreshes of those days: 12 bytes a cell (about 16 bytes in base64) per table.
 * `exclusive` queues the releases of a refresh within this process (the file lock keeps it the only one).
 */
export class RefreshPatternFile implements RefreshPatternStore {
  /** Refresh (refreshName) -> table (window, table) -> pattern. */
  private readonly refreshes = new Map<string, Map<string, StoredPattern>>();
  private readonly queues = new Map<string, Promise<unknown>>();

  private constructor(
    private readonly file: AppendOnlyFile,
    private readonly key: Uint8Array,
  ) {}

  /** Opens (or creates) and replays the file; an invalid line (not a torn tail) refuses it with StoreCorruptError (file:line). */
  static async open(path: string, now: () => Date = () => new Date()): Promise<RefreshPatternFile> {
    const file = await AppendOnlyFile.open(path);
    try {
      const kept = file.lines.flatMap((line, i) => (line.trim() === '' ? [] : [parsePatternLine(line, `${path}:${i + 1}`)]));
      const store = new RefreshPatternFile(file, await hashKeyFile(keyFileOf(path), kept.length > 0));
      let expired = false;
      for (const { at, pattern } of kept) {
        if (patternsExpired(at.refreshDate, now())) expired = true;
        else store.unite(at, pattern);
      }
      if (expired) await file.serially((_append, rewrite) => rewrite(store.lines()));
      return store;
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  async load(at: RefreshAt): Promise<StoredPattern[]> {
    return [...(this.refreshes.get(refreshName(at))?.values() ?? [])];
  }

  async merge(at: RefreshAt, patterns: readonly StoredPattern[]): Promise<void> {
    const fresh = patterns.filter((p) => p.hidden.length + p.shown.length > 0);
    if (fresh.length === 0) return;
    await this.file.serially(async (append) => {
      for (const pattern of fresh) await append(patternLine(at, pattern));
    });
    for (const pattern of fresh) this.unite(at, pattern);
  }

  exclusive<T>(at: RefreshAt, run: () => Promise<T>): Promise<T> {
    const name = refreshName(at);
    const result = (this.queues.get(name) ?? Promise.resolve()).then(run);
    const settled = result.catch(() => undefined);
    this.queues.set(name, settled);
    void settled.then(() => {
      if (this.queues.get(name) === settled) this.queues.delete(name);
    });
    return result;
  }

  async hashKey(): Promise<Uint8Array> {
    return this.key;
  }

  close(): Promise<void> {
    return this.file.close();
  }

  private unite(at: RefreshAt, pattern: StoredPattern): void {
    const name = refreshName(at);
    let tables = this.refreshes.get(name);
    if (tables === undefined) this.refreshes.set(name, (tables = new Map()));
    const key = JSON.stringify([pattern.window, pattern.table]);
    const before = tables.get(key);
    // United even with nothing: what is kept is ascending and without repeats, whatever order `merge` was given.
    tables.set(key, { window: pattern.window, table: pattern.table, ...unitePatterns(before ?? { hidden: new Uint32Array(0), shown: new Float64Array(0) }, pattern) });
  }

  /** Every kept pattern as one line each (a compaction). */
  private lines(): string[] {
    return [...this.refreshes].flatMap(([name, tables]) => {
      const [refreshDate, source] = [name.slice(0, name.indexOf(' ')), name.slice(name.indexOf(' ') + 1)];
      return [...tables.values()].map((pattern) => patternLine({ source, refreshDate }, pattern));
    });
  }
}

/** The hash key's file beside the patterns' (`refresh-patterns.jsonl` -> `refresh-patterns.key`). */
export const keyFileOf = (path: string): string => `${path.replace(/\.jsonl$/, '')}.key`;

/**
 * The hash key kept in `path`, made there (owner-only) if there is none and no pattern is kept (`patternsKept`);
 * StoreCorruptError (the path) if it is not one, or if patterns are kept without it: they would match no cell, and
 * a release after a policy change would show a new pattern beside the refresh's kept ones (red team:
 * test/redteam/patterns-key-lost.test.ts).
 */
async function hashKeyFile(path: string, patternsKept: boolean): Promise<Uint8Array> {
  if (!patternsKept) {
    // Written whole beside it, then linked into place: a crash never leaves a torn key, and a key already there stays.
    const draft = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(draft, `${newHashKey()}\n`, { flag: 'wx', mode: 0o600, flush: true });
    try {
      await link(draft, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await unlink(draft);
    }
  }
  let stored: string;
  try {
    stored = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new StoreCorruptError(path, KEY_LOST);
    throw error;
  }
  return checkedHashKey(stored, path);
}

/** Why patterns kept without their hash key refuse the store, and what an operator does. */
export const KEY_LOST = "is missing, but the refresh patterns kept hold hashes made with it: restore it from the patterns' backup, or delete the patterns to start them afresh (a release after a policy change may then show a new pattern beside the day's kept releases)";

function patternLine(at: RefreshAt, pattern: StoredPattern): string {
  return JSON.stringify({ source: at.source, refreshDate: at.refreshDate, window: pattern.window, table: pattern.table, hidden: packHidden(pattern.hidden).toString('base64'), shown: packShown(pattern.shown).toString('base64') });
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function parsePatternLine(line: string, where: string): { at: RefreshAt; pattern: StoredPattern } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new StoreCorruptError(where, 'is not JSON');
  }
  const v = value as Record<string, unknown>;
  const strings = ['source', 'refreshDate', 'window', 'table', 'hidden', 'shown'];
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.keys(v).length !== strings.length || strings.some((k) => typeof v[k] !== 'string')) {
    throw new StoreCorruptError(where, `is not a refresh pattern (${strings.join(', ')}, all strings)`);
  }
  const s = v as Record<string, string>;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s.refreshDate!) || Number.isNaN(Date.parse(`${s.refreshDate}T00:00:00Z`))) throw new StoreCorruptError(where, 'has no valid refresh date');
  if (s.source === '' || s.source!.includes(' ')) throw new StoreCorruptError(where, 'has no report name');
  if (!BASE64.test(s.hidden!) || !BASE64.test(s.shown!)) throw new StoreCorruptError(where, 'holds hashes that are not base64');
  return {
    at: { source: s.source!, refreshDate: s.refreshDate! },
    pattern: { window: s.window!, table: s.table!, hidden: unpackHidden(Buffer.from(s.hidden!, 'base64'), where), shown: unpackShown(Buffer.from(s.shown!, 'base64'), where) },
  };
}
