/**
 * From a per-user report to cohort contributions: each row's user is joined to the directory by UPN; the
 * declared dimensions take their values from the directory or from a yes/no report column; a user is active
 * as Microsoft defines it for the report (the catalogue's `activity` columns), and the declared metrics are
 * read per user.
 * Rows of one user that follow each other (nested reports) count as one user; a user who comes back after
 * other users' rows makes the report inconsistent, and it is refused rather than counted twice. A row whose
 * UPN is no user name (Graph's `(Unknown)`, transient `<PII:...>` names, empty) is its own person, whatever the
 * row order: never merged with another row and never joined to the directory.
 */
import { createHash, type Hash } from 'node:crypto';
import { nextTurn, turnIsOver } from '../event-loop/turns.js';
import { findColumn, type ColumnSpec, type Period, type ReportSpec } from '../catalogue/catalogue.js';
import { isUserName } from '../catalogue/identifiers.js';
import { fromCsvText, parseDuration } from '../catalogue/values.js';
import { readCsvBatches, type CsvLayout } from '../sanitize/csv-report.js';
import { MissingColumnError, SanitizeError } from '../sanitize/errors.js';
import { canonicalIdentifier } from '../sanitize/pseudonyms.js';
import { cohortNoise, type CohortNoise, type NoiseSetting } from './accuracy.js';
import { CohortAggregator, ORGANIZATION, parseDimension, type CohortCounter, type CohortDimension, type CohortLayout } from './aggregate.js';
import { LICENCE_CLASSES, licenceClassOf } from './licence-class.js';
import { DIRECTORY_ATTRIBUTES, directoryKnowledge, NO_VALUE, NOT_IN_DIRECTORY, type Directory, type DirectoryAttribute, type NumberedNames } from './directory.js';
import type { CohortTable } from './table.js';
import { InternalInvariantError, ProductError } from '../errors/catalogue.js';
import { NumberColumn, NumberSet } from '../event-loop/columns.js';

const YES_NO_DOMAIN = [NO_VALUE, 'false', 'true'];

/** A derived dimension: the licence class of a user's assigned products, from a fixed list of classes (G8). */
export const LICENCE_CLASS = 'licenceClass';

/** The report column the licence class is derived from. */
function productsColumn(report: ReportSpec): ColumnSpec | undefined {
  return report.columns.find((c) => c.kind === 'products' && c.only !== 'json');
}

export interface CohortPlan {
  readonly report: ReportSpec;
  readonly dimensions: readonly CohortDimension[];
  readonly metrics: readonly { readonly column: ColumnSpec; readonly clip: number }[];
  readonly k: number;
  readonly kC: number;
  /** Sticky noise on sub-organisation cohorts: the epsilon one release of the table costs, scales and margins. */
  readonly noise?: CohortNoise;
  /**
   * Companion tables of an organisation's table (policy/decide.ts jointCohortPlan): other surfaces' counts of the
   * same people from the same rows, suppressed with this table as one (suppress.ts suppressLinked). Only joint
   * plans carry them; a consumer's own plan never does.
   */
  readonly companions?: readonly CompanionMeasure[];
  /**
   * The organisation's tables of the same report over every period some policy releases its cohorts for, this
   * one's included, shortest first, at the same dimensions, k and k_c (policy/decide.ts jointCohortPlan): the
   * windows nest (active over 7 days, active over 30), so they are suppressed as one (suppress.ts suppressNested).
   * Only joint plans carry them, and only with two periods or more.
   */
  readonly periods?: readonly PeriodTable[];
}

/** One period's organisation table in a group of nested periods (CohortPlan.periods). */
export interface PeriodTable {
  readonly period: Period;
  /** The period's joint plan (its companions and metrics its own; no `periods`). */
  readonly plan: CohortPlan;
}

