/**
 * The release cache: what one consumer may see of one report snapshot under its policy (the sanitised CSV, or
 * the released JSON items serialised), built once and then served as stored bytes, so a repeat download is a
 * stream of cached records and a JSON page a slice of them. A release is keyed by the snapshot's content
 * digest, the format and the consumer's scope (consumer, its policy's hash, pseudonym key id and epoch): no
 * request of another consumer, another policy version or another key epoch can reach it. Releases live in
 * encrypted anonymous spill files like snapshots; decrypted records are kept in a memory bounded in bytes, and
 * the number of releases held is bounded too. Rows are put in the consumer's keyed order (row-order.ts),
 * sorted in 256 buckets by the first byte of their key, so building holds about 1/256 of a release at a time.
 */
import { createHash } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { tmpdir } from 'node:os';
import { releaseCsvBatches } from '../sanitize/csv-report.js';
import { JsonItemSanitizer } from '../sanitize/json-report.js';
import type { RowsPlan } from '../sanitize/plan.js';
import { identityColumns, isKeyedOrder, jsonIdentity, rowSortKey } from '../sanitize/row-order.js';
import { emptyStats, type SanitizeStats } from '../sanitize/stats.js';
import type { ReportSnapshot } from './snapshots.js';
import { Leased } from './leases.js';
import { SpillFile } from './spill-file.js';

/** Who a release is for: everything its bytes depend on besides the snapshot. */
export interface ReleaseScope {
  readonly consumer: string;
  /** The hash of the consumer's own policy file. */
  readonly policyHash: string;
  readonly pseudonyms?: { readonly keyId: string; readonly epoch: number };
}

/** The id of the release of a snapshot (by content digest) in a format for a scope. */
export function releaseId(snapshotDigest: string, format: 'csv' | 'json', scope: ReleaseScope): string {
  const p = scope.pseudonyms;
  return createHash('sha256').update([snapshotDigest, format, scope.consumer, scope.policyHash, p === undefined ? '-' : `${p.keyId} ${p.epoch}`].join('\u0000')).digest('base64url');
}

const RECORD_BYTES = 64 * 1024;
const BUCKETS = 256;
/** A sorting bucket larger than this (characters) goes to the build's scratch spill file. */
const BUCKET_FLUSH_CHARS = 32 * 1024;

interface StoredRecord {
  /** JSON: index of the record's first item; CSV: 0. */
  readonly firstItem: number;
  /** JSON: byte offset of each item in the record, and the record's length last. */
  readonly offsets?: Uint32Array;
}

/** Decrypted release records, shared by all releases, bounded in bytes; the least recently used go first. */
export class RecordMemory {
  private readonly records = new Map<string, Buffer>();
  private held = 0;

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.held;
  }

  get(key: string): Buffer | undefined {
    const record = this.records.get(key);
    if (record !== undefined) {
      this.records.delete(key);
      this.records.set(key, record);
    }
    return record;
  }

  put(key: string, record: Buffer): void {
    if (record.length > this.maxBytes || this.records.has(key)) return;
    this.records.set(key, record);
    this.held += record.length;
    for (const [oldest, old] of this.records) {
      if (this.held <= this.maxBytes) break;
      this.records.delete(oldest);
      this.held -= old.length;
    }
  }

  /** Forgets the records of one release (its file is closing). */
  drop(prefix: string): void {
    for (const [key, record] of this.records) {
      if (!key.startsWith(prefix)) continue;
      this.records.delete(key);
      this.held -= record.length;
    }
  }
}

/** A finished JSON page: the whole response body, and how many items it holds (for the audit line). */
export interface FinishedPage {
  readonly body: Buffer;
  readonly items: number;
}

/**
 * Finished JSON pages (server/reports.ts), so a repeat page is sent as stored bytes, not sliced, joined and
 * given a freshly sealed cursor again. A page is the same bytes for every request of the same listing (the
 * key names the release, which names snapshot, consumer, policy and pseudonym key, and the listing's binding,
 * offset and page size) except for its next-page cursor, whose expiry depends on when it was sealed: an entry
 * therefore serves until a time its caller gives (reports.ts: a 60th of the cursor's life, at most a minute, so
 * a reused cursor has lost little of its life). Bounded in bytes; the least recently used go first.
 */
export class PageMemo {
  private readonly pages = new Map<string, FinishedPage & { readonly until: number }>();
  private held = 0;

  constructor(readonly maxBytes = 16 * 1024 * 1024) {}

  get bytes(): number {
    return this.held;
  }

