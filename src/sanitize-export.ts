/**
 * `sanitize`: releases an exported report file (a Microsoft 365 admin-center CSV export or a Graph download)
 * under a consumer's policy, offline, through the same decision, sanitiser and cohort engine as the proxy. The
 * file is read as a stream (once to validate, then once or twice to release), so memory does not grow with its
 * rows; the released file appears only when it is complete.
 */
import { createReadStream } from 'node:fs';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { DIRECTORY_ATTRIBUTES, Directory, type DirectoryEntry } from './cohort/directory.js';
import { cohortCsv } from './cohort/render.js';
import { organisationVerdict, periodSourcesOf, protectCohortTable, type PeriodSources } from './cohort/release.js';
import { aggregateCsvReport, usesDirectory, type CohortPlan } from './cohort/report-users.js';
import type { SuppressionCounts } from './cohort/suppress.js';
import { columnsFor, findColumn, findReport, REPORTS, type Period, type ReportSpec } from './catalogue/catalogue.js';
import { plannedOrganisationEpsilon } from './policy/budget-plan.js';
import { cohortGrantFor, decideReport, jointCohortPlan, rowsPlanFor } from './policy/decide.js';
import type { PolicySet } from './policy/load.js';
import { sanitizeCsvReport, validateCsvReport } from './sanitize/csv-report.js';
import { CsvRowReader } from './sanitize/csv-rows.js';
import type { PseudonymKeyring } from './sanitize/pseudonyms.js';
import { emptyStats, type SanitizeStats } from './sanitize/stats.js';
import type { BudgetStore } from './store/store.js';
import { ProductError, type ExportRefusedCode } from './errors/catalogue.js';

/**
 * Refuses a /users file that would join silently wrong: one page of several (`@odata.nextLink`: everyone on the
 * other pages would count as not in the directory), or users without a property the table groups by (Graph's
 * /users leaves out `department` and the others unless `$select` names them, and a missing property would put
 * everyone in `(none)`). Graph writes a selected property that is empty as null, so a present null is fine.
 */
function directoryFitsJoin(file: string, parsed: { value: DirectoryEntry[] } & Record<string, unknown>, plan: CohortPlan): void {
  const select = `$select=userPrincipalName,${DIRECTORY_ATTRIBUTES.join(',')}`;
  if (parsed['@odata.nextLink'] !== undefined) {
    throw new ExportRefused('NeedsDirectory', `${file} is one page of Graph's /users (it has @odata.nextLink): follow the links and give every page's users in one { "value": [...] }`);
  }
  const needed = DIRECTORY_ATTRIBUTES.filter((a) => plan.dimensions.some((d) => (d.parts as readonly string[]).includes(a)));
  const missing = needed.filter((a) => parsed.value.some((entry) => typeof entry.userPrincipalName === 'string' && !(a in entry)));
  if (missing.length > 0) {
    throw new ExportRefused('NeedsDirectory', `${file}: users have no ${missing.map((a) => `'${a}'`).join(', ')}, which this release groups by (Graph's /users returns it only when asked): fetch /v1.0/users?${select}&$top=999`);
  }
}