/**
 * A count another surface releases from the same report's rows, cell by cell: a score category read from this
 * report alone (score/score-facts.ts categoryCompanions). Its table holds, per cohort, the people it counts as
 * `users` and those of them who qualify as `active`. Published definitions tie it to the cohort's own figures (a
 * person in Teams meetings is an active Teams user), so an attacker reads the two together.
 */
export interface CompanionMeasure {
  /** The surface's name for it (the score category's id); unique within a plan. */
  readonly name: string;
  /** The report columns it reads, by CSV header. */
  readonly headers: readonly string[];
  /**
   * One of `headers` that every person it counts has above 0 and no one else has (Meeting Count): a cohort's
   * released sum of it (clipped at c per person) puts the count between sum / c and the sum.
   */
  readonly countedBy?: string;
  /** Whether a report column's values nest with the count (ScoreCategory.tiedTo); absent: only `countedBy`'s do. */
  readonly tiedTo?: (header: string) => boolean;
  /** What one row says (cells in `headers` order), as a small integer. */
  code(cells: readonly string[]): number;
  /** A person's code so far (0 before their first row) with one more of their rows' codes. */
  combine(person: number, row: number): number;
  /** Whether a person (their code, all their rows combined) is counted. */
  counted(person: number): boolean;
  /** Whether a counted person qualifies (is `active` in the companion's table). */
  qualifies(person: number): boolean;
}

export interface CohortAggregate {
  readonly table: CohortTable;
  /** The report's own refresh date (its first row's), or null for an empty report. */
  readonly refreshDate: string | null;
  readonly rows: number;
  /** Rows whose user the directory has (0 of many means the names are concealed or transient). */
  readonly matched: number;
  /** SHA-256 (hex) of the report's bytes as read: with the directory, the data a release's noise is bound to. */
  readonly snapshotDigest: string;
  /** The directory the rows were joined to. */
  readonly directory: Directory;
  /** The plan's companion tables (same layout, no metrics), by companion name. */
  readonly companions: ReadonlyMap<string, CohortTable>;
}

/** `source` as it is read, each chunk also fed to `hash` (a digest of the data in the same pass). */
export async function* digestWhileReading(source: AsyncIterable<Buffer | string>, hash: Hash): AsyncGenerator<Buffer | string> {
  for await (const chunk of source) {
    hash.update(chunk);
    yield chunk;
  }
}

export interface CohortRuleShape {
  readonly cohort: {
    readonly by: readonly string[];
    readonly metrics?: Readonly<Record<string, { readonly clip: number }>>;
    readonly noise?: NoiseSetting;
  };
}

export class CohortPlanError extends ProductError<'CohortPlanError'> {
  readonly code = 'CohortPlanError';
}

const isDirectoryAttribute = (name: string): name is DirectoryAttribute => (DIRECTORY_ATTRIBUTES as readonly string[]).includes(name);

/** Whether any declared dimension joins the directory (and so needs UPNs that are not concealed). */
export function usesDirectory(plan: CohortPlan): boolean {
  return plan.dimensions.some((d) => d.parts.some(isDirectoryAttribute));
}

/**
 * A plan without its directory dimensions: what can still be released when the directory cannot be joined
 * (concealed names), where no one is given a department or an office.
 */
export function withoutDirectory(plan: CohortPlan): CohortPlan {
  return { ...plan, dimensions: plan.dimensions.filter((d) => !d.parts.some(isDirectoryAttribute)) };
}

/** A report column a cohort may be grouped by: a yes/no column, whose key set is fixed (G8). */
export function groupingColumn(report: ReportSpec, name: string): ColumnSpec | undefined {
  const column = findColumn(report, name);
  return column !== undefined && column.kind === 'bool' && column.role !== 'identifier' ? column : undefined;
}