  get(key: string, now = Date.now()): FinishedPage | undefined {
    const page = this.pages.get(key);
    if (page === undefined) return undefined;
    this.pages.delete(key);
    if (page.until <= now) {
      this.held -= page.body.length;
      return undefined;
    }
    this.pages.set(key, page);
    return page;
  }

  /** Keeps `page` under `key` until `until` (ms since the epoch); returns it. */
  put(key: string, page: FinishedPage, until: number): FinishedPage {
    if (page.body.length > this.maxBytes) return page;
    const old = this.pages.get(key);
    if (old !== undefined) {
      this.pages.delete(key);
      this.held -= old.body.length;
    }
    this.pages.set(key, { ...page, until });
    this.held += page.body.length;
    for (const [oldest, entry] of this.pages) {
      if (this.held <= this.maxBytes) break;
      this.pages.delete(oldest);
      this.held -= entry.body.length;
    }
    return page;
  }

  clear(): void {
    this.pages.clear();
    this.held = 0;
  }
}

/** One consumer's release of one snapshot. Readers hold a lease; the file closes once retired and unleased. */
export class Release extends Leased {
  private static serial = 0;
  private readonly memoryPrefix = `${++Release.serial} `;

  constructor(
    readonly id: string,
    readonly format: 'csv' | 'json',
    private readonly file: SpillFile,
    private readonly records: readonly StoredRecord[],
    /** CSV: released rows; JSON: released items. */
    readonly count: number,
    /** What sanitising the whole report did (counts only), for the audit line. */
    readonly stats: Readonly<SanitizeStats>,
    private readonly memory: RecordMemory,
    leases: number,
  ) {
    super(leases);
  }

  /** Bytes of the released output (CSV: the whole download; JSON: the items and their separators). */
  get spilledBytes(): number {
    return this.file.bytes;
  }

  /** The sanitised CSV, header first, as stored. */
  async *csv(): AsyncGenerator<Buffer> {
    for (let i = 0; i < this.records.length; i++) yield await this.record(i);
  }

  /** JSON items [offset, offset + count) as one text of serialised items separated by commas. */
  async items(offset: number, count: number): Promise<{ text: Buffer; count: number }> {
    const parts: Buffer[] = [];
    let taken = 0;
    let index = this.recordOf(offset);
    for (; index < this.records.length && taken < count && offset + taken < this.count; index++) {
      const stored = this.records[index]!;
      const offsets = stored.offsets!;
      const items = offsets.length - 1;
      const from = offset + taken - stored.firstItem;
      const to = Math.min(items, from + count - taken);
      if (to <= from) continue;
      const record = await this.record(index);
      parts.push(record.subarray(offsets[from]!, offsets[to]! - 1)); // without the item's trailing comma
      taken += to - from;
    }
    return { text: joinWithCommas(parts), count: taken };
  }

  private recordOf(item: number): number {
    let low = 0;
    let high = this.records.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.records[middle]!.firstItem <= item) low = middle;
      else high = middle - 1;
    }
    return Math.max(0, low);
  }

  private async record(index: number): Promise<Buffer> {
    const key = this.memoryPrefix + index;
    const held = this.memory.get(key);
    if (held !== undefined) return held;
    const record = await this.file.readRecord(index);
    this.memory.put(key, record);
    return record;
  }

  protected close(): void {
    this.memory.drop(this.memoryPrefix);
    void this.file.close();
  }
}

function joinWithCommas(parts: readonly Buffer[]): Buffer {
  if (parts.length === 1) return parts[0]!;
  const comma = Buffer.from(',');
  return Buffer.concat(parts.flatMap((part, i) => (i === 0 ? [part] : [comma, part])));
}

/** A row on its way into a release: its sort key, its position upstream (ties) and its released text. */
type Entry = readonly [key: string, seq: number, text: string];

/**
 * Sorts released rows by key (then upstream position) in 256 buckets by the key's first byte; a bucket that
 * grows past BUCKET_FLUSH_CHARS goes to a scratch spill file, so memory holds a bounded part of the release.
 */
class BucketSorter {
  private readonly buckets: Entry[][] = Array.from({ length: BUCKETS }, () => []);
  private readonly sizes = new Array<number>(BUCKETS).fill(0);
  private readonly spilled: number[][] = Array.from({ length: BUCKETS }, () => []);
  private scratch: SpillFile | undefined;

  constructor(
    private readonly spillDir: string,
    private readonly flushChars = BUCKET_FLUSH_CHARS,
  ) {}

  /** Records written to the scratch file so far. */
  get spilledRecords(): number {
    return this.scratch?.recordCount ?? 0;
  }

