/**
 * Sanitising a Graph CSV report as a stream: rows are read, transformed by the plan and written back with
 * Graph's BOM, quoting and CRLF line ends, without holding the report in memory. With quasi-identifiers the
 * report is read twice (first to count combinations, then to release rows): memory grows with the number of
 * distinct combinations, never with the number of rows.
 */
import { columnsFor, findColumn, type ColumnSpec, type ReportSpec } from '../catalogue/catalogue.js';
import { UTF8_BOM, quoteCsvField } from '../catalogue/csv.js';
import { userNameAt, type NameForms } from '../catalogue/identifiers.js';
import { CsvRowReader } from './csv-rows.js';
import { MissingColumnError, SanitizeError } from './errors.js';
import { checkCsv, csvCellEnd, csvCellFits, csvCellKind, releasedFor, type ReleasedColumn, type RowsPlan } from './plan.js';
import { smallCountsToEmpty } from './small-counts.js';
import { QuasiClasses, quasiKey, type SanitizeStats } from './stats.js';

const LINE_END = '\r\n';

/** How an upstream header line maps onto the catalogue: a catalogue column per position, or undefined. */
export type CsvLayout = readonly (ColumnSpec | undefined)[];

/** Maps a header line onto the report's catalogue columns (by name, in any order); duplicates are refused. */
export function csvLayout(report: ReportSpec, header: readonly string[]): CsvLayout {
  const known = new Set(columnsFor(report, 'csv'));
  const seen = new Set<ColumnSpec>();
  return header.map((name) => {
    const column = findColumn(report, name);
    if (column === undefined || !known.has(column)) return undefined;
    if (seen.has(column)) throw new SanitizeError('MalformedCsv', `the header names column '${column.header}' twice`);
    seen.add(column);
    return column;
  });
}

/**
 * A header and the data rows read so far, one batch per input chunk. `userNames`, from `validateCsvReport`:
 * per row, what catalogue/identifiers.ts `userNameAt` says of its User Principal Name cell (the column whose
 * json name is userPrincipalName), judged once where the cell lies, so a caller need not judge it again.
 */
export type CsvBatch = { readonly layout?: CsvLayout; readonly rows: string[][]; readonly userNames?: readonly number[] };

/**
 * Reads CSV rows from a byte stream in batches (one per input chunk). The first batch carries the layout of
 * the header line; every data row is checked to have the header's field count.
 */
export async function* readCsvBatches(source: AsyncIterable<Buffer | string>, report: ReportSpec): AsyncGenerator<CsvBatch> {
  let width = -1;
  let layout: CsvLayout | undefined;
  let rows: string[][] = [];
  const reader = new CsvRowReader((fields, rowNumber) => {
    if (width === -1) {
      width = fields.length;
      layout = csvLayout(report, fields);
      return;
    }
    if (fields.length !== width) throw new SanitizeError('MalformedCsv', `row ${rowNumber} has ${fields.length} fields, the header has ${width}`);
    rows.push(fields);
  });
  let announced = false;
  const batch = (): CsvBatch | undefined => {
    if (layout === undefined || (announced && rows.length === 0)) return undefined;
    const b: CsvBatch = announced ? { rows } : { layout, rows };
    announced = true;
    rows = [];
    return b;
  };
  for await (const chunk of source) {
    reader.push(chunk);
    const b = batch();
    if (b !== undefined) yield b;
  }
  reader.end();
  if (layout === undefined) throw new SanitizeError('MalformedCsv', 'the report is empty: it has no header line');
  const last = batch();
  if (last !== undefined) yield last;
}

/**
 * Checks a whole raw report before anything of it is served: well-formed CSV and every cell of a known column
 * of its column's type. Returns the number of data rows. With `names`, the User Principal Name cells are
 * counted by form (concealed or clear). With `onBatch`, each batch is handed on once its cells are checked, so a
 * caller can derive something from the rows in this same pass instead of parsing the report again; `columns`
 * (headers) narrows the batches to those columns (their layout and rows hold only the ones the report has).
 * Cells are checked in place (plan.ts csvCellFits): a row becomes strings only for the cells handed on.
 * Throws SanitizeError: the first of a chunk's malformed rows, else its first cell (in row order) that does not
 * fit its column, as reading all rows of a chunk before checking them would.
 */