/** Compiles a cohort rule; dimension names are normalised (directory attribute, or the column's JSON name). */
export function planCohorts(report: ReportSpec, rule: CohortRuleShape, k: number, kC: number): CohortPlan {
  const dimensions = rule.cohort.by.map((declared) => {
    const parsed = parseDimension(declared);
    const parts = parsed.parts.map((part) => {
      if (isDirectoryAttribute(part)) return part;
      if (part === LICENCE_CLASS) {
        if (productsColumn(report) === undefined) throw new CohortPlanError(`${report.name} has no Assigned Products column to derive a licence class from`);
        return part;
      }
      const column = groupingColumn(report, part);
      if (column === undefined) throw new CohortPlanError(`'${part}' is neither a directory attribute nor a yes/no column of ${report.name}`);
      return column.json;
    });
    return parsed.parts.length === 0 ? parsed : { name: parts.join(' x '), parts };
  });
  const metrics = Object.entries(rule.cohort.metrics ?? {}).map(([name, { clip }]) => {
    const column = findColumn(report, name);
    if (column === undefined || (column.kind !== 'int' && column.kind !== 'duration')) throw new CohortPlanError(`'${name}' is not a countable metric of ${report.name}`);
    return { column, clip };
  });
  if (report.shape !== 'userDetail') throw new CohortPlanError(`${report.name} is not a per-user report`);
  const noise = rule.cohort.noise === undefined ? undefined : cohortNoise(rule.cohort.noise, dimensions.filter((d) => d.name !== ORGANIZATION).length, metrics.map((m) => m.clip));
  return { report, dimensions, metrics, k, kC, ...(noise !== undefined ? { noise } : {}) };
}

export function cohortLayout(plan: CohortPlan, directory: Directory): CohortLayout {
  return {
    dimensions: plan.dimensions,
    metrics: plan.metrics.map((m) => ({ name: m.column.json, clip: m.clip })),
    sameEverywhere: NOT_IN_DIRECTORY,
    known: directoryKnowledge(directory),
    keySet(parts) {
      const directoryParts = parts.filter(isDirectoryAttribute);
      const base = directoryParts.length === 0 ? [[]] : directoryParts.length === 1 ? directory.domain(directoryParts[0]!).map((v) => [v]) : directory.combinations(directoryParts);
      // Column parts multiply the directory combinations by their fixed yes/no domain.
      let keys: string[][] = base.map((combo) => [...combo]);
      parts.forEach((part, index) => {
        if (isDirectoryAttribute(part)) return;
        const domain: readonly string[] = part === LICENCE_CLASS ? [...LICENCE_CLASSES].sort() : YES_NO_DOMAIN;
        keys = keys.flatMap((key) => domain.map((v) => [...key.slice(0, index), v, ...key.slice(index)]));
      });
      return keys;
    },
  };
}

/**
 * The columns whose value shows a person's activity: Microsoft's definition where the catalogue has one;
 * otherwise any usage metric (counts, durations, yes/no), or for reports with only last-activity dates, any date.
 */
export function activityColumns(report: ReportSpec): ColumnSpec[] {
  if (report.activity !== undefined) return report.activity.map((name) => findColumn(report, name)!);
  const metricColumns = report.columns.filter((c) => c.role === 'metric' && c.only !== 'json');
  const counted = metricColumns.filter((c) => c.kind === 'int' || c.kind === 'duration' || c.kind === 'bool');
  return counted.length > 0 ? counted : metricColumns.filter((c) => c.kind === 'date');
}

/** A validated metric cell as a number (empty: 0; durations in seconds). */
function metricValue(column: ColumnSpec, text: string): number {
  if (text === '') return 0;
  return column.kind === 'duration' ? (parseDuration(text) ?? 0) : Number(text);
}

/**
 * Whether a validated cell shows activity: a count above zero, a duration above PT0S, a yes, or (for
 * date-only reports) any date. Written on the text, not through the value codec: it runs per cell.
 */
function showsActivity(column: ColumnSpec, text: string): boolean {
  if (text === '') return false;
  switch (column.kind) {
    case 'int':
      return text !== '0' && !text.startsWith('-');
    case 'duration':
      return text !== 'PT0S' && text !== 'P0D' && (parseDuration(text) ?? 0) > 0;
    case 'bool':
      return text.toLowerCase() === 'true' || text.toLowerCase() === 'yes';
    default:
      return true;
  }
}

