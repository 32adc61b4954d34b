/**
 * The request grammar of Graph's report functions: `/{version}{root}/{fn}(period='D7')`, `(date=YYYY-MM-DD)`,
 * no parameters for the activation reports, and the `$format`, `$top`, `$skiptoken` query options.
 * Both the simulator and the proxy parse requests with these functions, so they accept exactly the same set.
 */
import { API_VERSIONS, DATE_WINDOW_DAYS, findReport, type ApiVersion, type Period, type ReportFormat, type ReportSpec } from './catalogue.js';
import type { ResponseCode } from '../errors/catalogue.js';

export type { ReportFormat } from './catalogue.js';

export interface ReportCall {
  readonly version: ApiVersion;
  readonly report: ReportSpec;
  /** Exactly one of period and date is set, or neither for reports without parameters. */
  readonly period?: Period;
  readonly date?: string;
}

export interface ReportQuery {
  readonly format: ReportFormat;
  readonly top?: number;
  readonly skipToken?: string;
}

/** A refusal in Graph's own terms: the status and error code a Graph-shaped error body carries. */
export interface GraphRefusal {
  readonly status: number;
  readonly code: ResponseCode;
  readonly message: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: GraphRefusal };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const refuse = (status: number, code: ResponseCode, message: string): Parsed<never> => ({
  ok: false,
  error: { status, code, message },
});

const FUNCTION_CALL = /^([A-Za-z0-9.]+)(?:\((.*)\))?$/s;
const PERIOD_ARGUMENT = /^\s*period\s*=\s*'([^']*)'\s*$/i;
const DATE_ARGUMENT = /^\s*date\s*=\s*('?)([^']*)\1\s*$/i;

/** Whether a string is a real calendar date in YYYY-MM-DD form. */
export function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
}

/**
 * Parses the path of a report request (without query string). Percent-encoded quotes and parentheses are
 * accepted, as SDKs send them.
 */
export function parseReportPath(rawPath: string): Parsed<ReportCall> {
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return refuse(400, 'BadRequest', 'The request path is not validly percent-encoded.');
  }
  const versionEnd = path.indexOf('/', 1);
  const version = path.slice(1, versionEnd === -1 ? undefined : versionEnd);
  if (!path.startsWith('/') || !(API_VERSIONS as readonly string[]).includes(version)) {
    return refuse(400, 'BadRequest', 'Invalid version: the path must start with /v1.0/ or /beta/.');
  }
  const rest = path.slice(versionEnd);
  const lastSlash = rest.lastIndexOf('/');
  const root = rest.slice(0, lastSlash);
  const call = FUNCTION_CALL.exec(rest.slice(lastSlash + 1));
  if (call === null || lastSlash <= 0) {
    return refuse(400, 'BadRequest', 'Resource not found for the segment in the request path.');
  }
  const [, functionName = '', argumentText] = call;
  const report = findReport(functionName);
  const apiVersion = version as ApiVersion;
  if (report === undefined || !report.versions.includes(apiVersion) || report.root[apiVersion] !== root) {
    return refuse(400, 'BadRequest', `Resource not found for the segment ${quotedIdentifier(functionName) ?? 'in the request path'}.`);
  }
  const argument = (argumentText ?? '').trim();
  if (report.parameters === 'none') {
    return argument === ''
      ? ok({ version: apiVersion, report })
      : refuse(400, 'BadRequest', `${report.name} takes no parameters.`);
  }
  const period = PERIOD_ARGUMENT.exec(argument);
  if (period !== null) {
    const value = period[1]!.toUpperCase() as Period;
    if (!report.periods.includes(value)) {
      return refuse(
        400,
        'BadRequest',
        `Invalid value for argument 'period'. Allowed values: ${report.periods.join(', ')}.`,
      );
    }
    return ok({ version: apiVersion, report, period: value });
  }
  const date = DATE_ARGUMENT.exec(argument);
  if (date !== null) {
    if (report.parameters !== 'periodOrDate') {
      return refuse(400, 'BadRequest', `${report.name} accepts only a period, not a date.`);
    }
    if (!isCalendarDate(date[2]!)) {
      return refuse(400, 'BadRequest', "Invalid value for argument 'date'. Use the form YYYY-MM-DD.");
    }
    return ok({ version: apiVersion, report, date: date[2]! });
  }
  return refuse(
    400,
    'BadRequest',
    report.parameters === 'periodOrDate'
      ? `${report.name} needs exactly one argument: period='D7' (D7, D30, D90, D180) or date=YYYY-MM-DD.`
      : `${report.name} needs exactly one argument: period='D7' (${report.periods.join(', ')}).`,
  );
}

const FORMATS: Readonly<Record<string, ReportFormat>> = {
  'text/csv': 'csv',
  'application/json': 'json',
};

/**
 * Parses the query options of a report request. System options (`$...`) other than `$format`, `$top` and
 * `$skiptoken` are refused, as are repeated options; other parameters are refused too unless allowed.
 */
