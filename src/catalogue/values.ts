/**
 * Cell values of Graph usage reports: one typed model, and how each catalogue value kind is written to and
 * read from CSV text and JSON, so that the simulator, the sanitiser and the tests agree on every format rule.
 */
import { ProductError } from '../errors/catalogue.js';
import type { ColumnSpec } from './catalogue.js';

/** A decoded cell. Dates are 'YYYY-MM-DD', durations are seconds, periods are days; null means no data. */
export type CellValue = string | number | boolean | readonly string[] | null;

/** One row keyed by the columns' JSON names; with a nested report, the nested array holds row objects. */
export type ReportItem = Record<string, CellValue | readonly ReportRow[]>;
export type ReportRow = Record<string, CellValue>;

export class ValueFormatError extends ProductError<'ValueFormatError'> {
  readonly code = 'ValueFormatError';
  constructor(
    readonly column: string,
    message: string,
  ) {
    super(message);
  }
}

/** Writes an ISO-8601 duration the way Graph does: PT0S, PT45S, PT1H2M3S. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (s === 0) return 'PT0S';
  return `PT${h > 0 ? `${h}H` : ''}${m > 0 ? `${m}M` : ''}${rest > 0 ? `${rest}S` : ''}`;
}

const DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (m === null || text === 'P' || text === 'PT') return undefined;
  const [, d, h, min, s] = m;
  return Number(d ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(min ?? 0) * 60 + Number(s ?? 0);
}

/** Graph joins assigned products with '+'; a product name itself may contain ' + ' (with spaces). */
const PRODUCT_SEPARATOR = /(?<! )\+(?! )/;

/** The text of one CSV cell (before quoting). */
export function toCsvText(column: ColumnSpec, value: CellValue): string {
  if (value === null) return '';
  switch (column.kind) {
    case 'bool':
      if (column.boolStyle === 'YesNo') return value === true ? 'Yes' : 'No';
      return value === true ? 'True' : 'False';
    case 'duration':
      return formatDuration(value as number);
    case 'products':
    case 'versions':
      return (value as readonly string[]).join('+');
    default:
      return String(value);
  }
}

/** The JSON value of one cell. `nested` tells where the column sits, which decides how periods are written. */
export function toJsonValue(column: ColumnSpec, value: CellValue): CellValue {
  if (value === null) return column.kind === 'products' || column.kind === 'versions' ? [] : null;
  switch (column.kind) {
    case 'duration':
      return formatDuration(value as number);
    case 'period':
      return column.nested === true ? Number(value) : String(value);
    default:
      return value;
  }
}

/** Reads one CSV cell into the typed model; throws ValueFormatError when the text does not fit the kind. */
export function fromCsvText(column: ColumnSpec, text: string): CellValue {
  if (text === '') {
    return column.kind === 'products' || column.kind === 'versions' ? [] : null;
  }
  switch (column.kind) {
    case 'int':
    case 'period': {
      if (!/^-?\d+$/.test(text)) throw new ValueFormatError(column.header, `not an integer`);
      return Number(text);
    }
    case 'bool': {
      const t = text.toLowerCase();
      if (t === 'true' || t === 'yes') return true;
      if (t === 'false' || t === 'no') return false;
      throw new ValueFormatError(column.header, `not a boolean`);
    }
    case 'duration': {
      const seconds = parseDuration(text);
      if (seconds === undefined) throw new ValueFormatError(column.header, `not an ISO-8601 duration`);
      return seconds;
    }
    case 'date':
      if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) throw new ValueFormatError(column.header, `not a date`);
      return text;
    case 'products':
    case 'versions':
      return text.split(PRODUCT_SEPARATOR);
    default:
      return text;
  }
}

/** Reads one JSON value into the typed model; throws ValueFormatError when it does not fit the kind. */
export function fromJsonValue(column: ColumnSpec, value: unknown): CellValue {
  if (value === null || value === undefined) {
    return column.kind === 'products' || column.kind === 'versions' ? [] : null;
  }
  switch (column.kind) {
    case 'int':
    case 'period': {
      const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n)) throw new ValueFormatError(column.json, 'not an integer');
      return n;
    }
    case 'bool':
      if (typeof value !== 'boolean') throw new ValueFormatError(column.json, 'not a boolean');
      return value;
    case 'duration': {
      const seconds = typeof value === 'string' ? parseDuration(value) : undefined;
      if (seconds === undefined) throw new ValueFormatError(column.json, 'not an ISO-8601 duration');
      return seconds;
    }
    case 'products':
    case 'versions':
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
        throw new ValueFormatError(column.json, 'not an array of strings');
      }
      return value as string[];
    default:
      if (typeof value !== 'string') throw new ValueFormatError(column.json, 'not a string');
      if (column.kind === 'date' && value === '') return null;
      return value;
  }
}