/** The users of one directory entry: their attributes, and the counters of the plan's table and each companion's. */
interface DirectoryTuple {
  readonly attributes: Record<string, string>;
  readonly counter: CohortCounter;
  readonly companions: readonly CohortCounter[];
}

const NO_METRICS: readonly number[] = [];

/**
 * A plan's table and its companions' tables, counted person by person from a report's rows in row order: the
 * one counting both ways of reading the rows share (aggregateCsvReport from the CSV, KeptReportRows.aggregate
 * from rows kept in the snapshot's validation pass), so both give the same tables and refuse the same reports.
 */
class PlanCounting<Person extends string | number> {
  readonly aggregator: CohortAggregator;
  readonly companions: { readonly measure: CompanionMeasure; readonly aggregator: CohortAggregator }[];
  /** The current person's code of each companion (one array, reused from person to person). */
  private readonly codes: number[];
  rows = 0;
  matched = 0;
  private readonly directoryParts: DirectoryAttribute[];
  // `person` is undefined for a placeholder row, which nothing may be merged into.
  private current: { person: Person | undefined; attributes: Record<string, string>; active: boolean; metrics: number[] } | undefined;
  /** The counters of current's directory tuple (the plan's, then each companion's), when every part is from the directory. */
  private currentTuple: DirectoryTuple | undefined;
  // With every part from the directory, the users of one directory entry share their attributes and a counter
  // (found once): counting a user is then one lookup by entry, not one per cell.
  private readonly tuples: Map<readonly string[] | undefined, DirectoryTuple> | undefined;

  constructor(
    plan: CohortPlan,
    directory: Directory,
    /** Whether rows give attributes of their own (yes/no columns, the licence class): no tuple is shared then. */
    ownAttributes: boolean,
    /** A person's directory entry (undefined: not in the directory). */
    private readonly entryOf: (person: Person) => readonly string[] | undefined,
    /** Users whose rows are done: memory grows with the users of the report, never with the rows. */
    private readonly seen: { has(person: Person): boolean; add(person: Person): void },
  ) {
    const tableLayout = cohortLayout(plan, directory);
    this.aggregator = new CohortAggregator(tableLayout);
    this.companions = (plan.companions ?? []).map((measure) => ({ measure, aggregator: new CohortAggregator({ ...tableLayout, metrics: [] }) }));
    this.codes = this.companions.map(() => 0);
    this.directoryParts = [...new Set(plan.dimensions.flatMap((d) => d.parts).filter(isDirectoryAttribute))];
    this.tuples = ownAttributes ? undefined : new Map();
  }

  /**
   * The next row: its user (a canonical UPN, or a number naming one; undefined for a row without a user name), whether it shows activity,
   * its metric values (the plan's order) and each companion's row code (companions in the plan's order);
   * `columns` sets the row's own attributes. Throws SanitizeError when a user's rows ended earlier.
   */
  row(person: Person | undefined, active: boolean, metrics: number[], codes: readonly number[], columns?: (attributes: Record<string, string>) => void): void {
    this.rows++;
    const current = this.current;
    if (person !== undefined && current !== undefined && current.person === person) {
      current.active ||= active;
      metrics.forEach((v, i) => (current.metrics[i]! += v));
      this.companions.forEach(({ measure }, i) => (this.codes[i] = measure.combine(this.codes[i]!, codes[i]!)));
      return;
    }
    this.flush();
    if (person !== undefined && this.seen.has(person)) throw new SanitizeError('InconsistentReport', `row ${this.rows} names a user whose rows ended earlier in the report`);
    const entry = this.directoryParts.length > 0 && person !== undefined ? this.entryOf(person) : undefined;
    if (entry !== undefined) this.matched++;
    let tuple = this.tuples?.get(entry);
    if (this.tuples !== undefined && tuple === undefined) {
      const shared = this.directoryAttributes(entry);
      tuple = { attributes: shared, counter: this.aggregator.counter(shared), companions: this.companions.map(({ aggregator }) => aggregator.counter(shared)) };
      this.tuples.set(entry, tuple);
    }
    const attributes = tuple?.attributes ?? this.directoryAttributes(entry);
    this.currentTuple = tuple;
    columns?.(attributes);
    this.companions.forEach(({ measure }, i) => (this.codes[i] = measure.combine(0, codes[i]!)));
    this.current = { person, attributes, active, metrics };
  }

