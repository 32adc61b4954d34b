/**
 * The report snapshot cache. Graph allows about 14 CSV downloads per report per 10 minutes and refreshes a
 * report once a day, so each (version, report, period or date, format) is fetched once per time-to-live and
 * every consumer is served from that snapshot through its own policy. Concurrent requests share one upstream
 * fetch (single-flight). Raw snapshots live only in encrypted anonymous spill files and are checked whole
 * (well-formed, every known cell of its column's type) before anyone is served from them.
 */
import { createHash, type Hash } from 'node:crypto';
import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import { validateCsvReport, type CsvBatch } from '../sanitize/csv-report.js';
import { pageItems } from '../sanitize/json-report.js';
import type { GraphClient } from './client.js';
import type { ReportCall, ReportFormat } from '../catalogue/odata.js';
import type { ReportSpec } from '../catalogue/catalogue.js';
import { NameForms, type NameForm } from '../catalogue/identifiers.js';
import { Leased } from './leases.js';
import { SpillFile } from './spill-file.js';
import { UpstreamError } from './upstream-error.js';
import { letTheLoopTurn } from '../event-loop/turns.js';
import type { CsvValidationJob } from './csv-validation.js';
import type { SharedSnapshotMeta, SharedSnapshots } from '../store/shared-snapshots.js';

export interface SnapshotCacheOptions {
  readonly client: GraphClient;
  /** How long a snapshot serves requests; 0 turns caching off (each request fetches, concurrent ones share). */
  readonly ttlMs: number;
  readonly spillDir?: string;
  /** `$top` used when paging through a JSON report upstream (fewer pages = fewer throttled requests). */
  readonly jsonPageSize?: number;
  /** A JSON report with more pages than this is refused (a nextLink loop would otherwise never end). */
  readonly maxJsonPages?: number;
  /** Snapshots shared between replicas (Redis): each report is fetched from Graph once between them. */
  readonly shared?: SharedSnapshots;
  /** How long a replica waits for another one's fetch before fetching itself (default 60 s). */
  readonly sharedWaitMs?: number;
  /**
   * Told when a report fetched from Graph names users in the other form than the last one did: the tenant's
   * concealed-names setting was switched, and every pseudonym derived from a user name changes with it.
   */
  readonly onNameFormSwitch?: (change: { report: string; from: NameForm; to: NameForm }) => void;
  /**
   * What to derive from a CSV report's rows while its fetch is validated (score/score-facts.ts gives people's
   * facts), so that a report is parsed once; the result is kept with the snapshot until taken
   * (`takeSummary`). A summarizer that throws is dropped without failing the fetch: its reader then parses the
   * snapshot itself and meets the same error.
   */
  readonly summarizeCsv?: (report: ReportSpec) => CsvSummarizer | undefined;
  /**
   * Validates CSV reports in worker threads (csv-validation.ts CsvValidationPool) instead of on the event loop;
   * the score's reports are then summarised there (their facts become the snapshot's summary) and
   * `summarizeCsv` is not used.
   */
  readonly csvValidation?: { start(report: ReportSpec): CsvValidationJob };
}

/** Something derived from a CSV report's rows, batch by batch, in the snapshot's validation pass. */
export interface CsvSummarizer {
  /** The columns (headers) it reads; batches hold only these (all columns when absent). */
  readonly columns?: readonly string[];
  add(batch: CsvBatch): void;
  result(): unknown;
}

type JsonObject = Record<string, unknown>;
/**
 * CSV bytes per stored record, at least: each record costs a cipher, a nonce, a write and a promise (some 60 µs
 * of the event loop, measured), so at 64 KiB a 330 MB cold score paid 0.3 s for them; 256 KiB paid a quarter, and
 * 1 MiB another 0.2-0.26 s less of main-thread CPU for the seven reports fetched at once (compare-trees --only
 * fetch-all at 300,000 users, 3 rounds: 2.86-2.91 s against 3.12 s). Memory: up to two records per download
 * (one filling, one being written), 14 MiB for the seven of a cold score.
 */
const RECORD_BYTES = 1024 * 1024;
/**
 * CSV bytes validated between two looks at the event loop's clock (event-loop/turns.ts). Most chunks of a
 * download are 16 KiB; one that waited for its turn comes up to 128 KiB at once, and such a chunk of the Teams
 * report held one turn for 58 ms at 300,000 users (bench/score-scale.ts).
 */
const BYTES_PER_STEP = 32 * 1024;
/** JSON items per stored record: releases read a snapshot whole, so records are large (fewer writes). */
const ITEMS_PER_RECORD = 1000;

