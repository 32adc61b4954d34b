/**
 * `policy test`: test cases kept beside the policies (`<dir>/tests/*.yaml|json`), each an input report and a
 * consumer with the expected outcome: denied, or the exact output. They run offline through the same decision
 * (`decide.ts`) and sanitiser the proxy uses. Pseudonyms come from a public test key, never from a real one,
 * so expected files can be committed and reviewed.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import type { FromSchema } from 'json-schema-to-ts';
import { aggregateCsvReport } from '../cohort/report-users.js';
import { cohortCsv } from '../cohort/render.js';
import type { CohortGrant } from '../cohort/cohort-releases.js';
import { organisationVerdict, periodSourcesOf, protectCohortTable, suppressesAlike, type PeriodSources } from '../cohort/release.js';
import { Directory, type DirectoryEntry } from '../cohort/directory.js';
import { findReport } from '../catalogue/catalogue.js';
import { isCalendarDate } from '../catalogue/odata.js';
import { sanitizeCsvReport } from '../sanitize/csv-report.js';
import { JsonItemSanitizer, pageItems } from '../sanitize/json-report.js';
import type { RowsPlan } from '../sanitize/plan.js';
import type { PseudonymKeyring } from '../sanitize/pseudonyms.js';
import { emptyStats, QuasiClasses } from '../sanitize/stats.js';
import { cohortGrantFor, decideReport, rowsPlanFor } from './decide.js';
import type { PolicySet } from './load.js';
import { PolicySyntaxError, readPolicySource, type PolicySource } from './source.js';
import { schemaProblems, type PolicyProblem } from './validate.js';

export const POLICY_TEST_SCHEMA = {
  type: 'object',
  properties: {
    /** What the case shows, in plain words. */
    description: { type: 'string', minLength: 1 },
    consumer: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' },
    report: { type: 'string', minLength: 1 },
    format: { type: 'string', enum: ['csv', 'json'] },
    period: { type: 'string', enum: ['D7', 'D30', 'D90', 'D180', 'ALL'] },
    date: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
    /** The report as Graph sends it (CSV file, or a JSON page `{ "value": [...] }`), relative to the case file. */
    input: { type: 'string', minLength: 1 },
    /** For cohort rules: the directory as Graph's /users sends it (`{ "value": [...] }`). */
    directory: { type: 'string', minLength: 1 },
    /**
     * For cohort rules of a report released for several periods (suppressed as one table): the same report over
     * each other period, by period (`{ D7: teams-d7.csv }`), relative to the case file.
     */
    periodInputs: { type: 'object', propertyNames: { enum: ['D7', 'D30', 'D90', 'D180', 'ALL'] }, additionalProperties: { type: 'string', minLength: 1 } },
    /** `denied`, or the file holding the exact expected output. */
    expect: {
      anyOf: [
        { type: 'string', const: 'denied' },
        { type: 'object', properties: { output: { type: 'string', minLength: 1 } }, required: ['output'], additionalProperties: false },
      ],
    },
  },
  required: ['description', 'consumer', 'report', 'format', 'expect'],
  additionalProperties: false,
} as const;

export type PolicyTestCase = FromSchema<typeof POLICY_TEST_SCHEMA>;

/** Compiled on first use: `serve` loads this module (activation runs the set's tests) but may never read a case. */
let validateCase: ValidateFunction<PolicyTestCase> | undefined;

export interface PolicyTestResult {
  readonly file: string;
  readonly description: string;
  readonly passed: boolean;
  /** Why it failed, or a readable diff (expected/actual). */
  readonly detail?: string;
  readonly updated?: boolean;
}

export interface PolicyTestRun {
  readonly results: PolicyTestResult[];
  /** Case files that are not valid cases (file:line:column). */
  readonly problems: PolicyProblem[];
}

/** The public pseudonym keys of test runs: derived from the key id, known to everyone, used nowhere else. */
export function testKeyring(set: PolicySet): PseudonymKeyring {
  const ids = set.policies.flatMap((p) => (p.policy.pseudonyms !== undefined ? [p.policy.pseudonyms.keyId] : []));
  return new Map(ids.map((id) => [id, createHash('sha256').update(`graph-privacy-proxy policy-test key ${id}`).digest()]));
}