  /** The tables, once every row is in. */
  tables(): { table: CohortTable; companions: Map<string, CohortTable> } {
    this.flush();
    return { table: this.aggregator.table(), companions: new Map(this.companions.map(({ measure, aggregator }) => [measure.name, aggregator.table()])) };
  }

  /** A user's directory attributes from their entry (none: not in the directory). */
  private directoryAttributes(entry: readonly string[] | undefined): Record<string, string> {
    return Object.fromEntries(this.directoryParts.map((a) => [a, entry?.[DIRECTORY_ATTRIBUTES.indexOf(a)] ?? NOT_IN_DIRECTORY]));
  }

  private flush(): void {
    const current = this.current;
    if (current === undefined) return;
    const tuple = this.currentTuple;
    if (tuple !== undefined) tuple.counter.add(current.active, current.metrics);
    else this.aggregator.add(current);
    this.companions.forEach(({ measure, aggregator }, i) => {
      const person = this.codes[i]!;
      if (!measure.counted(person)) return;
      if (tuple !== undefined) tuple.companions[i]!.add(measure.qualifies(person), NO_METRICS);
      else aggregator.add({ attributes: current.attributes, active: measure.qualifies(person), metrics: NO_METRICS });
    });
    if (current.person !== undefined) this.seen.add(current.person);
    this.current = undefined;
  }
}

/** Aggregates a CSV report (a validated snapshot) into the cohort table of a plan. */
export async function aggregateCsvReport(source: AsyncIterable<Buffer | string>, plan: CohortPlan, directory: Directory): Promise<CohortAggregate> {
  const companions = (plan.companions ?? []).map((measure) => ({
    measure,
    columns: measure.headers.map((header) => {
      const column = findColumn(plan.report, header);
      if (column === undefined) throw new CohortPlanError(`${plan.report.name} has no column '${header}' for ${measure.name}`);
      return column;
    }),
    positions: [] as number[],
  }));
  const upnColumn = findColumn(plan.report, 'userPrincipalName');
  if (upnColumn === undefined) throw new CohortPlanError(`${plan.report.name} has no User Principal Name column to join the directory with`);
  const columnParts = [...new Set(plan.dimensions.flatMap((d) => d.parts).filter((p) => !isDirectoryAttribute(p) && p !== LICENCE_CLASS))].map((p) => findColumn(plan.report, p)!);
  const products = plan.dimensions.some((d) => d.parts.includes(LICENCE_CLASS)) ? productsColumn(plan.report) : undefined;
  const activity = activityColumns(plan.report);
  const counting = new PlanCounting<string>(plan, directory, columnParts.length > 0 || products !== undefined, (upn) => directory.entryOf(upn), new Set());
  let positions: { upn: number; parts: number[]; products: number; activity: { index: number; column: ColumnSpec }[]; metrics: number[] } | undefined;
  let refreshDate: string | null = null;
  const refreshColumn = findColumn(plan.report, 'reportRefreshDate');
  let refreshIndex = -1;
  const index = (layout: readonly (ColumnSpec | undefined)[], column: ColumnSpec) => {
    const i = layout.indexOf(column);
    if (i === -1) throw new MissingColumnError(plan.report.name, column.header, 'the policy');
    return i;
  };
  const hash = createHash('sha256');
  for await (const batch of readCsvBatches(digestWhileReading(source, hash), plan.report)) {
    if (batch.layout !== undefined) {
      const layout = batch.layout;
      positions = {
        upn: index(layout, upnColumn),
        parts: columnParts.map((c) => index(layout, c)),
        products: products === undefined ? -1 : index(layout, products),
        activity: activity.filter((c) => layout.includes(c)).map((column) => ({ index: layout.indexOf(column), column })),
        metrics: plan.metrics.map((m) => index(layout, m.column)),
      };
      refreshIndex = refreshColumn === undefined ? -1 : layout.indexOf(refreshColumn);
      for (const companion of companions) companion.positions = companion.columns.map((c) => index(layout, c));
    }
    const p = positions!;
    for (const fields of batch.rows) {
      if (counting.rows === 0 && refreshIndex !== -1) refreshDate = fields[refreshIndex]! === '' ? null : fields[refreshIndex]!;
      const upn = isUserName(fields[p.upn]!) ? canonicalIdentifier(fields[p.upn]!) : undefined;
      const active = p.activity.some(({ index: i, column }) => showsActivity(column, fields[i]!));
      const metrics = plan.metrics.map((m, i) => metricValue(m.column, fields[p.metrics[i]!]!));
      const codes = companions.map(({ measure, positions }) => measure.code(positions.map((at) => fields[at]!)));
      counting.row(upn, active, metrics, codes, (attributes) => {
        columnParts.forEach((column, i) => {
          const value = fromCsvText(column, fields[p.parts[i]!]!);
          attributes[column.json] = value === null ? NO_VALUE : String(value);
        });
        if (products !== undefined) attributes[LICENCE_CLASS] = licenceClassOf(fromCsvText(products, fields[p.products]!) as readonly string[]);
      });
    }
  }
  const { table, companions: companionTables } = counting.tables();
  return { table, refreshDate, rows: counting.rows, matched: counting.matched, snapshotDigest: hash.digest('hex'), directory, companions: companionTables };
}