  async add(key: string, seq: number, text: string): Promise<void> {
    const bucket = key === '' ? 0 : parseInt(key.slice(0, 2), 16);
    this.buckets[bucket]!.push([key, seq, text]);
    this.sizes[bucket]! += text.length + 32;
    if (this.sizes[bucket]! < this.flushChars) return;
    this.scratch ??= await SpillFile.create(this.spillDir);
    this.spilled[bucket]!.push(this.scratch.recordCount);
    await this.scratch.writeRecord(Buffer.from(JSON.stringify(this.buckets[bucket])));
    this.buckets[bucket] = [];
    this.sizes[bucket] = 0;
  }

  /** Every text, in key order, one bucket at a time. */
  async *sorted(): AsyncGenerator<readonly Entry[]> {
    try {
      for (let bucket = 0; bucket < BUCKETS; bucket++) {
        const entries = [...this.buckets[bucket]!];
        for (const index of this.spilled[bucket]!) entries.push(...(JSON.parse((await this.scratch!.readRecord(index)).toString('utf8')) as Entry[]));
        this.buckets[bucket] = [];
        if (entries.length === 0) continue;
        entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
        yield entries;
      }
    } finally {
      await this.scratch?.close();
    }
  }

  async close(): Promise<void> {
    await this.scratch?.close();
  }
}

/** Writes a release's records: texts packed up to RECORD_BYTES, with item offsets for JSON. */
class ReleaseWriter {
  readonly records: StoredRecord[] = [];
  private pending: Buffer[] = [];
  private offsets: number[] = [];
  private bytes = 0;
  private firstItem = 0;
  count = 0;

  constructor(
    readonly file: SpillFile,
    private readonly json: boolean,
  ) {}

  async add(text: string, item: boolean): Promise<void> {
    const bytes = Buffer.from(item && this.json ? `${text},` : text, 'utf8');
    if (this.bytes + bytes.length > RECORD_BYTES && this.bytes > 0) await this.flush();
    if (item && this.json) this.offsets.push(this.bytes);
    this.pending.push(bytes);
    this.bytes += bytes.length;
    if (item) this.count++;
  }

  async flush(): Promise<void> {
    if (this.bytes === 0) return;
    await this.file.writeRecord(Buffer.concat(this.pending, this.bytes));
    this.records.push(this.json ? { firstItem: this.firstItem, offsets: Uint32Array.from([...this.offsets, this.bytes]) } : { firstItem: 0 });
    this.firstItem += this.offsets.length;
    this.pending = [];
    this.offsets = [];
    this.bytes = 0;
  }
}

export interface ReleaseBuild {
  readonly snapshot: ReportSnapshot;
  readonly plan: RowsPlan;
  /** The consumer's row-order key (row-order.ts). */
  readonly orderKey: KeyObject;
}

/** Builds a release into `file`; returns what the Release needs. */
async function buildInto(file: SpillFile, spillDir: string, build: ReleaseBuild, flushChars?: number): Promise<{ records: StoredRecord[]; count: number; stats: SanitizeStats; sortSpills: number }> {
  const { snapshot, plan, orderKey } = build;
  const json = snapshot.format === 'json';
  const keyed = isKeyedOrder(plan.report);
  const identities = identityColumns(plan.report);
  const stats = emptyStats();
  const sorter = new BucketSorter(spillDir, flushChars);
  const writer = new ReleaseWriter(file, json);
  let seq = 0;
  try {
    if (json) {
      const classes = plan.hasQuasi ? await JsonItemSanitizer.countAll(plan, snapshot.itemBatches()) : undefined;
      const sanitizer = new JsonItemSanitizer(plan, stats, classes);
      for await (const items of snapshot.itemBatches()) {
        const released: [string, string][] = [];
        sanitizer.sanitizeEach(items, (item, upstream) => {
          const text = JSON.stringify(item);
          released.push([keyed ? rowSortKey(orderKey, jsonIdentity(upstream, identities), text) : '', text]);
        });
        for (const [key, text] of released) await sorter.add(key, seq++, text);
      }
    } else {
      for await (const batch of releaseCsvBatches(() => snapshot.csv(), plan, stats, { validated: true, identities })) {
        if (batch.header !== undefined) await writer.add(batch.header, false);
        for (let i = 0; i < batch.lines.length; i++) {
          const line = batch.lines[i]!;
          await sorter.add(keyed ? rowSortKey(orderKey, batch.identities[i]!, line) : '', seq++, line);
        }
      }
    }
    const sortSpills = sorter.spilledRecords;
    for await (const entries of sorter.sorted()) for (const [, , text] of entries) await writer.add(text, true);
    await writer.flush();
    return { records: writer.records, count: writer.count, stats, sortSpills };
  } finally {
    await sorter.close();
  }
}