/** Why a file is not released; `code` lets the CLI and tests tell refusals from broken input. */
export class ExportRefused extends ProductError<ExportRefusedCode> {
  constructor(
    readonly code: ExportRefusedCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ExportRequest {
  /** The exported CSV file. */
  readonly input: string;
  /** Where the released CSV goes; written to a temporary name beside it first, renamed when complete. */
  readonly output: string;
  readonly consumer: string;
  readonly policies: PolicySet;
  /** The report's Graph name; found from the file's header when not given. */
  readonly report?: string;
  /** Found from the file's Report Period column when not given; must agree with it when given. */
  readonly period?: Period;
  /** A single-day export (`date=`), YYYY-MM-DD. */
  readonly date?: string;
  readonly pseudonymKeys: PseudonymKeyring;
  /** Graph's /users as JSON (`{ "value": [...] }`): cohorts by directory attributes need it. */
  readonly directoryFile?: string;
  /**
   * The same report exported for each other period its cohorts are released for (`D7` -> file), where the policy
   * set releases them for several periods: those are suppressed as one table (policy/decide.ts jointCohortPlan).
   */
  readonly periodInputs?: ReadonlyMap<string, string>;
  /** Noisy cohort policies: the sticky-noise key and the ledger the release is charged to, as in the proxy. */
  readonly noiseKey?: Buffer;
  readonly ledger?: BudgetStore;
  /**
   * The organisation's yearly limit (epsilon per person across all consumers), as the proxy's
   * GPP_ORGANISATION_EPSILON_PER_YEAR; default the set's planned total (policy/budget-plan.ts), as in the proxy.
   */
  readonly organisationEpsilonPerYear?: number;
}

/** What was released, for the audit line: names and counts only. */
export interface ExportRelease {
  readonly consumer: string;
  readonly report: string;
  readonly period?: string;
  readonly date?: string;
  readonly kind: 'rows' | 'cohort';
  readonly policy: string;
  readonly policyVersion: string;
  readonly sanitize?: SanitizeStats;
  readonly cohorts?: SuppressionCounts & { rowsIn: number };
  readonly noise?: boolean;
  readonly budget?: { charged: boolean; spent: number; epsilon: number };
}

/** The header and first data row of a CSV file, read from its start only. */
async function peek(file: string): Promise<{ header: string[]; first?: string[] }> {
  const rows: string[][] = [];
  const reader = new CsvRowReader((fields) => {
    rows.push(fields);
  });
  const stream = createReadStream(file, { highWaterMark: 64 * 1024 });
  try {
    for await (const chunk of stream) {
      reader.push(chunk as Buffer);
      if (rows.length >= 2) break;
    }
    if (rows.length < 2) reader.end();
  } catch (error) {
    throw new ExportRefused('UnreadableInput', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  } finally {
    stream.destroy();
  }
  if (rows.length === 0) throw new ExportRefused('UnreadableInput', `${file} is empty: it has no header line`);
  return { header: rows[0]!, ...(rows[1] !== undefined ? { first: rows[1] } : {}) };
}

/**
 * The catalogue report a header belongs to: the one whose CSV columns are exactly the header's names (in any
 * order). Admin-center exports and Graph downloads share Graph's column names.
 */
export function reportForHeader(header: readonly string[]): ReportSpec[] {
  return REPORTS.filter((spec) => {
    const columns = columnsFor(spec, 'csv');
    if (columns.length !== header.length) return false;
    const found = new Set(header.map((name) => findColumn(spec, name)));
    return columns.every((c) => found.has(c));
  });
}

function periodOf(report: ReportSpec, header: readonly string[], first: readonly string[] | undefined): string | undefined {
  const column = findColumn(report, 'reportPeriod');
  const index = column === undefined ? -1 : header.findIndex((name) => findColumn(report, name) === column);
  return index === -1 || first === undefined ? undefined : first[index];
}

/** Writes `pieces` to `output` through a temporary file, renamed only when complete; removed on failure. */
async function writeWhole(output: string, pieces: AsyncIterable<string> | Iterable<string>): Promise<void> {
  const partial = `${output}.partial-${process.pid}`;
  const handle = await open(partial, 'w', 0o600);
  try {
    for await (const piece of pieces) await handle.write(piece);
    await handle.sync();
    await handle.close();
    await rename(partial, output);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(partial, { force: true });
    throw error;
  }
}

/**
 * Releases `request.input` under the consumer's policy into `request.output`. Throws ExportRefused when the
 * policy does not allow it or the file cannot be identified, and SanitizeError (from the engine) when the
 * file is malformed; in both cases no output file is left.
 */
export async function releaseExport(request: ExportRequest): Promise<ExportRelease> {
  const { header, first } = await peek(request.input);
  let report: ReportSpec;
  if (request.report !== undefined) {
    const named = findReport(request.report);
    if (named === undefined) throw new ExportRefused('UnknownReport', `unknown report '${request.report}' (the names are Graph's, e.g. getOffice365ActiveUserDetail)`);
    report = named;
  } else {
    const candidates = reportForHeader(header);
    if (candidates.length !== 1) {
      throw new ExportRefused('UnknownReport', candidates.length === 0
        ? "the file's columns match no known report; name it with --report"
        : `the file's columns fit several reports (${candidates.map((c) => c.name).join(', ')}); name one with --report`);
    }
    report = candidates[0]!;
  }

  // The policy may limit periods, so the period is never left unknown: it comes from the file and a flag must agree.
  const filePeriod = periodOf(report, header, first);
  let period = request.period;
  if (request.date !== undefined && filePeriod !== undefined && filePeriod !== '1') {
    throw new ExportRefused('PeriodMismatch', `--date names one day, but the file's Report Period is ${filePeriod} days; use --period`);
  }
  if (request.date === undefined && report.parameters !== 'none') {
    if (filePeriod === '1') throw new ExportRefused('UnknownPeriod', 'this export covers a single day; name it with --date YYYY-MM-DD');
    const fromFile = filePeriod !== undefined && /^\d+$/.test(filePeriod) ? `D${filePeriod}` : undefined;
    if (period !== undefined && fromFile !== undefined && period !== fromFile) {
      throw new ExportRefused('PeriodMismatch', `--period ${period} does not match the file, whose Report Period is ${filePeriod} days`);
    }
    const chosen = period ?? fromFile;
    if (chosen === undefined) throw new ExportRefused('UnknownPeriod', 'the file has no Report Period; name the period with --period (D7, D30, D90, D180) or the day with --date');
    if (!(report.periods as readonly string[]).includes(chosen)) throw new ExportRefused('UnknownPeriod', `${report.name} has no period ${chosen} (it has ${report.periods.join(', ')})`);
    period = chosen as Period;
  }

  const decision = decideReport(request.policies.policyFor(request.consumer), {
    report, format: 'csv', ...(period !== undefined ? { period } : {}), ...(request.date !== undefined ? { date: request.date } : {}),
  });
  if (decision.kind === 'denied') throw new ExportRefused('Denied', `refused for ${request.consumer}: ${decision.reason}`);
  const base = {
    consumer: request.consumer, report: report.name, ...(period !== undefined ? { period } : {}), ...(request.date !== undefined ? { date: request.date } : {}),
    policy: decision.policy.policy.name, policyVersion: request.policies.version,
  };
  const source = () => createReadStream(request.input, { highWaterMark: 256 * 1024 });
  // Fail closed, as the proxy does with a snapshot: the whole file is checked before anything is released.
  await validateCsvReport(source(), report);

  if (decision.kind === 'rows') {
    const plan = rowsPlanFor(decision, report, request.consumer, request.pseudonymKeys);
    const stats = emptyStats();
    await writeWhole(request.output, sanitizeCsvReport(source, plan, stats, { validated: true }));
    return { ...base, kind: 'rows', sanitize: stats };
  }

  const { policy } = decision.policy;
  // The proxy's plan for the request (a single day beside periods: the organisation only).
  const { plan } = cohortGrantFor(decision, { report, ...(period !== undefined ? { period } : {}), ...(request.date !== undefined ? { date: request.date } : {}) }, request.policies);
  // Suppressed within the organisation's table of the report, as the proxy does (policy/decide.ts jointCohortPlan).
  const joint = jointCohortPlan(request.policies, { report, ...(period !== undefined ? { period } : {}), ...(request.date !== undefined ? { date: request.date } : {}) });
  let directory = new Directory([]);
  if (usesDirectory(joint ?? plan)) {
    if (request.directoryFile === undefined) throw new ExportRefused('NeedsDirectory', "this policy groups people by directory attributes; give Graph's /users as JSON with --directory");
    const parsed = JSON.parse(await readFile(request.directoryFile, 'utf8')) as { value?: DirectoryEntry[] };
    if (!Array.isArray(parsed.value)) throw new ExportRefused('UnreadableInput', `${request.directoryFile} is not Graph's /users JSON ({ "value": [...] })`);
    directoryFitsJoin(request.directoryFile, parsed as { value: DirectoryEntry[] } & Record<string, unknown>, joint ?? plan);
    directory = new Directory(parsed.value);
  }
  const aggregate = await aggregateCsvReport(source(), plan, directory);
  if (aggregate.rows > 0 && aggregate.matched === 0 && directory.size > 0 && usesDirectory(plan)) {
    throw new ExportRefused('ConcealedNames', "no row's user is in the directory: the export has concealed names; export it with names shown to join it to the directory");
  }
  let budget: ExportRelease['budget'];
  if (plan.noise !== undefined && (request.noiseKey === undefined || request.ledger === undefined || policy.privacyBudget === undefined)) {
    throw new ExportRefused('NeedsNoiseKey', 'this policy releases noisy cohorts; give the noise key (GPP_NOISE_KEY or GPP_NOISE_KEY_FILE) so the release is charged to the privacy-budget ledger');
  }
  // The proxy's one release function: the same data and settings give the proxy's release, its noise and its charge.
  // A report released for several periods is one table with its other periods: their exports are read too.
  let periods: PeriodSources | undefined;
  if (period !== undefined && (joint?.periods ?? []).length > 0) {
    const others = new Map<string, () => AsyncIterable<Buffer>>();
    for (const entry of joint!.periods!) {
      const file = request.periodInputs?.get(entry.period);
      if (entry.period === period || file === undefined) continue;
      const read = () => createReadStream(file, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>;
      const peeked = await peek(file);
      const filePeriod = periodOf(report, peeked.header, peeked.first);
      // ALL (Copilot's whole history) has no day count of its own to check.
      if (entry.period !== 'ALL' && filePeriod !== entry.period.slice(1)) throw new ExportRefused('PeriodMismatch', `--period-input ${entry.period}=${file}: the file's Report Period is ${filePeriod ?? 'missing'}, not ${entry.period.slice(1)} days`);
      await validateCsvReport(read(), report);
      others.set(entry.period, read);
    }
    const needed = joint!.periods!.map((p) => p.period).filter((p) => p !== period);
    periods = periodSourcesOf(period, others, () => new ExportRefused('NeedsOtherPeriods', `${report.name}'s cohorts are released for ${joint!.periods!.map((p) => p.period).join(', ')} and suppressed as one table (the periods nest); give the other exports with ${needed.map((p) => `--period-input ${p}=<file>`).join(' ')}`));
  }
  const release = protectCohortTable(aggregate, plan, period ?? request.date ?? '-', policy.freshReleases, request.noiseKey, await organisationVerdict(source, plan, joint, directory, periods === undefined ? {} : { periods }));
  if (plan.noise !== undefined) {
    const organisation = request.organisationEpsilonPerYear ?? plannedOrganisationEpsilon(request.policies);
    const charge = await request.ledger!.chargeMeasures(request.consumer, release.measures, { consumer: policy.privacyBudget!.epsilonPerYear, organisation });
    if (!charge.ok) {
      throw new ExportRefused('BudgetExhausted', charge.refusedBy === 'organisation'
        ? `the organisation's privacy budget for the year (epsilon ${charge.limit} per person, across all consumers) is spent`
        : `${request.consumer}'s privacy budget for the year (epsilon ${charge.limit}) is spent`);
    }
    budget = { charged: charge.charged, spent: charge.spent, epsilon: policy.privacyBudget!.epsilonPerYear };
  }
  const { counts } = release;
  const rows = release.rows();
  await writeWhole(request.output, [cohortCsv(rows, plan)]);
  return { ...base, kind: 'cohort', cohorts: { ...counts, rowsIn: aggregate.rows }, noise: plan.noise !== undefined, ...(budget !== undefined ? { budget } : {}) };
}