/**
 * How many kept rows are counted between two looks at the event loop's clock (event-loop/turns.ts): well under a
 * millisecond of work (10,000 rows held the loop for 35-48 ms at 300,000 users, bench/turns-in-profile.ts).
 */
const KEPT_ROWS_PER_STEP = 256;

/**
 * A per-user report's rows as the cohort aggregation reads them, kept from the snapshot's validation pass
 * (score/score-facts.ts keeps the Teams report's, whose organisation table holds the score's Meetings), so that
 * the organisation's table is made without parsing the report again: per row, its person (a number naming a
 * canonical UPN in `upns`; -1 for a row without a user name), whether it shows activity, the row code of the
 * report's companions (`code`, read from the cells of `codeHeaders`) and the values of the metric columns kept.
 * About 12 bytes a row, and 8 more per metric column kept, in columns that grow without copying
 * (event-loop/columns.ts).
 */
export class KeptReportRows {
  /** Each row's person in `upns` (-1: no user name). */
  private readonly people = new NumberColumn('int32');
  /** Each row's companion code times 2, plus 1 when the row shows activity. */
  private readonly codes = new NumberColumn('float64');
  /** Per kept metric column (`metricHeaders` order): each row's value (metricValue). */
  private readonly values: NumberColumn[];
  /** Per kept metric column: its position in the batches' layout (-1: not in the report). */
  private metricAt: number[] = [];
  private activityAt: { index: number; column: ColumnSpec }[] = [];
  private readonly metricColumns: ColumnSpec[];

  constructor(
    readonly report: ReportSpec,
    /** Canonical UPNs by number (score/score-facts.ts PersonIndex.upns; it may grow, never changes a number). */
    readonly upns: NumberedNames,
    /** The companions' row code (CompanionMeasure.code) that `add` is given, and the headers it reads. */
    readonly code: (cells: readonly string[]) => number,
    readonly codeHeaders: readonly string[],
    metricHeaders: readonly string[],
  ) {
    this.metricColumns = [...new Set(metricHeaders)].flatMap((header) => {
      const column = findColumn(report, header);
      return column !== undefined && (column.kind === 'int' || column.kind === 'duration') ? [column] : [];
    });
    this.values = this.metricColumns.map(() => new NumberColumn('float64'));
  }