export async function validateCsvReport(source: AsyncIterable<Buffer | string>, report: ReportSpec, names?: NameForms, onBatch?: (batch: CsvBatch) => void, columns?: readonly string[]): Promise<number> {
  const reader = new CheckingRowReader(report, names, onBatch !== undefined, columns);
  const handOn = (): void => {
    if (reader.failure !== undefined) throw reader.failure;
    const batch = reader.takeBatch();
    if (batch !== undefined) onBatch?.(batch);
  };
  for await (const chunk of source) {
    reader.push(chunk);
    handOn();
  }
  reader.end();
  if (reader.layout === undefined) throw new SanitizeError('MalformedCsv', 'the report is empty: it has no header line');
  handOn();
  return reader.count;
}

/**
 * The row reader of `validateCsvReport`: the header gives the layout; each data row's known cells are checked
 * where they lie in the decoded text, and only the cells a caller keeps become strings; the User Principal Name
 * cell is judged there too (counted in `names`, and handed on with kept rows). A cell that does not fit
 * is remembered (the first one) and thrown once the chunk is read, so a malformed row later in the same chunk
 * wins, as when rows are read before they are checked.
 */
class CheckingRowReader extends CsvRowReader {
  layout: CsvLayout | undefined;
  /** Data rows read. */
  count = 0;
  /** The first cell error met, thrown by the caller after the chunk. */
  failure: unknown;
  private width = -1;
  /** The upstream position of the User Principal Name (-1: none, or nobody asks about user names). */
  private upnAt = -1;
  /** Per upstream position: its column's code for csvCellFits (0: not checked). */
  private kinds = new Uint8Array(0);
  /** Per upstream position: its place in a kept row, or -1. */
  private slots: number[] = [];
  private kept: CsvLayout = [];
  private pending: string[][] = [];
  /** The kept rows' userNameAt judgements, when the report has a User Principal Name column. */
  private pendingNames: number[] = [];
  private announced = false;

  constructor(
    private readonly report: ReportSpec,
    private readonly names: NameForms | undefined,
    /** Whether rows are kept at all (for a caller's batches). */
    private readonly keep: boolean,
    private readonly columns: readonly string[] | undefined,
  ) {
    super((fields, rowNumber) => this.fields(fields, rowNumber));
  }

  /** The rows kept since the last call, the first batch with the kept layout; undefined before the header. */
  takeBatch(): CsvBatch | undefined {
    if (this.layout === undefined || (this.announced && this.pending.length === 0)) return undefined;
    const batch: CsvBatch = {
      ...(this.announced ? {} : { layout: this.kept }),
      rows: this.pending,
      ...(this.upnAt !== -1 ? { userNames: this.pendingNames } : {}),
    };
    this.announced = true;
    this.pending = [];
    this.pendingNames = [];
    return batch;
  }

  private header(fields: string[]): void {
    const layout = csvLayout(this.report, fields);
    this.layout = layout;
    this.width = fields.length;
    this.kinds = Uint8Array.from(layout, (column) => (column === undefined ? 0 : csvCellKind(column)));
    const wanted = (column: ColumnSpec | undefined) => column !== undefined && this.keep && (this.columns === undefined || this.columns.includes(column.header) || column.json === 'userPrincipalName');
    const kept: ColumnSpec[] = [];
    this.slots = layout.map((column) => (wanted(column) ? kept.push(column!) - 1 : -1));
    this.kept = kept;
    // User names are judged only for someone: the names counted, or the rows handed on.
    this.upnAt = this.names !== undefined || this.keep ? layout.findIndex((column) => column?.json === 'userPrincipalName') : -1;
  }

  /** A row with quotes, read into fields by the base reader (and the header line). */
  private fields(fields: string[], rowNumber: number): void {
    if (this.width === -1) return this.header(fields);
    if (fields.length !== this.width) throw new SanitizeError('MalformedCsv', `row ${rowNumber} has ${fields.length} fields, the header has ${this.width}`);
    const row = new Array<string>(this.kept.length);
    for (let i = 0; i < fields.length; i++) {
      const kind = this.kinds[i]!;
      if (kind !== 0 && fields[i]!.length > 0 && this.failure === undefined && !csvCellFits(kind, fields[i]!, 0, fields[i]!.length)) this.check(i, fields[i]!);
      if (this.slots[i] !== -1) row[this.slots[i]!] = fields[i]!;
      if (i === this.upnAt) this.judgeUserName(userNameAt(fields[i]!, 0, fields[i]!.length));
    }
    this.add(row);
  }