export interface ReleaseCacheOptions {
  readonly spillDir?: string;
  /** Releases held at most (least recently used go first); default 64. */
  readonly maxReleases?: number;
  /** Decrypted records kept in memory, in bytes, across all releases; default 32 MiB. */
  readonly maxMemoryBytes?: number;
  /** A sorting bucket past this many characters goes to disk while a release is built (default 32 Ki). */
  readonly sortBucketChars?: number;
}

export interface ReleaseCacheStats {
  hits: number;
  builds: number;
  evictions: number;
  /** Sorting buckets written to disk while building (releases too big to sort in memory). */
  sortSpills: number;
}

/** Releases by id, each until a given time; concurrent requests for one release share its build. */
export class ReleaseCache {
  readonly stats: ReleaseCacheStats = { hits: 0, builds: 0, evictions: 0, sortSpills: 0 };
  readonly memory: RecordMemory;
  /** Finished JSON pages of the releases held (see PageMemo). */
  readonly pages = new PageMemo();
  private readonly held = new Map<string, { release: Release; until: number }>();
  private readonly pending = new Map<string, { promise: Promise<Release>; waiters: number }>();
  private readonly maxReleases: number;

  constructor(private readonly options: ReleaseCacheOptions = {}) {
    this.memory = new RecordMemory(options.maxMemoryBytes ?? 32 * 1024 * 1024);
    this.maxReleases = options.maxReleases ?? 64;
  }

  /** How many releases are held. */
  get size(): number {
    return this.held.size;
  }

  /**
   * The held release with this id, leased (call `release()`), or undefined. `holdUntil` extends how long it is
   * held (a listing in progress may keep using the release it began on).
   */
  lease(id: string, holdUntil = 0): Release | undefined {
    const entry = this.held.get(id);
    if (entry === undefined) return undefined;
    const now = Date.now();
    if (entry.until <= now && holdUntil <= now) {
      this.forget(id);
      return undefined;
    }
    // Re-inserted: the map's order is the order of last use.
    this.held.delete(id);
    this.held.set(id, { release: entry.release, until: Math.max(entry.until, holdUntil) });
    this.stats.hits++;
    entry.release.acquire();
    return entry.release;
  }

  /**
   * The release with this id, leased: held already, being built, or built now from `build()` and held until
   * `holdUntil` (not held at all when that time has passed: the cache is off).
   */
  async obtain(id: string, holdUntil: number, build: () => ReleaseBuild): Promise<Release> {
    const held = this.lease(id, holdUntil);
    if (held !== undefined) return held;
    let flight = this.pending.get(id);
    if (flight === undefined) {
      const entry = { promise: undefined as unknown as Promise<Release>, waiters: 0 };
      entry.promise = this.build(id, holdUntil, build(), () => entry.waiters).finally(() => this.pending.delete(id));
      flight = entry;
      this.pending.set(id, flight);
    }
    flight.waiters++;
    return flight.promise;
  }

  /** Drops every release (a policy reload); readers in progress finish first. */
  clear(): void {
    for (const id of [...this.held.keys()]) this.forget(id);
    this.pages.clear();
  }

  private async build(id: string, holdUntil: number, build: ReleaseBuild, waiters: () => number): Promise<Release> {
    const spillDir = this.options.spillDir ?? tmpdir();
    const file = await SpillFile.create(spillDir);
    let built: Awaited<ReturnType<typeof buildInto>>;
    try {
      built = await buildInto(file, spillDir, build, this.options.sortBucketChars);
    } catch (error) {
      await file.close();
      throw error;
    }
    this.stats.builds++;
    this.stats.sortSpills += built.sortSpills;
    // One lease per request waiting for this build, taken as it completes.
    const release = new Release(id, build.snapshot.format, file, built.records, built.count, built.stats, this.memory, waiters());
    if (holdUntil <= Date.now()) {
      release.retire();
      return release;
    }
    this.forget(id);
    release.acquire();
    this.held.set(id, { release, until: holdUntil });
    while (this.held.size > this.maxReleases) {
      this.forget(this.held.keys().next().value!);
      this.stats.evictions++;
    }
    return release;
  }

  private forget(id: string): void {
    const entry = this.held.get(id);
    if (entry === undefined) return;
    this.held.delete(id);
    entry.release.release();
    entry.release.retire();
  }
}