  /** The columns (headers) it reads beside the code's: the activity columns and the kept metrics. */
  get columns(): readonly string[] {
    return [...activityColumns(this.report), ...this.metricColumns].map((c) => c.header);
  }

  get rows(): number {
    return this.people.length;
  }

  /** The layout of the batches whose rows follow (the kept columns the report has). */
  layout(layout: CsvLayout): void {
    this.activityAt = activityColumns(this.report).filter((c) => layout.includes(c)).map((column) => ({ index: layout.indexOf(column), column }));
    this.metricAt = this.metricColumns.map((c) => layout.indexOf(c));
  }

  /** The next row: its person's number (-1: no user name), its companions' code, and its validated cells. */
  add(person: number, code: number, fields: readonly string[]): void {
    this.people.push(person);
    let active = false;
    for (const { index, column } of this.activityAt) {
      if (showsActivity(column, fields[index]!)) {
        active = true;
        break;
      }
    }
    this.codes.push(code * 2 + (active ? 1 : 0));
    for (let m = 0; m < this.metricAt.length; m++) {
      const at = this.metricAt[m]!;
      this.values[m]!.push(at === -1 ? 0 : metricValue(this.metricColumns[m]!, fields[at]!));
    }
  }

  /**
   * Whether `plan`'s table can be made from these rows: the same report, dimensions from the directory only,
   * every metric kept and in the report, every companion read through `code`. Otherwise it is read from the CSV.
   */
  serves(plan: CohortPlan): boolean {
    const kept = (column: ColumnSpec) => {
      const m = this.metricColumns.indexOf(column);
      return m !== -1 && this.metricAt[m] !== -1;
    };
    const sameHeaders = (headers: readonly string[]) => headers.length === this.codeHeaders.length && headers.every((h, i) => h === this.codeHeaders[i]);
    return (
      plan.report === this.report && plan.dimensions.every((d) => d.parts.every(isDirectoryAttribute)) && plan.metrics.every((m) => kept(m.column)) &&
      (plan.companions ?? []).every((c) => c.code === this.code && sameHeaders(c.headers))
    );
  }

  /**
   * The plan's table and its companions' from the kept rows (serves(plan) must hold: InternalInvariantError
   * otherwise), letting the event loop turn when the turn's budget is spent (event-loop/turns.ts). Throws
   * SanitizeError as aggregateCsvReport does for the same rows.
   */
  async aggregate(plan: CohortPlan, directory: Directory): Promise<{ table: CohortTable; companions: Map<string, CohortTable> }> {
    if (!this.serves(plan)) throw new InternalInvariantError(`the kept rows of ${this.report.name} cannot make this plan's table`);
    // People joined to the directory by number: each name is looked up once per directory and numbering
    // (Directory.entryAt), shared with the score's tables when they join the same numbering (the snapshot cache's).
    const counting = new PlanCounting<number>(plan, directory, false, (person) => directory.entryAt(this.upns, person), new NumberSet());
    const metricValues = plan.metrics.map((m) => this.values[this.metricColumns.indexOf(m.column)]!);
    // Every companion reads the same row code (serves checked it); one array, refilled for each row.
    const codes = (plan.companions ?? []).map(() => 0);
    for (let row = 0; row < this.people.length; row++) {
      const person = this.people.at(row)!;
      const coded = this.codes.at(row)!;
      codes.fill((coded - (coded & 1)) / 2);
      counting.row(person === -1 ? undefined : person, (coded & 1) === 1, metricValues.map((values) => values.at(row)!), codes);
      if ((row + 1) % KEPT_ROWS_PER_STEP === 0 && turnIsOver()) await nextTurn();
    }
    return counting.tables();
  }
}
