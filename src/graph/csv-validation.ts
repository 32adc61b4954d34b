/**
 * Snapshot validation in worker threads (issue 18: the org score of a 300,000-user tenant reads 330 MB of CSV).
 * Each CSV report's bytes go, record by record as they arrive, to a worker that checks every known cell
 * (sanitize/csv-report.ts validateCsvReport) and, for the score's reports, reads people's facts in the same
 * pass (score/score-facts.ts), so the event loop stays free while a big tenant's reports are read, and on two
 * cores two workers read at once. Fail closed: a report is valid only when its worker says so; a refusal comes
 * back as the same SanitizeError (code and message), and a worker that fails, runs out of memory, exits or is
 * stopped fails every report it was reading.
 */
import { Worker } from 'node:worker_threads';
import type { ReportSpec } from '../catalogue/catalogue.js';
import { InternalInvariantError } from '../errors/catalogue.js';
import { SanitizeError, type SanitizeErrorCode } from '../sanitize/errors.js';
import { NumberColumn } from '../event-loop/columns.js';
import { nextTurn, turnIsOver } from '../event-loop/turns.js';
import { MAX_PEOPLE_INDEXED, PersonIndex, ReportFacts } from '../score/score-facts.js';

/** Parent to worker. */
export type ToValidation =
  | { readonly type: 'start'; readonly job: number; readonly report: string }
  | { readonly type: 'chunk'; readonly job: number; readonly bytes: Uint8Array }
  | { readonly type: 'end'; readonly job: number }
  | { readonly type: 'abort'; readonly job: number };

/** Worker to parent. */
export type FromValidation =
  | { readonly type: 'read'; readonly job: number; readonly bytes: number }
  | {
      readonly type: 'done'; readonly job: number; readonly count: number; readonly names: { readonly concealed: number; readonly clear: number };
      /** The score's facts: the named rows' canonical UPNs (UTF-8, each followed by a line feed) and codes, in row order. */
      readonly facts?: { readonly upns: Uint8Array; readonly namedCodes: Int32Array; readonly unnamedCodes: Int32Array; readonly rows: number; readonly refreshDate: string | null };
    }
  | { readonly type: 'failed'; readonly job: number; readonly refusal?: { readonly code: SanitizeErrorCode; readonly message: string } };

/** A validated report: its data rows, the forms of its user names, and the score's facts when it feeds the score. */
export interface CsvValidated {
  readonly count: number;
  readonly names: { readonly concealed: number; readonly clear: number };
  readonly facts?: ReportFacts;
}

/** One report being validated: its bytes in order, then the verdict. */
export interface CsvValidationJob {
  /** Hands the next bytes on (they are moved, not copied, when they own their memory: do not reuse them). */
  push(bytes: Buffer): Promise<void>;
  /** The verdict once every byte was pushed. Rejects with the report's SanitizeError, or InternalInvariantError. */
  end(): Promise<CsvValidated>;
  /** The download failed: the worker drops the report. */
  abort(): void;
}

export interface CsvValidationOptions {
  /** Worker threads (default 2): more reports than threads share them, interleaved. */
  readonly threads?: number;
  /** Bytes pushed and not yet read by the worker before `push` waits (default 4 MiB): memory per report. */
  readonly maxBytesInFlight?: number;
  /**
   * Each worker's V8 old-space limit in MB (default 128): a worker above it stops, failing its reports. Node
   * lets a process-wide --max-old-space-size (the image's NODE_OPTIONS) override it: each worker may then grow
   * to that size too, which is why the proxy's default is no workers (README, bench/score-scale.ts).
   */
  readonly workerHeapMb?: number;
}

interface Pending {
  readonly report: ReportSpec;
  inFlight: number;
  /** Resumes a push waiting for the worker to read. */
  resume?: () => void;
  settle?: { resolve: (validated: CsvValidated) => void; reject: (error: Error) => void };
  failure?: Error;
}

type Done = Extract<FromValidation, { type: 'done' }>;

/** A worker's smallest heap limit: V8 could not even start a worker with a few MB, and that ends the process. */
const MIN_HEAP_MB = 32;

/** How many named rows are numbered between two looks at the event loop's clock (event-loop/turns.ts). */
const ROWS_PER_STEP = 256;

/** One worker and the reports it is reading. */
class ValidationThread {
  readonly jobs = new Map<number, Pending>();
  private readonly worker: Worker;
  stopped = false;