/** One fetched report, as stored. Readers hold a lease; the file is closed once expired and unleased. */
export class ReportSnapshot extends Leased {
  constructor(
    readonly key: string,
    readonly format: ReportFormat,
    private readonly file: SpillFile,
    /** CSV: data rows; JSON: items. */
    readonly count: number,
    /** JSON: index of the first item of each record. */
    readonly itemStarts: readonly number[],
    readonly fetchedAt: number,
    readonly expiresAt: number,
    leases: number,
    /** SHA-256 (hex) of the stored records: two fetches with the same content have the same digest. */
    readonly digest: string,
    /** What the cache's `summarizeCsv` derived from the rows while validating them, if anything. */
    private summary?: unknown,
  ) {
    super(leases);
  }

  /** What `summarizeCsv` derived from this snapshot's rows, once: later calls get undefined (memory is freed). */
  takeSummary(): unknown {
    const summary = this.summary;
    this.summary = undefined;
    return summary;
  }

  /** The CSV bytes exactly as Graph sent them. */
  csv(): AsyncIterable<Buffer> {
    return this.file.readAll();
  }

  /** Every JSON item, one stored record at a time. */
  async *itemBatches(): AsyncGenerator<JsonObject[]> {
    for await (const record of this.file.readAll()) yield JSON.parse(record.toString('utf8')) as JsonObject[];
  }

  protected close(): void {
    void this.file.close();
  }
}

export function snapshotKey(call: ReportCall, format: ReportFormat): string {
  return [call.version, call.report.name, call.period ?? (call.date !== undefined ? `date=${call.date}` : '-'), format].join(' ');
}

export interface SnapshotCacheStats {
  hits: number;
  /** Fetches from Graph. */
  fetches: number;
  failures: number;
  /** Snapshots taken over from another replica (through the shared store). */
  sharedHits: number;
  /** Times a fetched report named users in the other form (concealed or clear) than the one before it. */
  nameFormSwitches: number;
}

export class SnapshotCache {
  readonly stats: SnapshotCacheStats = { hits: 0, fetches: 0, failures: 0, sharedHits: 0, nameFormSwitches: 0 };
  /** The form of user names each report was last fetched in: Graph applies the setting report by report. */
  private readonly nameForms = new Map<string, NameForm>();
  private readonly ready = new Map<string, ReportSnapshot>();
  private readonly pending = new Map<string, { promise: Promise<ReportSnapshot>; waiters: number }>();

  constructor(private readonly options: SnapshotCacheOptions) {}

  /**
   * A leased snapshot of the report; call `release()` on it when done reading. `fetchedAfter` (ms since the
   * epoch): a held snapshot fetched before it is fetched again (a report's periods that must agree on a refresh).
   */
  async lease(call: ReportCall, format: ReportFormat, options: { readonly fetchedAfter?: number } = {}): Promise<ReportSnapshot> {
    const key = snapshotKey(call, format);
    const now = Date.now();
    const cached = this.ready.get(key);
    if (cached !== undefined) {
      if (now < cached.expiresAt && cached.fetchedAt >= (options.fetchedAfter ?? 0)) {
        this.stats.hits++;
        cached.acquire();
        return cached;
      }
      this.ready.delete(key);
      cached.retire();
    }
    let flight = this.pending.get(key);
    if (flight === undefined) {
      const entry = { promise: undefined as unknown as Promise<ReportSnapshot>, waiters: 0 };
      entry.promise = this.fetch(call, format, key, () => entry.waiters).finally(() => this.pending.delete(key));
      flight = entry;
      this.pending.set(key, flight);
    }
    flight.waiters++;
    return flight.promise;
  }

  /**
   * The snapshot already held for the report, leased (call `release()`), or undefined: never fetches, never
   * counts as a hit. For looking at what the proxy holds (policy preview) without asking Graph.
   */
  held(call: ReportCall, format: ReportFormat): ReportSnapshot | undefined {
    const cached = this.ready.get(snapshotKey(call, format));
    if (cached === undefined || Date.now() >= cached.expiresAt) return undefined;
    cached.acquire();
    return cached;
  }

  /** Drops every snapshot (readers in progress finish first). */
  clear(): void {
    for (const snapshot of this.ready.values()) snapshot.retire();
    this.ready.clear();
  }

