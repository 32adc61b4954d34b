/**
 * A rows rule compiled for one report and one consumer: which catalogue columns are released, in what form,
 * and which of them are quasi-identifiers. Both the CSV and the JSON sanitiser run from the same plan, so the
 * two formats release the same values.
 */
import { columnsFor, findColumn, type ColumnSpec, type ReportSpec } from '../catalogue/catalogue.js';
import { isPlaceholderIdentifier, isUserName } from '../catalogue/identifiers.js';
import { fromCsvText, fromJsonValue, ValueFormatError } from '../catalogue/values.js';
import type { ColumnAction } from './column-actions.js';
import { SanitizeError } from './errors.js';
import { bander, monthOf, weekOf } from './generalize.js';
import { smallCountRule, type SmallCountRule } from './small-counts.js';
import { InternalInvariantError } from '../errors/catalogue.js';

/** The part of a policy's rows rule the planner reads (policy/schema.ts rows rules have this shape). */
export interface RowsRule {
  readonly rows: Record<string, ColumnAction>;
  /** Filled by the policy's resolver (policy/schema.ts `resolvePolicy`): never absent here. */
  readonly quasiIdentifiers: string[];
}

export interface ReleasedColumn {
  readonly column: ColumnSpec;
  readonly action: Exclude<ColumnAction, 'drop'>;
  /** Whether the column is one of the rule's quasi-identifiers. */
  readonly quasi: boolean;
  /**
   * The released CSV cell text for an upstream cell text ('' stays ''). Assumes a cell of the column's kind:
   * the CSV sanitiser checks cells with `checkCsv` unless its source was validated whole (snapshots are).
   */
  readonly csv: (text: string) => string;
  /** The released JSON value for an upstream JSON value (null stays null); checks the value's kind itself. */
  readonly json: (value: unknown) => unknown;
}

export interface RowsPlan {
  readonly report: ReportSpec;
  /** Released columns in catalogue order (Graph's documented order), which is the output order. */
  readonly released: readonly ReleasedColumn[];
  /** Every combination of released quasi-identifier values must occur at least k times. */
  readonly k: number;
  readonly hasQuasi: boolean;
  /** Team/group reports: the column counting a row's people; rows with fewer than k are withheld. */
  readonly peopleColumn?: ColumnSpec;
  /** Counts reports: small counts emptied. */
  readonly smallCounts?: SmallCountRule;
}

export interface PlanContext {
  /** The pseudonymiser for this consumer; needed only when the rule pseudonymises a column. */
  readonly pseudonymize?: (value: string) => string;
  /** The policy's k_c, for complements in counts reports. */
  readonly kC: number;
}

const VALIDATED_KINDS = new Set(['int', 'period', 'date', 'bool', 'duration', 'guid']);
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function unexpected(column: ColumnSpec): SanitizeError {
  return new SanitizeError('UnexpectedValue', `a value in column '${column.header}' does not have the column's type (${column.kind})`);
}

/** Checks an upstream CSV cell against its column's kind; throws (without the value) when it does not fit. */
export function checkCsv(column: ColumnSpec, text: string): void {
  if (text === '' || !VALIDATED_KINDS.has(column.kind)) return;
  if (column.kind === 'guid') {
    if (!GUID.test(text)) throw unexpected(column);
    return;
  }
  try {
    fromCsvText(column, text);
  } catch (error) {
    if (error instanceof ValueFormatError) throw unexpected(column);
    throw error;
  }
}

/** `checkCsv` for the cell `text[start, end)`, made for one column (`csvCellCheck`). */
export type CsvCellCheck = (text: string, start: number, end: number) => void;

/**
 * `checkCsv` for one column's cells where they lie in the decoded text: `csvCellKind` and `csvCellFits`, and
 * `checkCsv` of the sliced cell when it does not plainly fit. Undefined for columns whose cells are not checked.
 */
export function csvCellCheck(column: ColumnSpec): CsvCellCheck | undefined {
  const kind = csvCellKind(column);
  if (kind === UNCHECKED) return undefined;
  return (text, start, end) => {
    if (start !== end && !csvCellFits(kind, text, start, end)) checkCsv(column, text.slice(start, end));
  };
}

/** The kinds whose cells are checked, by their code for `csvCellFits` (0: the column's cells are not checked). */
const UNCHECKED = 0;
const INT = 1;
const DATE = 2;
const BOOL = 3;
const DURATION = 4;
const GUID_KIND = 5;
const KIND_CODES: Readonly<Record<string, number>> = { int: INT, period: INT, date: DATE, bool: BOOL, duration: DURATION, guid: GUID_KIND };

