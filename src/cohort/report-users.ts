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
import { findColumn, type ColumnSpec, type Period, type ReportSpec } from '../catalogue/catalogue.js';
import { isUserName } from '../catalogue/identifiers.js';
import { fromCsvText, parseDuration } from '../catalogue/values.js';
import { readCsvBatches } from '../sanitize/csv-report.js';
import { MissingColumnError, SanitizeError } from '../sanitize/errors.js';
import { canonicalIdentifier } from '../sanitize/pseudonyms.js';
import { cohortNoise, type CohortNoise, type NoiseSetting } from './accuracy.js';
import { CohortAggregator, ORGANIZATION, parseDimension, type CohortCounter, type CohortDimension, type CohortLayout } from './aggregate.js';
import { LICENCE_CLASSES, licenceClassOf } from './licence-class.js';
import { DIRECTORY_ATTRIBUTES, directoryKnowledge, NO_VALUE, NOT_IN_DIRECTORY, type Directory, type DirectoryAttribute } from './directory.js';
import type { CohortTable } from './table.js';
import { ProductError } from '../errors/catalogue.js';

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
  /** A fresh reader of one person's rows (cells in `headers` order, for each of the person's rows). */
  person(): CompanionPerson;
}

export interface CompanionPerson {
  read(cells: readonly string[]): void;
  readonly counted: boolean;
  readonly qualifies: boolean;
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

/** Aggregates a CSV report (a validated snapshot) into the cohort table of a plan. */
export async function aggregateCsvReport(source: AsyncIterable<Buffer | string>, plan: CohortPlan, directory: Directory): Promise<CohortAggregate> {
  const tableLayout = cohortLayout(plan, directory);
  const aggregator = new CohortAggregator(tableLayout);
  const companions = (plan.companions ?? []).map((measure) => {
    const columns = measure.headers.map((header) => {
      const column = findColumn(plan.report, header);
      if (column === undefined) throw new CohortPlanError(`${plan.report.name} has no column '${header}' for ${measure.name}`);
      return column;
    });
    return { measure, columns, positions: [] as number[], aggregator: new CohortAggregator({ ...tableLayout, metrics: [] }) };
  });
  const upnColumn = findColumn(plan.report, 'userPrincipalName');
  if (upnColumn === undefined) throw new CohortPlanError(`${plan.report.name} has no User Principal Name column to join the directory with`);
  const columnParts = [...new Set(plan.dimensions.flatMap((d) => d.parts).filter((p) => !isDirectoryAttribute(p) && p !== LICENCE_CLASS))].map((p) => findColumn(plan.report, p)!);
  const products = plan.dimensions.some((d) => d.parts.includes(LICENCE_CLASS)) ? productsColumn(plan.report) : undefined;
  const activity = activityColumns(plan.report);
  const directoryParts = [...new Set(plan.dimensions.flatMap((d) => d.parts).filter(isDirectoryAttribute))];
  let positions: { upn: number; parts: number[]; products: number; activity: { index: number; column: ColumnSpec }[]; metrics: number[] } | undefined;
  let rows = 0;
  let matched = 0;
  let refreshDate: string | null = null;
  const refreshColumn = findColumn(plan.report, 'reportRefreshDate');
  let refreshIndex = -1;
  // `upn` (canonical) is undefined for a placeholder row, which nothing may be merged into.
  let current: { upn: string | undefined; attributes: Record<string, string>; active: boolean; metrics: number[]; companions: CompanionPerson[] } | undefined;
  // Users whose rows are done: memory grows with the users of the report (their UPNs), never with the rows.
  const seen = new Set<string>();
  // With every part from the directory, the users of one directory entry share their attributes and a counter
  // (found once): counting a user is then one lookup by entry, not one per cell. `currentCounter`: current's.
  const tuples = columnParts.length === 0 && products === undefined ? new Map<readonly string[] | undefined, { attributes: Record<string, string>; counter: CohortCounter }>() : undefined;
  let currentCounter: CohortCounter | undefined;
  /** A user's directory attributes from their entry (none: not in the directory). */
  const directoryAttributes = (entry: readonly string[] | undefined): Record<string, string> => Object.fromEntries(directoryParts.map((a) => [a, entry?.[DIRECTORY_ATTRIBUTES.indexOf(a)] ?? NOT_IN_DIRECTORY]));
  const flush = () => {
    if (current !== undefined) {
      if (currentCounter !== undefined) currentCounter.add(current.active, current.metrics);
      else aggregator.add(current);
      companions.forEach(({ aggregator: table }, i) => {
        const person = current!.companions[i]!;
        if (person.counted) table.add({ attributes: current!.attributes, active: person.qualifies, metrics: [] });
      });
      if (current.upn !== undefined) seen.add(current.upn);
    }
    current = undefined;
  };
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
      if (rows === 0 && refreshIndex !== -1) refreshDate = fields[refreshIndex]! === '' ? null : fields[refreshIndex]!;
      rows++;
      const upn = isUserName(fields[p.upn]!) ? canonicalIdentifier(fields[p.upn]!) : undefined;
      const active = p.activity.some(({ index: i, column }) => showsActivity(column, fields[i]!));
      const metrics = plan.metrics.map((m, i) => metricValue(m.column, fields[p.metrics[i]!]!));
      if (upn !== undefined && current !== undefined && current.upn === upn) {
        current.active ||= active;
        metrics.forEach((v, i) => (current!.metrics[i]! += v));
        companions.forEach(({ positions }, i) => current!.companions[i]!.read(positions.map((at) => fields[at]!)));
        continue;
      }
      flush();
      if (upn !== undefined && seen.has(upn)) throw new SanitizeError('InconsistentReport', `row ${rows} names a user whose rows ended earlier in the report`);
      const entry = directoryParts.length > 0 && upn !== undefined ? directory.entryOf(upn) : undefined;
      if (entry !== undefined) matched++;
      let tuple = tuples?.get(entry);
      if (tuples !== undefined && tuple === undefined) {
        const shared = directoryAttributes(entry);
        tuples.set(entry, (tuple = { attributes: shared, counter: aggregator.counter(shared) }));
      }
      const attributes = tuple?.attributes ?? directoryAttributes(entry);
      currentCounter = tuple?.counter;
      columnParts.forEach((column, i) => {
        const value = fromCsvText(column, fields[p.parts[i]!]!);
        attributes[column.json] = value === null ? NO_VALUE : String(value);
      });
      if (products !== undefined) attributes[LICENCE_CLASS] = licenceClassOf(fromCsvText(products, fields[p.products]!) as readonly string[]);
      const people = companions.map(({ measure, positions }) => {
        const person = measure.person();
        person.read(positions.map((at) => fields[at]!));
        return person;
      });
      current = { upn, attributes, active, metrics, companions: people };
    }
  }
  flush();
  return {
    table: aggregator.table(), refreshDate, rows, matched, snapshotDigest: hash.digest('hex'), directory,
    companions: new Map(companions.map(({ measure, aggregator: table }) => [measure.name, table.table()])),
  };
}