export function parseReportQuery(
  report: ReportSpec,
  params: URLSearchParams,
  options: { allowUnknownParameters?: boolean } = {},
): Parsed<ReportQuery> {
  const seen = new Set<string>();
  let format: ReportFormat = report.defaultFormat;
  let top: number | undefined;
  let skipToken: string | undefined;
  for (const [rawName, value] of params) {
    const name = rawName.toLowerCase();
    if (seen.has(name)) return refuse(400, 'BadRequest', `Query option ${quotedIdentifier(rawName) ?? 'of one name'} is given twice.`);
    seen.add(name);
    switch (name) {
      case '$format': {
        const f = FORMATS[value.trim().toLowerCase()];
        if (f === undefined) {
          return refuse(400, 'BadRequest', "Invalid $format: use 'text/csv' or 'application/json'.");
        }
        format = f;
        break;
      }
      case '$top': {
        if (report.shape === 'counts') return refuse(400, 'BadRequest', `${report.name} supports only $format.`);
        if (!/^\d{1,6}$/.test(value) || Number(value) < 1) {
          return refuse(400, 'BadRequest', 'Invalid $top: use a whole number from 1 to 999999.');
        }
        top = Number(value);
        break;
      }
      case '$skiptoken':
        if (report.shape === 'counts') return refuse(400, 'BadRequest', `${report.name} supports only $format.`);
        skipToken = value;
        break;
      default:
        if (name.startsWith('$') || options.allowUnknownParameters !== true) {
          return refuse(400, 'BadRequest', `Query option ${quotedIdentifier(rawName) ?? 'whose name is not an OData name'} is not supported for reports.`);
        }
    }
  }
  return ok({ format, ...(top !== undefined ? { top } : {}), ...(skipToken !== undefined ? { skipToken } : {}) });
}

/** The calendar date `days` before a YYYY-MM-DD date. */
export function daysBefore(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);
}

/** Today's date in UTC, YYYY-MM-DD: the day Graph's date window is counted back from. */
export function utcToday(now: number = Date.now()): string {
  return new Date(now).toISOString().slice(0, 10);
}

/**
 * What Graph refuses about a well-formed request, from the catalogue (../shared/cases/real-graph/README.md):
 * a format the report does not have in that version (JSON is beta-only for usage reports: 400 "JSON format is
 * not supported."), and a date outside the past 28 days (400 InvalidArgument "Only support data for the past 28
 * days"). Graph's own wording comes first; the rest of the message says which rule was broken. `today` is
 * YYYY-MM-DD in UTC. Both the simulator and the proxy refuse with this, so they refuse the same requests.
 */
export function checkServed(call: ReportCall, format: ReportFormat, today: string): GraphRefusal | undefined {
  const formats = call.report.formats[call.version];
  if (!formats.includes(format)) {
    const elsewhere = (API_VERSIONS as readonly ApiVersion[]).filter((v) => call.report.versions.includes(v) && call.report.formats[v].includes(format));
    const where = elsewhere.length > 0 ? `; ${call.report.name} has it in ${elsewhere.map((v) => `/${v}/`).join(' and ')}` : '';
    return {
      status: 400,
      code: 'BadRequest',
      message: `${format === 'json' ? 'JSON' : 'CSV'} format is not supported. ${call.report.name} in /${call.version}/ is served as ${formats.map((f) => (f === 'json' ? 'application/json' : 'text/csv')).join(' or ')}${where}.`,
    };
  }
  return call.date === undefined ? undefined : checkDateWindow(call.date, today);
}

/** Graph's date rule alone: a YYYY-MM-DD `date` within the past 28 days of `today` (UTC), or Graph's refusal. */
export function checkDateWindow(date: string, today: string): GraphRefusal | undefined {
  const earliest = daysBefore(today, DATE_WINDOW_DAYS - 1);
  if (date >= earliest && date <= today) return undefined;
  return {
    status: 400,
    code: 'InvalidArgument',
    message: `Only support data for the past ${DATE_WINDOW_DAYS} days: date=${date} is ${date > today ? 'after today' : 'older'}; Graph serves single days from ${earliest} to ${today} (UTC).`,
  };
}

/** How many days of activity a period covers; `ALL` is the whole history kept (180 days). */
export function periodDays(period: Period): number {
  return period === 'ALL' ? 180 : Number(period.slice(1));
}

/**
 * A name from a request (a report's function, a query option, a route's parameter) as a refusal quotes it: `'name'`
 * when it could be one (an OData identifier, '$' allowed first, at most 64 characters), else undefined, and the
 * refusal says it without the name: request text such as an address or markup is never echoed into an error body
 * (as server/errors.ts quotedName for a dimension; red team, test/redteam/request-text-echo.test.ts).
 */
export function quotedIdentifier(text: string): string | undefined {
  return /^\$?[A-Za-z][A-Za-z0-9_]{0,63}$/.test(text) ? `'${text}'` : undefined;
}

/** Echoing a client's input in an error message: bounded and stripped of control characters. */
export function printable(text: string, max = 80): string {
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}