  constructor(
    heapMb: number,
    private readonly adopt: (pending: Pending, done: Done) => Promise<CsvValidated>,
  ) {
    const url = new URL(`./csv-validation-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
    this.worker = new Worker(url, { resourceLimits: { maxOldGenerationSizeMb: heapMb } });
    this.worker.unref();
    this.worker.on('message', (message: FromValidation) => this.receive(message));
    const stop = (why: string) => {
      if (this.stopped) return;
      this.stopped = true;
      for (const pending of this.jobs.values()) this.fail(pending, new InternalInvariantError(`a snapshot validation worker stopped (${why}) before it had read the report`));
      this.jobs.clear();
    };
    this.worker.on('error', (error) => stop((error as { code?: string }).code ?? error.name));
    this.worker.on('exit', (code) => stop(`exit code ${code}`));
  }

  post(message: ToValidation, transfer: ArrayBuffer[] = []): void {
    if (!this.stopped) this.worker.postMessage(message, transfer);
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }

  fail(pending: Pending, error: Error): void {
    pending.failure ??= error;
    pending.resume?.();
    pending.settle?.reject(pending.failure);
  }

  private receive(message: FromValidation): void {
    const pending = this.jobs.get(message.job);
    if (pending === undefined) return;
    if (message.type === 'read') {
      pending.inFlight -= message.bytes;
      pending.resume?.();
      return;
    }
    this.jobs.delete(message.job);
    if (message.type === 'failed') {
      this.fail(pending, message.refusal !== undefined ? new SanitizeError(message.refusal.code, message.refusal.message) : new InternalInvariantError('a snapshot validation worker failed on a report'));
      return;
    }
    this.adopt(pending, message).then((validated) => pending.settle?.resolve(validated), (error: Error) => this.fail(pending, error));
  }
}

export class CsvValidationPool {
  private readonly threads: (ValidationThread | undefined)[];
  private nextJob = 0;
  private closed = false;
  /** The score's people, numbered once for all reports (a new index past MAX_PEOPLE_INDEXED, as in-thread). */
  private people = new PersonIndex();

  constructor(private readonly options: CsvValidationOptions = {}) {
    this.threads = new Array<ValidationThread | undefined>(Math.max(1, options.threads ?? 2)).fill(undefined);
  }

  /** Starts validating a report on the least busy worker (started on first use, replaced when it stopped). */
  start(report: ReportSpec): CsvValidationJob {
    if (this.closed) throw new InternalInvariantError('the snapshot validation workers were stopped');
    let chosen = 0;
    for (let i = 0; i < this.threads.length; i++) {
      if (this.threads[i] === undefined || this.threads[i]!.stopped) this.threads[i] = new ValidationThread(Math.max(MIN_HEAP_MB, this.options.workerHeapMb ?? 128), (pending, done) => this.adopt(pending, done));
      if (this.threads[i]!.jobs.size < this.threads[chosen]!.jobs.size) chosen = i;
    }
    const thread = this.threads[chosen]!;
    const job = ++this.nextJob;
    const pending: Pending = { report, inFlight: 0 };
    thread.jobs.set(job, pending);
    thread.post({ type: 'start', job, report: report.name });
    const limit = this.options.maxBytesInFlight ?? 2 * 1024 * 1024;
    return {
      push: async (bytes) => {
        if (pending.failure !== undefined) throw pending.failure;
        // Moved when the bytes own their whole memory; otherwise copied into memory of their own first.
        const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer ? bytes : new Uint8Array(bytes);
        pending.inFlight += owned.byteLength;
        thread.post({ type: 'chunk', job, bytes: owned }, [owned.buffer as ArrayBuffer]);
        while (pending.inFlight > limit && pending.failure === undefined) await new Promise<void>((resolve) => (pending.resume = resolve));
        pending.resume = undefined;
        if (pending.failure !== undefined) throw pending.failure;
      },
      end: () => {
        const verdict = new Promise<CsvValidated>((resolve, reject) => (pending.settle = { resolve, reject }));
        if (pending.failure !== undefined) pending.settle!.reject(pending.failure);
        else thread.post({ type: 'end', job });
        return verdict;
      },
      abort: () => {
        // Once the worker has answered (the job is no longer its) there is nothing to drop.
        if (!thread.jobs.has(job)) return;
        thread.post({ type: 'abort', job });
        thread.jobs.delete(job);
        thread.fail(pending, new InternalInvariantError('the report download was abandoned'));
      },
    };
  }

  /** Stops the workers; reports they were reading fail. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((thread) => thread?.terminate()));
  }

  /** A worker's verdict with the score's facts numbered here, letting the event loop turn as it goes. */
  private async adopt(pending: Pending, done: Done): Promise<CsvValidated> {
    const validated = { count: done.count, names: done.names };
    if (done.facts === undefined) return validated;
    if (this.people.size > MAX_PEOPLE_INDEXED) this.people = new PersonIndex();
    const index = this.people;
    const upns = Buffer.from(done.facts.upns.buffer, done.facts.upns.byteOffset, done.facts.upns.byteLength).toString('utf8');
    const { namedCodes } = done.facts;
    const namedIds = new NumberColumn('int32');
    let start = 0;
    for (let row = 0; row < namedCodes.length; row++) {
      const end = upns.indexOf('\n', start);
      if (end === -1) throw new InternalInvariantError('a validation worker sent fewer names than named rows');
      namedIds.push(index.idOf(upns.slice(start, end), row === 0 ? -1 : namedIds.at(row - 1)));
      start = end + 1;
      if ((row + 1) % ROWS_PER_STEP === 0 && turnIsOver()) await nextTurn();
    }
    if (start !== upns.length) throw new InternalInvariantError('a validation worker sent more names than named rows');
    const { rows, refreshDate, unnamedCodes } = done.facts;
    const facts = new ReportFacts(pending.report, index, { namedIds, namedCodes, unnamedCodes, rows, refreshDate });
    return { ...validated, facts };
  }
}