/** A column's code for `csvCellFits`; 0 when its cells are not checked (`checkCsv` accepts any text). */
export function csvCellKind(column: ColumnSpec): number {
  return VALIDATED_KINDS.has(column.kind) ? KIND_CODES[column.kind]! : UNCHECKED;
}

/**
 * Whether the non-empty cell `text[start, end)` plainly has the form of its kind (`csvCellKind`): ASCII digits, a
 * date, Yes/No, a duration, a GUID (values.ts fromCsvText, GUID above). The validation pass over a whole report
 * reads every cell of every known column, so this reads them in place, without making strings, through one
 * function the row reader calls for every kind. False means "not sure": the caller then asks `checkCsv` with the
 * sliced cell, so what passes and every error are exactly `checkCsv`'s (true only for cells it accepts).
 */
export function csvCellFits(kind: number, text: string, start: number, end: number): boolean {
  switch (kind) {
    case INT: {
      const from = text.charCodeAt(start) === 45 ? start + 1 : start;
      return from < end && digitsFrom(text, from, end) === end;
    }
    case DATE:
      return end - start === 10 && digitsFrom(text, start, start + 4) === start + 4 && text.charCodeAt(start + 4) === 45 && digitsFrom(text, start + 5, start + 7) === start + 7 && text.charCodeAt(start + 7) === 45 && digitsFrom(text, start + 8, end) === end;
    case BOOL:
      return isWord(text, start, end, 'yes') || isWord(text, start, end, 'no') || isWord(text, start, end, 'true') || isWord(text, start, end, 'false');
    case DURATION:
      return plainDuration(text, start, end);
    case GUID_KIND:
      return plainGuid(text, start, end);
    default:
      return false;
  }
}

/**
 * Where the cell starting at `start` ends (the position of its comma, or `stop`, the line's end) when it plainly
 * has its kind's form, found while reading it: for the row reader, which otherwise searches for the comma first
 * and then reads the cell again. -1 when not sure (the caller then finds the comma and checks the cell as
 * `csvCellFits` and `checkCsv` do). Integers, dates, yes/no and GUIDs contain no comma, so the end is the
 * cell's first comma; an empty cell ends where it starts. Only for cells `csvCellFits` accepts.
 */
export function csvCellEnd(kind: number, text: string, start: number, stop: number): number {
  const first = start < stop ? text.charCodeAt(start) : 44;
  if (first === 44) return start;
  let end: number;
  switch (kind) {
    case INT: {
      const from = first === 45 ? start + 1 : start;
      end = digitsFrom(text, from, stop);
      if (end === from) return -1;
      break;
    }
    case DATE:
      end = start + 10;
      if (end > stop || !csvCellFits(DATE, text, start, end)) return -1;
      break;
    case BOOL: {
      const letter = first | 0x20;
      end = start + (letter === 121 ? 3 : letter === 110 ? 2 : letter === 116 ? 4 : letter === 102 ? 5 : 0);
      if (end === start || end > stop || !csvCellFits(BOOL, text, start, end)) return -1;
      break;
    }
    case GUID_KIND:
      end = start + 36;
      if (end > stop || !plainGuid(text, start, end)) return -1;
      break;
    default:
      return -1;
  }
  return end === stop || text.charCodeAt(end) === 44 ? end : -1;
}

/** ASCII digits in `text[from, end)`: the position after the last one (== from when there is none). */
function digitsFrom(text: string, from: number, end: number): number {
  while (from < end) {
    const c = text.charCodeAt(from);
    if (c < 48 || c > 57) break;
    from++;
  }
  return from;
}

/** ASCII-case-insensitive `text[start, end) == word` (word in lower case letters). */
function isWord(text: string, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if ((text.charCodeAt(start + i) | 0x20) !== word.charCodeAt(i)) return false;
  return true;
}

