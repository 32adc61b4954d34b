/**
 * The worker side of csv-validation.ts: validates each report its parent streams to it (validateCsvReport, every
 * known cell checked) and reads the score's facts of the score's reports in the same pass, several reports
 * interleaved. The people of a report's named rows travel back as their canonical UPNs in row order (one text):
 * the parent numbers them in its own PersonIndex, shared by all reports.
 */
import { parentPort } from 'node:worker_threads';
import { findReport } from '../catalogue/catalogue.js';
import { NameForms } from '../catalogue/identifiers.js';
import { validateCsvReport } from '../sanitize/csv-report.js';
import { SanitizeError } from '../sanitize/errors.js';
import { PersonIndex, ReportFacts } from '../score/score-facts.js';
import type { FromValidation, ToValidation } from './csv-validation.js';

const port = parentPort!;

/** Bytes read before the parent is told (each message costs both threads; the parent waits past 2 MiB). */
const ACK_BYTES = 512 * 1024;

/** One report's bytes as they arrive, read by its validation; read bytes are acknowledged every ACK_BYTES. */
class ChunkQueue implements AsyncIterable<Buffer> {
  private readonly chunks: Buffer[] = [];
  private unacknowledged = 0;
  private ended = false;
  private aborted = false;
  private wake: (() => void) | undefined;

  constructor(private readonly onRead: (bytes: number) => void) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.signal();
  }

  end(): void {
    this.ended = true;
    this.signal();
  }

  abort(): void {
    this.aborted = true;
    this.signal();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    for (;;) {
      while (this.chunks.length === 0 && !this.ended && !this.aborted) await new Promise<void>((resolve) => (this.wake = resolve));
      if (this.aborted) throw new Error('the download was abandoned');
      const chunk = this.chunks.shift();
      if (chunk === undefined) return;
      yield chunk;
      this.unacknowledged += chunk.length;
      if (this.unacknowledged >= ACK_BYTES || this.chunks.length === 0) {
        this.onRead(this.unacknowledged);
        this.unacknowledged = 0;
      }
    }
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/**
 * The people of one report's named rows, in row order, as ReportFacts numbers them: the n-th named row is n,
 * and its canonical UPN is written, UTF-8 and followed by a line feed, into memory outside the heap: no name
 * holds on to the chunk of report text it was cut from, and the whole list moves to the parent without a copy.
 */
class NamesInRowOrder extends PersonIndex {
  private bytes = Buffer.allocUnsafe(1 << 20);
  private length = 0;
  private count = 0;

  override idOf(upn: string, _previous?: number): number {
    const needed = this.length + Buffer.byteLength(upn) + 1;
    if (needed > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.bytes.length * 2));
      this.bytes.copy(grown, 0, 0, this.length);
      this.bytes = grown;
    }
    this.length += this.bytes.write(upn, this.length, 'utf8');
    this.bytes[this.length++] = 10;
    return this.count++;
  }

  /** Every name in row order, each followed by a line feed (a canonical UPN has no white space), in memory of its own. */
  list(): Uint8Array {
    return new Uint8Array(this.bytes.subarray(0, this.length));
  }
}

const jobs = new Map<number, ChunkQueue>();

async function validate(job: number, name: string, queue: ChunkQueue): Promise<void> {
  try {
    const report = findReport(name);
    if (report === undefined) throw new Error(`no catalogue report ${name}`);
    const people = new NamesInRowOrder();
    let facts = ReportFacts.feeds(report) ? new ReportFacts(report, people) : undefined;
    const names = new NameForms();
    const summarize = (batch: Parameters<ReportFacts['add']>[0]) => {
      try {
        facts?.add(batch);
      } catch {
        // As in the parent: facts that cannot be read are dropped, and the score reads the snapshot itself.
        facts = undefined;
      }
    };
    const count = await validateCsvReport(queue, report, names, summarize, facts?.columns);
    const data = facts === undefined ? undefined : {
      upns: people.list(), namedCodes: facts.namedCodes.toInt32Array(), unnamedCodes: facts.unnamedCodes.toInt32Array(), rows: facts.rows, refreshDate: facts.refreshDate,
    };
    const reply: FromValidation = { type: 'done', job, count, names: { concealed: names.concealed, clear: names.clear }, ...(data !== undefined ? { facts: data } : {}) };
    port.postMessage(reply, data === undefined ? [] : [data.upns.buffer as ArrayBuffer, data.namedCodes.buffer, data.unnamedCodes.buffer]);
  } catch (error) {
    // Only a SanitizeError's code and message travel (they name rows and columns, never a cell).
    const refusal = error instanceof SanitizeError ? { code: error.code, message: error.message } : undefined;
    const reply: FromValidation = { type: 'failed', job, ...(refusal !== undefined ? { refusal } : {}) };
    port.postMessage(reply);
  } finally {
    jobs.delete(job);
  }
}

port.on('message', (message: ToValidation) => {
  switch (message.type) {
    case 'start': {
      const queue = new ChunkQueue((bytes) => port.postMessage({ type: 'read', job: message.job, bytes } satisfies FromValidation));
      jobs.set(message.job, queue);
      void validate(message.job, message.report, queue);
      break;
    }
    case 'chunk':
      jobs.get(message.job)?.push(Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength));
      break;
    case 'end':
      jobs.get(message.job)?.end();
      break;
    case 'abort':
      jobs.get(message.job)?.abort();
      break;
  }
});