  private async fetch(call: ReportCall, format: ReportFormat, key: string, waiters: () => number): Promise<ReportSnapshot> {
    const file = await SpillFile.create(this.options.spillDir ?? tmpdir());
    const digest = createHash('sha256');
    try {
      const { count, itemStarts, summary } = await this.fetchShared(call, format, key, new DigestingWriter(file, digest));
      const fetchedAt = Date.now();
      const snapshot = new ReportSnapshot(key, format, file, count, itemStarts, fetchedAt, fetchedAt + this.options.ttlMs, waiters(), digest.digest('hex'), summary);
      if (this.options.ttlMs > 0) this.ready.set(key, snapshot);
      else snapshot.retire();
      return snapshot;
    } catch (error) {
      this.stats.failures++;
      await file.close();
      throw error;
    }
  }

  /**
   * The snapshot's content into `file`: another replica's copy when there is one (or one arrives while this
   * replica waits for the fetch lock), otherwise from Graph, then offered to the other replicas.
   */
  private async fetchShared(call: ReportCall, format: ReportFormat, key: string, file: DigestingWriter): Promise<{ count: number; itemStarts: number[]; summary?: unknown }> {
    const shared = this.options.ttlMs > 0 ? this.options.shared : undefined;
    const adopt = async (copy: { meta: SharedSnapshotMeta; records: AsyncIterable<Buffer> }) => {
      for await (const record of copy.records) await file.writeRecord(record);
      this.stats.sharedHits++;
      return { count: copy.meta.count, itemStarts: [...copy.meta.itemStarts] };
    };
    let lockToken: string | undefined;
    if (shared !== undefined) {
      const existing = await shared.get(key);
      if (existing !== undefined) return adopt(existing);
      lockToken = await shared.lock(key, Math.max(this.options.sharedWaitMs ?? 60_000, 10_000));
      if (lockToken === undefined) {
        const until = Date.now() + (this.options.sharedWaitMs ?? 60_000);
        while (Date.now() < until) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          const copy = await shared.get(key);
          if (copy !== undefined) return adopt(copy);
        }
      }
    }
    this.stats.fetches++;
    try {
      const names = new NameForms();
      const result = format === 'csv' ? await this.fetchCsv(call, file, names) : await this.fetchJson(call, file, names);
      this.noteNameForm(call.report.name, names.form);
      // The meta other replicas read is the records' shape only: a summary (summarizeCsv) stays with this replica,
      // and one that adopts the copy reads the records itself.
      if (shared !== undefined) await shared.put(key, { count: result.count, itemStarts: result.itemStarts, records: file.file.recordCount }, file.file.readAll(), this.options.ttlMs);
      return result;
    } finally {
      if (lockToken !== undefined) await shared!.unlock(key, lockToken);
    }
  }

  /**
   * Counts a switch when a report comes in the other form than its own last fetch (Graph applies a changed
   * setting at each report's next refresh, so two reports may differ for a while without any new switch).
   */
  private noteNameForm(report: string, form: NameForm | undefined): void {
    if (form === undefined) return;
    const from = this.nameForms.get(report);
    this.nameForms.set(report, form);
    if (from === undefined || from === form) return;
    this.stats.nameFormSwitches++;
    this.options.onNameFormSwitch?.({ report, from, to: form });
  }

  private async fetchCsv(call: ReportCall, file: DigestingWriter, names: NameForms): Promise<{ count: number; itemStarts: number[]; summary?: unknown }> {
    if (this.options.csvValidation !== undefined) return this.fetchCsvValidatedApart(call, file, names, this.options.csvValidation.start(call.report));
    let summarizer = this.options.summarizeCsv?.(call.report);
    const summarize = (batch: CsvBatch) => {
      try {
        summarizer?.add(batch);
      } catch {
        summarizer = undefined;
      }
    };
    const body: Readable = await this.options.client.openCsv(call);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    // The last record's write: it proceeds while the next chunks are validated (one record at a time in flight).
    let writing: Promise<void> = Promise.resolve();
    const flush = async () => {
      if (pendingBytes === 0) return;
      await writing;
      writing = file.writeRecord(pending);
      writing.catch(() => undefined); // awaited at the next flush or the end; a failure then fails the fetch
      pending = [];
      pendingBytes = 0;
    };
    async function* stored(): AsyncGenerator<Buffer> {
      try {
        for await (const chunk of body) {
          const bytes = chunk as Buffer;
          pending.push(bytes);
          pendingBytes += bytes.length;
          if (pendingBytes >= RECORD_BYTES) await flush();
          // Validated a step at a time: the seven downloads of a cold score share the turn's budget (one turn once
          // validated their chunks one after another for 60-130 ms at 300,000 users, issue 18), and a chunk that
          // arrives large (up to 128 KiB when the download waited) is split so that it cannot hold a turn alone.
          // The budget is asked before each step, not only after: a download woken by its socket in a turn whose
          // budget is spent waits for the next instead of doing one more step in it.
          for (let at = 0; at < bytes.length; at += BYTES_PER_STEP) {
            await letTheLoopTurn();
            yield bytes.length <= BYTES_PER_STEP ? bytes : bytes.subarray(at, at + BYTES_PER_STEP);
          }
        }
      } catch (error) {
        if (error instanceof UpstreamError) throw error;
        throw new UpstreamError('Truncated', 'the report download broke off before it was complete');
      }
      await flush();
      // Every record is on file before the validation ends, so before the snapshot can be served.
      await writing;
    }
    try {
      const count = await validateCsvReport(stored(), call.report, names, summarize, summarizer?.columns);
      let summary: unknown;
      try {
        summary = summarizer?.result();
      } catch {
        summary = undefined;
      }
      return { count, itemStarts: [], ...(summary !== undefined ? { summary } : {}) };
    } finally {
      body.destroy();
    }
  }

  /**
   * fetchCsv with the validation in a worker: each record, once stored, goes to `job`; the snapshot is ready
   * when the worker has checked every cell.
   */
  private async fetchCsvValidatedApart(call: ReportCall, file: DigestingWriter, names: NameForms, job: CsvValidationJob): Promise<{ count: number; itemStarts: number[]; summary?: unknown }> {
    let body: Readable | undefined;
    try {
      body = await this.options.client.openCsv(call);
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const flush = async () => {
        if (pendingBytes === 0) return;
        const record = Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
        await file.writeRecord(record);
        await job.push(record);
      };
      const source = body;
      async function* downloaded(): AsyncGenerator<Buffer> {
        try {
          for await (const chunk of source) yield chunk as Buffer;
        } catch (error) {
          if (error instanceof UpstreamError) throw error;
          throw new UpstreamError('Truncated', 'the report download broke off before it was complete');
        }
      }
      for await (const chunk of downloaded()) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= RECORD_BYTES) await flush();
      }
      await flush();
      const validated = await job.end();
      names.concealed += validated.names.concealed;
      names.clear += validated.names.clear;
      return { count: validated.count, itemStarts: [], ...(validated.facts !== undefined ? { summary: validated.facts } : {}) };
    } catch (error) {
      job.abort();
      throw error;
    } finally {
      body?.destroy();
    }
  }

  private async fetchJson(call: ReportCall, file: DigestingWriter, names: NameForms): Promise<{ count: number; itemStarts: number[] }> {
    const itemStarts: number[] = [];
    let count = 0;
    let skipToken: string | undefined;
    const maxPages = this.options.maxJsonPages ?? 10_000;
    for (let page = 0; ; page++) {
      if (page >= maxPages) throw new UpstreamError('BadResponse', `the JSON report has more than ${maxPages} pages`);
      const body = await this.options.client.jsonPage(call, this.options.jsonPageSize ?? 2000, skipToken);
      const items = pageItems(body);
      for (const item of items) if (typeof item.userPrincipalName === 'string') names.add(item.userPrincipalName);
      for (let i = 0; i < items.length || (i === 0 && count === 0); i += ITEMS_PER_RECORD) {
        const record = items.slice(i, i + ITEMS_PER_RECORD);
        itemStarts.push(count);
        await file.writeRecord(Buffer.from(JSON.stringify(record)));
        count += record.length;
      }
      skipToken = nextSkipToken(body);
      if (skipToken === undefined) return { count, itemStarts };
    }
  }
}

/** Writes a snapshot's records to its spill file and into a digest of its content. */
class DigestingWriter {
  constructor(
    readonly file: SpillFile,
    private readonly digest: Hash,
  ) {}

  /** A record, given whole or in pieces (their concatenation is the record). */
  writeRecord(record: Buffer | readonly Buffer[]): Promise<void> {
    for (const piece of Buffer.isBuffer(record) ? [record] : record) this.digest.update(piece);
    return this.file.writeRecord(record);
  }
}

/** Graph's `$skiptoken` from a page's `@odata.nextLink`, if there is a next page. The link itself is not followed. */
export function nextSkipToken(page: unknown): string | undefined {
  const link = (page as Record<string, unknown>)['@odata.nextLink'];
  if (link === undefined || link === null) return undefined;
  if (typeof link !== 'string') throw new UpstreamError('BadResponse', 'the page has a nextLink that is not a string');
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw new UpstreamError('BadResponse', 'the page has a nextLink that is not a URL');
  }
  const token = [...url.searchParams].find(([name]) => name.toLowerCase() === '$skiptoken')?.[1];
  if (token === undefined || token === '') throw new UpstreamError('BadResponse', 'the page has a nextLink without a $skiptoken');
  return token;
}