/** PnD, PTnH, PTnM, PTnS, PnDTnHnMnS and the like, in whole units: Graph's forms. */
function plainDuration(text: string, start: number, end: number): boolean {
  if (text.charCodeAt(start) !== 80) return false;
  let at = start + 1;
  let next = digitsFrom(text, at, end);
  if (next > at) {
    if (next >= end || text.charCodeAt(next) !== 68) return false;
    at = next + 1;
    if (at === end) return true;
  }
  if (at >= end || text.charCodeAt(at) !== 84) return false;
  at++;
  let parts = 0;
  for (const unit of DURATION_UNITS) {
    next = digitsFrom(text, at, end);
    if (next > at && next < end && text.charCodeAt(next) === unit) {
      at = next + 1;
      parts++;
    }
  }
  return parts > 0 && at === end;
}
/** H, M, S: the time units of a duration, in their order. */
const DURATION_UNITS = [72, 77, 83];

function plainGuid(text: string, start: number, end: number): boolean {
  if (end - start !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = text.charCodeAt(start + i);
    const fits = i === 8 || i === 13 || i === 18 || i === 23 ? c === 45 : (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
    if (!fits) return false;
  }
  return true;
}

function checkJson(column: ColumnSpec, value: unknown): void {
  try {
    fromJsonValue(column, value);
  } catch (error) {
    if (error instanceof ValueFormatError) throw unexpected(column);
    throw error;
  }
  if (column.kind === 'guid' && typeof value === 'string' && value !== '' && !GUID.test(value)) throw unexpected(column);
}

function releaseColumn(column: ColumnSpec, action: Exclude<ColumnAction, 'drop'>, quasi: boolean, context: PlanContext): ReleasedColumn {
  const base = { column, action, quasi };
  if (action === 'keep') {
    return { ...base, csv: (text) => text, json: (value) => (checkJson(column, value), value) };
  }
  if (action === 'pseudonymize') {
    const pseudonymize = context.pseudonymize;
    if (pseudonymize === undefined) throw new InternalInvariantError(`column '${column.header}' is pseudonymised but no pseudonym key is available`);
    // A placeholder names no one: its pseudonym would be one value shared by different people, so it is withheld.
    // A user-name column is judged by what a user name must look like; other identifiers by Graph's placeholders.
    const placeholder = column.conceal?.as === 'hex' && column.conceal.namespace === 'upn' ? (text: string) => !isUserName(text) : isPlaceholderIdentifier;
    return {
      ...base,
      csv: (text) => (placeholder(text) ? '' : pseudonymize(text)),
      json: (value) => {
        if (value === null || value === '') return value;
        if (typeof value !== 'string') throw unexpected(column);
        return placeholder(value) ? null : pseudonymize(value);
      },
    };
  }
  const g = action.generalize;
  const generalize = typeof g === 'string' ? (g === 'week' ? weekOf : monthOf) : undefined;
  if (generalize !== undefined) {
    return {
      ...base,
      csv: (text) => (text === '' ? '' : generalize(text)),
      json: (value) => (value === null ? null : (checkJson(column, value), generalize(value as string))),
    };
  }
  const band = bander((g as { bands: readonly number[] }).bands);
  return {
    ...base,
    csv: (text) => (text === '' ? '' : band(Number(text))),
    json: (value) => (value === null ? null : (checkJson(column, value), band(Number(value)))),
  };
}

/** Compiles a rows rule for one report; `k` is the policy's k. Unknown names were refused by the linter. */
export function planRows(report: ReportSpec, rule: RowsRule, k: number, context: PlanContext): RowsPlan {
  const actions = new Map<ColumnSpec, ColumnAction>();
  for (const [name, action] of Object.entries(rule.rows)) {
    const column = findColumn(report, name);
    if (column === undefined) throw new InternalInvariantError(`column '${name}' is not in ${report.name}`);
    actions.set(column, action);
  }
  const quasi = new Set(rule.quasiIdentifiers.map((name) => findColumn(report, name)));
  const released: ReleasedColumn[] = [];
  for (const column of report.columns) {
    const action = actions.get(column);
    if (action === undefined || action === 'drop') continue;
    released.push(releaseColumn(column, action, quasi.has(column), context));
  }
  const peopleColumn = report.peopleColumn === undefined ? undefined : findColumn(report, report.peopleColumn);
  const smallCounts = smallCountRule(report, k, context.kC);
  return {
    report, released, k, hasQuasi: released.some((c) => c.quasi),
    ...(peopleColumn !== undefined ? { peopleColumn } : {}), ...(smallCounts !== undefined ? { smallCounts } : {}),
  };
}

/** The released columns that appear in one format, in output order. */
export function releasedFor(plan: RowsPlan, format: 'csv' | 'json'): ReleasedColumn[] {
  const present = new Set(columnsFor(plan.report, format));
  return plan.released.filter((c) => present.has(c.column));
}