async function caseFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(join(dir, 'tests'), { withFileTypes: true });
    return entries.filter((e) => e.isFile() && /\.(ya?ml|json)$/i.test(e.name)).map((e) => join(dir, 'tests', e.name)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Runs every case of `dir/tests` against a loaded policy set; with `update`, rewrites expected outputs. */
export async function runPolicyTests(dir: string, set: PolicySet, options: { update?: boolean } = {}): Promise<PolicyTestRun> {
  const results: PolicyTestResult[] = [];
  const problems: PolicyProblem[] = [];
  const keyring = testKeyring(set);
  for (const file of await caseFiles(dir)) {
    let source: PolicySource;
    try {
      source = readPolicySource(file, await readFile(file, 'utf8'));
    } catch (error) {
      if (!(error instanceof PolicySyntaxError)) throw error;
      problems.push({ file, position: error.position, path: '', message: error.reason });
      continue;
    }
    validateCase ??= new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile<PolicyTestCase>(POLICY_TEST_SCHEMA);
    if (!validateCase(source.value)) {
      problems.push(...schemaProblems(validateCase.errors ?? [], source, 'the test case'));
      continue;
    }
    const testCase = source.value;
    const report = findReport(testCase.report);
    const fail = (detail: string): PolicyTestResult => ({ file, description: testCase.description, passed: false, detail });
    if (report === undefined) {
      problems.push({ file, position: source.locate('/report'), path: '/report', message: `unknown report '${testCase.report}'` });
      continue;
    }
    if (testCase.date !== undefined && !isCalendarDate(testCase.date)) {
      problems.push({ file, position: source.locate('/date'), path: '/date', message: `'${testCase.date}' is not a calendar date` });
      continue;
    }
    const decision = decideReport(set.policyFor(testCase.consumer), {
      report, format: testCase.format,
      ...(testCase.period !== undefined ? { period: testCase.period } : {}), ...(testCase.date !== undefined ? { date: testCase.date } : {}),
    });
    if (testCase.expect === 'denied') {
      results.push(decision.kind === 'denied' ? { file, description: testCase.description, passed: true } : fail(`expected the request to be denied, but the policy releases ${decision.kind === 'rows' ? 'rows' : 'cohort aggregates'}`));
      continue;
    }
    if (decision.kind === 'denied') {
      results.push(fail(`expected output, but the request is denied: ${decision.reason}`));
      continue;
    }
    if (testCase.input === undefined) {
      problems.push({ file, position: source.locate('', 'value'), path: '', message: "a case that expects output needs an 'input' report" });
      continue;
    }
    const inputFile = resolve(dirname(file), testCase.input);
    const expectedFile = resolve(dirname(file), testCase.expect.output);
    let actual: string;
    /** Why a cohort output may have changed with no edit to its own policy. */
    let shared = '';
    try {
      const input = await readFile(inputFile);
      if (decision.kind === 'cohort') {
        if (testCase.directory === undefined) throw new Error("a cohort case needs a 'directory' fixture (Graph /users)");
        const directory = new Directory((JSON.parse(await readFile(resolve(dirname(file), testCase.directory), 'utf8')) as { value: DirectoryEntry[] }).value);
        const window = { ...(testCase.period !== undefined ? { period: testCase.period } : {}), ...(testCase.date !== undefined ? { date: testCase.date } : {}) };
        const grant = cohortGrantFor(decision, { report, ...window }, set);
        if (!suppressesAlike(grant.plan, grant.joint)) {
          const joint = grant.joint!;
          shared = `This release is suppressed within the organisation's table of ${report.name} (${joint.dimensions.map((d) => d.name).join(', ')} at k ${joint.k} and k_c ${joint.kC}, from every policy releasing it), so another policy's dimensions or k change it too; review the difference, then run 'policy test --update'. `;
        }
        const others = new Map(await Promise.all(Object.entries(testCase.periodInputs ?? {}).map(async ([period, name]) => {
          const bytes = await readFile(resolve(dirname(file), name));
          return [period, async function* () { yield bytes; }] as const;
        })));
        const periods = testCase.period === undefined ? undefined : periodSourcesOf(testCase.period, others, (period) => new Error(
          `${report.name}'s cohorts are released for several periods and suppressed as one table; give its ${period} report as 'periodInputs: { ${period}: <file> }'`,
        ));
        actual = await cohortText(input, grant, directory, testCase.period ?? testCase.date ?? '-', testCase.format, periods);
      } else {
        const plan = rowsPlanFor(decision, report, testCase.consumer, keyring);
        actual = testCase.format === 'csv' ? await sanitizeCsvText(input, plan) : sanitizeJsonText(input, plan);
      }
    } catch (error) {
      results.push(fail(`the input could not be sanitised: ${(error as Error).message}`));
      continue;
    }
    if (options.update === true) {
      // Only an output that changed is rewritten and reported as updated: the officer reviews those.
      const before = await readFile(expectedFile, 'utf8').catch(() => undefined);
      if (before !== actual) await writeFile(expectedFile, actual);
      results.push({ file, description: testCase.description, passed: true, ...(before !== actual ? { updated: true } : {}) });
      continue;
    }
    let expected: string;
    try {
      expected = await readFile(expectedFile, 'utf8');
    } catch {
      results.push(fail(`the expected output ${testCase.expect.output} cannot be read (write it with 'policy test --update', then review it)`));
      continue;
    }
    results.push(expected === actual ? { file, description: testCase.description, passed: true } : fail(`${shared}${lineDiff(expected, actual)}`));
  }
  return { results, problems };
}

/** The cohort output of a case: the proxy's one release function (cohort/release.ts), with the test noise key. */
async function cohortText(input: Buffer, grant: CohortGrant, directory: Directory, window: string, format: 'csv' | 'json', periods?: PeriodSources): Promise<string> {
  const { plan } = grant;
  const source = async function* () { yield input; };
  const aggregate = await aggregateCsvReport(source(), plan, directory);
  const rows = protectCohortTable(aggregate, plan, window, grant.cadence ?? 'daily', TEST_NOISE_KEY, await organisationVerdict(source, plan, grant.joint, directory, periods === undefined ? {} : { periods })).rows();
  return format === 'csv' ? cohortCsv(rows, plan) : `${JSON.stringify({ value: rows }, null, 2)}\n`;
}

/** The public noise key of test runs (as with pseudonyms, never a real one). */
export const TEST_NOISE_KEY = createHash('sha256').update('graph-privacy-proxy policy-test noise key').digest();

async function sanitizeCsvText(input: Buffer, plan: RowsPlan): Promise<string> {
  let out = '';
  for await (const piece of sanitizeCsvReport(async function* () { yield input; }, plan, emptyStats())) out += piece;
  return out;
}

function sanitizeJsonText(input: Buffer, plan: RowsPlan): string {
  const items = pageItems(JSON.parse(input.toString('utf8')));
  const classes = plan.hasQuasi ? new QuasiClasses(plan.k) : undefined;
  if (classes !== undefined) JsonItemSanitizer.count(plan, items, classes);
  return `${JSON.stringify({ value: new JsonItemSanitizer(plan, emptyStats(), classes).sanitize(items) }, null, 2)}\n`;
}

/**
 * A readable line diff: '-' lines only in the expected output, '+' lines only in the actual one, with line
 * numbers; at most `limit` lines shown. Line ends and the BOM are made visible, since they matter in CSV.
 */
export function lineDiff(expected: string, actual: string, limit = 20): string {
  const show = (line: string) => line.replace('\uFEFF', '<BOM>').replace(/\r$/, '<CR>');
  const a = expected.split('\n');
  const b = actual.split('\n');
  // Longest common subsequence over lines; reports are small in test cases (a few hundred lines).
  const n = a.length;
  const m = b.length;
  if (n * m > 4_000_000) return `outputs differ (expected ${n} lines, got ${m}); too large to diff`;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const lines: string[] = [];
  let i = 0;
  let j = 0;
  let changes = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      changes++;
      if (lines.length < limit) lines.push(`+ ${String(j + 1).padStart(4)} | ${show(b[j]!)}`);
      j++;
    } else {
      changes++;
      if (lines.length < limit) lines.push(`- ${String(i + 1).padStart(4)} | ${show(a[i]!)}`);
      i++;
    }
  }
  const more = changes > lines.length ? `\n  ... and ${changes - lines.length} more changed lines` : '';
  return `output differs from the expected file ('-' expected, '+' actual, with line numbers):\n${lines.map((l) => `  ${l}`).join('\n')}${more}`;
}