  protected override readLine(buffer: string, start: number, stop: number): void {
    if (this.width === -1) return super.readLine(buffer, start, stop);
    const rowNumber = ++this.rowNumber;
    const row = this.keep ? new Array<string>(this.kept.length) : undefined;
    let position = 0;
    for (let at = start; ; position++) {
      const kind = position < this.width && this.failure === undefined ? this.kinds[position]! : 0;
      // A cell plainly of its kind is checked as its end is found; any other is found, then checked.
      let comma = kind !== 0 ? csvCellEnd(kind, buffer, at, stop) : -1;
      if (comma === -1) {
        comma = buffer.indexOf(',', at);
        if (comma === -1 || comma > stop) comma = stop;
        if (kind !== 0 && at !== comma && !csvCellFits(kind, buffer, at, comma)) this.check(position, buffer.slice(at, comma));
      }
      if (position < this.width) {
        const slot = this.slots[position]!;
        if (slot !== -1) row![slot] = buffer.slice(at, comma);
        if (position === this.upnAt) this.judgeUserName(userNameAt(buffer, at, comma));
      }
      if (comma === stop) break;
      at = comma + 1;
    }
    if (position + 1 !== this.width) throw new SanitizeError('MalformedCsv', `row ${rowNumber} has ${position + 1} fields, the header has ${this.width}`);
    this.add(row);
  }

  /** A cell that does not plainly fit its column, judged by checkCsv; its error is remembered. */
  private check(position: number, cell: string): void {
    try {
      checkCsv(this.layout![position]!, cell);
    } catch (error) {
      this.failure = error;
    }
  }

  private judgeUserName(judged: number): void {
    this.names?.count(judged);
    if (this.keep) this.pendingNames.push(judged);
  }

  private add(row: string[] | undefined): void {
    this.count++;
    if (row !== undefined && this.keep) this.pending.push(row);
  }
}

/** Positions of the released columns in upstream rows; a released column missing upstream is an error. */
function bind(report: ReportSpec, layout: CsvLayout, released: readonly ReleasedColumn[]): number[] {
  return released.map((r) => {
    const index = layout.indexOf(r.column);
    if (index === -1) throw new MissingColumnError(report.name, r.column.header, 'the policy');
    return index;
  });
}

/** Whether a team/group row counts at least k people ('' is no data: fewer). */
function enoughPeople(text: string | undefined, k: number): boolean {
  return text !== undefined && text !== '' && Number(text) >= k;
}

/** The upstream position of the plan's people column, or -1 when the report has none. */
function peoplePosition(layout: CsvLayout, plan: RowsPlan): number {
  if (plan.peopleColumn === undefined) return -1;
  const index = layout.indexOf(plan.peopleColumn);
  if (index === -1) throw new MissingColumnError(plan.report.name, plan.peopleColumn.header, 'row sizing');
  return index;
}

/**
 * Counts the quasi-identifier combinations of a whole report under a plan: the first of the two passes. A
 * caller serving the same snapshot repeatedly keeps the result (it depends only on snapshot and plan).
 */
export async function countCsvQuasiClasses(source: AsyncIterable<Buffer | string>, plan: RowsPlan): Promise<QuasiClasses> {
  const classes = new QuasiClasses(plan.k);
  const quasi = releasedFor(plan, 'csv').filter((r) => r.quasi);
  let positions: number[] = [];
  let people = -1;
  for await (const batch of readCsvBatches(source, plan.report)) {
    if (batch.layout !== undefined) {
      positions = bind(plan.report, batch.layout, quasi);
      people = peoplePosition(batch.layout, plan);
    }
    for (const fields of batch.rows) {
      if (people !== -1 && !enoughPeople(fields[people], plan.k)) continue;
      classes.add(quasiKey(quasi.map((r, i) => {
        const text = fields[positions[i]!]!;
        checkCsv(r.column, text);
        return r.csv(text);
      })));
    }
  }
  return classes;
}

export interface CsvSanitizeOptions {
  /** The source was checked whole by `validateCsvReport` (snapshots are), so cells are not checked again. */
  readonly validated?: boolean;
  /** Quasi-identifier counts of this source and plan from an earlier first pass (`countCsvQuasiClasses`). */
  readonly classes?: QuasiClasses;
}

/** Sanitised CSV in pieces: the header line (first batch only) and released lines, each with its CRLF. */
export interface ReleasedCsvBatch {
  readonly header?: string;
  readonly lines: string[];
  /** Per released line, its upstream identifier cells joined by NUL (with `identities` in the options). */
  readonly identities: string[];
}

/**
 * Sanitises a CSV report. `open` is called once per pass (twice when the plan has quasi-identifiers and no
 * counts are given) and must yield the same bytes each time (a snapshot). Yields the sanitised CSV in pieces,
 * the header line first; `stats` is filled as it goes. Throws SanitizeError on anything it cannot read: the
 * caller must then abort.
 */
export async function* sanitizeCsvReport(
  open: () => AsyncIterable<Buffer | string>,
  plan: RowsPlan,
  stats: SanitizeStats,
  options: CsvSanitizeOptions = {},
): AsyncGenerator<string> {
  for await (const batch of releaseCsvBatches(open, plan, stats, options)) {
    const out = (batch.header ?? '') + batch.lines.join('');
    if (out.length > 0) yield out;
  }
}

/**
 * What `sanitizeCsvReport` yields, line by line: one batch per input chunk, the header line in the first. With
 * `identities` (catalogue columns), each released line comes with its upstream cells of those columns, so a
 * caller can put the lines in another order (a keyed one per consumer) by the person or thing they are about.
 */
export async function* releaseCsvBatches(
  open: () => AsyncIterable<Buffer | string>,
  plan: RowsPlan,
  stats: SanitizeStats,
  options: CsvSanitizeOptions & { readonly identities?: readonly ColumnSpec[] } = {},
): AsyncGenerator<ReleasedCsvBatch> {
  const released = releasedFor(plan, 'csv');
  const classes = plan.hasQuasi ? (options.classes ?? (await countCsvQuasiClasses(open(), plan))) : undefined;
  const check = options.validated !== true;
  const quasiPositions = released.flatMap((r, i) => (r.quasi ? [i] : []));
  const pseudonymPositions = released.flatMap((r, i) => (r.action === 'pseudonymize' ? [i] : []));
  const width = released.length;
  const cells = new Array<string>(width);
  let positions: number[] = [];
  let identityPositions: number[] | undefined;
  let people = -1;
  let countValue: ((column: ColumnSpec) => number | null) | undefined;
  let current: string[] = [];
  const outputIndex = new Map(released.map((r, i) => [r.column, i]));
  for await (const batch of readCsvBatches(open(), plan.report)) {
    let header: string | undefined;
    const lines: string[] = [];
    const identities: string[] = [];
    if (batch.layout !== undefined) {
      const layout = batch.layout;
      positions = bind(plan.report, layout, released);
      if (options.identities !== undefined) identityPositions = options.identities.map((column) => layout.indexOf(column)).filter((index) => index !== -1);
      people = peoplePosition(layout, plan);
      if (plan.smallCounts !== undefined) {
        countValue = (column) => {
          const index = layout.indexOf(column);
          const text = index === -1 ? '' : current[index]!;
          return text === '' ? null : Number(text);
        };
      }
      stats.unknownColumns = batch.layout.filter((c) => c === undefined).length;
      stats.columnsDropped = batch.layout.length - width;
      header = UTF8_BOM + released.map((r) => quoteCsvField(r.column.header)).join(',') + LINE_END;
    }
    for (const fields of batch.rows) {
      stats.rowsIn++;
      if (people !== -1 && !enoughPeople(fields[people], plan.k)) {
        stats.rowsSuppressed++;
        continue;
      }
      for (let i = 0; i < width; i++) {
        const text = fields[positions[i]!]!;
        if (check) checkCsv(released[i]!.column, text);
        cells[i] = released[i]!.csv(text);
      }
      for (const i of pseudonymPositions) if (cells[i] === '' && fields[positions[i]!] !== '') stats.pseudonymsWithheld++;
      if (countValue !== undefined) {
        current = fields;
        for (const column of smallCountsToEmpty(plan.smallCounts!, countValue)) {
          const at = outputIndex.get(column);
          if (at !== undefined && cells[at] !== '') {
            cells[at] = '';
            stats.cellsSuppressed++;
          }
        }
      }
      if (classes !== undefined && !classes.releases(quasiKey(quasiPositions.map((p) => cells[p]!)))) {
        stats.rowsSuppressed++;
        continue;
      }
      stats.rowsOut++;
      let line = quoteCsvField(cells[0] ?? '');
      for (let i = 1; i < width; i++) line += ',' + quoteCsvField(cells[i]!);
      lines.push(line + LINE_END);
      if (identityPositions !== undefined) identities.push(identityPositions.map((p) => fields[p]!).join('\u0000'));
    }
    yield { ...(header !== undefined ? { header } : {}), lines, identities };
  }
}
