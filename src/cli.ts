#!/usr/bin/env node
/**
 * Command line: `serve` runs the proxy from environment settings; `simulator` runs the simulated Graph tenant;
 * `demo` (npm start) runs the proxy in front of the simulator with demo keys; `policy check|explain` work on a
 * policy directory as the proxy would load it. The commands only parse arguments and call the modules.
 */
import './runtime-check.js';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { findReport, STANDARD_PERIODS, type Period } from './catalogue/catalogue.js';
import { PolicyLoadError } from './policy/load.js';
import { SanitizeError } from './sanitize/errors.js';
import { auditLogger } from './server/audit.js';
import { BudgetLedger } from './store/budget-ledger.js';
import { runPolicyTests } from './policy/test-cases.js';
import { noiseWarnings } from './policy/noise-lint.js';
import { periodWarnings } from './policy/period-lint.js';
import { lintRowReleases } from './policy/release-lint.js';
import { checkPseudonymKeys } from './policy/activation.js';
import { parseKeyring, PseudonymKeyError } from './sanitize/pseudonyms.js';
import { ConsumerKeys, hashConsumerKey, newConsumerKey } from './server/consumer-keys.js';
import { startProxy, type RunningProxy } from './server/proxy.js';
import { SERVE_VARIABLES, loadConfig } from './server/config.js';
import { selfSignedCertificate } from './server/tls.js';
import { isCalendarDate } from './catalogue/odata.js';
import { explainReport } from './policy/explain.js';
import { disclosureOf } from './policy/disclosure.js';
import { budgetPlan, describeBudgetPlan } from './policy/budget-plan.js';
import { diffPolicySets, diffSummary } from './policy/diff.js';
import { setWideChanges } from './policy/table-changes.js';
import { policyReference } from './policy/reference.js';
import { verifyHistory } from './policy/history.js';
import { readPolicyHistoryFile } from './store/policy-history.js';
import { StoreLockedError } from './store/file-lock.js';
import { StoreCorruptError } from './store/records.js';
import { loadPolicySet, type PolicySet } from './policy/load.js';
import type { ResolvedPolicy } from './policy/schema.js';
import { formatProblem } from './policy/validate.js';
import type { RunningSimulator, SimulatorOptions } from './simulator/server.js';

// What only some commands use (the simulator, previews, exports, Redis) is imported by those commands, so that
// `serve` starts without it (bench/proxy-rss.ts: the idle proxy's RSS).
const simulatorModule = () => import('./simulator/server.js');
const sampleReportsModule = () => import('./policy/sample-reports.js');

const USAGE = `Usage: graph-privacy-proxy <command> [options]

Commands:
  serve [--config <file>]
              Run the proxy. Settings come from a YAML/JSON file and environment variables (which win);
              secrets may be given as files:
${SERVE_VARIABLES.map(([name, meaning]) => `                ${name.padEnd(34)} ${meaning}`).join('\n')}
  simulator   Run the simulated Microsoft Graph tenant (token endpoint, usage reports, /users, download host).
  demo        The proxy (https://127.0.0.1:8443) in front of the simulator (ports 4010/4011), with the shipped
              policies, a self-signed certificate and printed demo keys (what 'npm start' runs).
  key new <consumer>
              Make a consumer API key: prints the key (give it to the tool, once) and the line to add to
              GPP_CONSUMER_KEYS or its file (only the key's SHA-256 digest is ever stored).
  sanitize --consumer <id> --input <export.csv> --output <released.csv> [--report <name>]
           [--period D7|D30|D90|D180 | --date YYYY-MM-DD] [--policies <dir>] [--directory <users.json>]
           [--period-input <period>=<export.csv> ...]
              Release an exported report (admin-center CSV export or Graph download) as the proxy would
              release it to that consumer, offline: the same policies and engine. The report and period are
              read from the file's columns (--report/--period name them when the file cannot). Pseudonym keys
              come from GPP_PSEUDONYM_KEYS[_FILE], noisy cohorts need GPP_NOISE_KEY[_FILE] and are charged
              to GPP_BUDGET_LEDGER_FILE (default data/budget-ledger.jsonl) within the organisation's yearly
              limit GPP_ORGANISATION_EPSILON_PER_YEAR (default: the set's planned total, as in the proxy).
              A report whose cohorts the set releases for several periods is one table with them: give the
              other periods' exports with --period-input (NeedsOtherPeriods without them).
              Writes one audit line to stderr;
              exits 3 when the policy or the budget refuses, 2 on a usage mistake, 1 when the input cannot
              be read or lacks what the release needs (a directory, other periods, the noise key); no file is
              written in any of these.
  policy check [dir] [--keys <id,...>] [--users <n>]
              Validate every policy in a directory (default: policies/) as the proxy would load it;
              lists every problem with file:line:column and exits 1 if there is any. Warns (exit 0) about
              released columns that single people out although they are not quasi-identifiers, measured on
              a simulated tenant of --users people (default 250). --keys: the pseudonym key ids the proxy
              holds; a policy naming another is a problem.
  policy test [dir] [--update]
              Run the test cases in <dir>/tests (input report + consumer -> expected output or 'denied')
              through the proxy's own engine; prints a line diff for each failure and exits 1 if any fails.
              --update rewrites the expected outputs (review them before committing).
  policy diff <old dir> <new dir>
              Per consumer and report, what the new set newly exposes ('+', listed first), newly hides ('-')
              and changes otherwise ('~'): reports, columns and their treatment, k/kC/kOrg, dimensions,
              periods, formats, single dates, noise and budget, permissions.
  policy explain <policy> <report> [dir]
              For each column of a report: what the named policy releases, and why; which k applies.
  policy preview [dir] [--users <n>] [--seed <s>] [--json]
              What the set would release, run through the proxy's own engine on a simulated tenant (default
              250 people, seed 1): per consumer and report, rows in/out/withheld, cohort cells released and
              suppressed by reason, 95% noise margins, and for row releases the re-identification risk over
              all released columns (unique rows, rows in classes below k, prosecutor risk).
  policy history [--file <path> | --redis <url> [--prefix <p>]] [--verify]
              Print every policy set that went live (version, time, changes, each file's hash) from the
              hash-chained history (default: GPP_REDIS_URL, else GPP_POLICY_HISTORY_FILE or
              policy-history.jsonl beside the budget ledger). --verify exits 1 if an entry was edited,
              removed or reordered.
  policy reference
              Print the policy reference (every setting, type, default, meaning, example) generated from
              the schema; policies/REFERENCE.md is this output.

Simulator options:
  --host <address>        Listen address (default 127.0.0.1)
  --port <n>              Graph host port (default 4010; 0 = any free port)
  --download-port <n>     Download host port (default 4011; 0 = any free port)
  --users <n>             Tenant size (default 250)
  --seed <text>           Seed for the tenant (default 1)
  --refresh-date <date>   Report refresh date YYYY-MM-DD (default: two days ago)
  --concealed <on|off>    Graph's "display concealed names" setting (default on, as in Graph)
  --canary                Every identifier carries a known marker (for leak tests)
  --no-graph-limits       Do not enforce Graph's 14 CSV / 100 JSON requests per report per 10 minutes
  --proxy-port <n>        (demo) Proxy port (default 8443; 0 = any free port)
`;

/** A mistake in the command line: one line, then exit code 2. */
class UsageError extends Error {}

/** A failure the user can fix (a missing directory, a busy port): one line, then exit code 1. */
class CliError extends Error {}

/** The project folder (cli.ts runs from src/ under tsx and from dist/ when built), for the shipped policies. */
const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Turns a listen error into a CliError naming the flag or setting that picks the busy port; `flags` maps each
 * port this command listens on to its flag. Anything else is rethrown.
 */
function explainPortInUse(error: unknown, flags: ReadonlyMap<number, string>): never {
  const e = error as NodeJS.ErrnoException & { port?: number; address?: string };
  if (e.code !== 'EADDRINUSE' && e.code !== 'EACCES') throw error;
  const flag = e.port === undefined ? undefined : flags.get(e.port);
  const what = e.code === 'EADDRINUSE' ? 'is already in use' : 'may not be opened by this user';
  throw new CliError(`Port ${e.port ?? '?'} on ${e.address ?? 'this host'} ${what}; ${flag !== undefined ? `choose another with ${flag}` : `choose others with ${[...new Set(flags.values())].join(', ')}`} (0 = any free port).`);
}

/** Checks that a policy directory exists before loading it, so a wrong working directory reads as one line. */
async function requirePolicyDir(dir: string, how: string): Promise<void> {
  const found = await stat(dir).catch(() => undefined);
  if (found?.isDirectory() === true) return;
  throw new CliError(`No policy directory at ${resolve(dir)}; ${how} (the shipped policies are in ${join(PACKAGE_ROOT, 'policies')}).`);
}

function whole(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not '${text}'.`);
  return n;
}

function simulatorOptions(args: string[], defaults: { concealed: boolean }): SimulatorOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'download-port': { type: 'string' },
      users: { type: 'string' },
      seed: { type: 'string' },
      'refresh-date': { type: 'string' },
      concealed: { type: 'string' },
      canary: { type: 'boolean' },
      'no-graph-limits': { type: 'boolean' },
    },
  });
  const refreshDate = values['refresh-date'];
  if (refreshDate !== undefined && !isCalendarDate(refreshDate)) throw new UsageError(`--refresh-date must be a date YYYY-MM-DD, not '${refreshDate}'.`);
  const concealed = values.concealed;
  if (concealed !== undefined && concealed !== 'on' && concealed !== 'off') throw new UsageError(`--concealed must be 'on' or 'off', not '${concealed}'.`);
  return {
    host: values.host ?? '127.0.0.1',
    port: whole('port', values.port, 4010, 0, 65535),
    downloadPort: whole('download-port', values['download-port'], 4011, 0, 65535),
    users: whole('users', values.users, 250, 1, 5_000_000),
    seed: values.seed ?? 1,
    ...(refreshDate !== undefined ? { refreshDate } : {}),
    concealedNames: concealed === undefined ? defaults.concealed : concealed === 'on',
    canary: values.canary === true,
    enforceGraphLimits: values['no-graph-limits'] !== true,
  };
}

/** The simulator's ports and the flags that choose them. */
function simulatorPorts(options: SimulatorOptions): Map<number, string> {
  return new Map<number, string>([[options.downloadPort ?? 4011, '--download-port'], [options.port ?? 4010, '--port']]);
}

/** The simulator's curl lines (a token, then a report), for the demo's own text. */
function simulatorTryIt(sim: RunningSimulator): string {
  const lines = describe(sim).split('\n');
  const start = lines.indexOf('Try it:') + 1;
  return lines.slice(start, start + 4).join('\n');
}

function describe(sim: RunningSimulator, caFile?: string): string {
  return `Simulated Microsoft Graph tenant: ${sim.tenant.size} users, reports refreshed ${sim.tenant.refreshDate}, concealed names ${sim.concealedNames ? 'on' : 'off'}
  Graph host:     ${sim.graphUrl}   (reports under /v1.0/reports and /beta/reports)
  Download host:  ${sim.downloadUrl}
  Token URL:      ${sim.tokenUrl}
  Client id:      ${sim.clientId}
  Client secret:  ${sim.clientSecret}   (a simulator credential, not a real one)
  Entra token URL: ${sim.entraTokenUrl}   (HTTPS, for Microsoft's library: GPP_TOKEN_URL)
${caFile !== undefined ? `  Authority CA:   ${caFile}   (trust it: NODE_EXTRA_CA_CERTS or GPP_AUTHORITY_CA_FILE)\n` : ''}
Try it:
  TOKEN=$(curl -s -X POST ${sim.tokenUrl} \\
    -d grant_type=client_credentials -d client_id=${sim.clientId} \\
    -d client_secret=${sim.clientSecret} -d scope=https://graph.microsoft.com/.default | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')
  curl -sL -H "Authorization: Bearer $TOKEN" "${sim.graphUrl}/v1.0/reports/getTeamsUserActivityUserDetail(period='D7')" | head -3
  curl -s -H "Authorization: Bearer $TOKEN" "${sim.graphUrl}/beta/reports/getEmailActivityCounts(period='D7')?\\$format=application/json"
  (curl -L follows Graph's 302 to the download host; note curl drops the Authorization header there, as Graph requires.)

Press Ctrl+C to stop.`;
}

function until(signals: NodeJS.Signals[]): Promise<void> {
  return new Promise((resolve) => {
    for (const signal of signals) process.once(signal, () => resolve());
  });
}

function keyCommand(args: string[]): number {
  const [sub, consumer] = args;
  if (sub !== 'new' || consumer === undefined || args.length !== 2) throw new UsageError('Usage: key new <consumer>');
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(consumer)) throw new UsageError(`A consumer id is lower-case letters, digits, '.', '_' or '-' (at most 64), not '${consumer}'.`);
  const key = newConsumerKey();
  process.stdout.write(`API key for ${consumer} (give it to the tool; it is not stored anywhere):\n  ${key}\nAdd this line to GPP_CONSUMER_KEYS (or its file):\n  ${consumer}=sha256:${hashConsumerKey(key)}\n`);
  return 0;
}

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { config: { type: 'string' } } });
  const result = loadConfig(process.env, values.config ?? process.env.GPP_CONFIG_FILE);
  if (!result.ok) {
    for (const problem of result.problems) process.stderr.write(`${problem}\n`);
    return 2;
  }
  await requirePolicyDir(result.settings.policiesDir, 'set GPP_POLICIES_DIR (or policiesDir in the config file), or start serve in the folder that holds policies/');
  const port = result.settings.port ?? 8443;
  const proxy = await startProxyOrExplain(() => startProxy(result.settings)).catch((error: unknown) => explainPortInUse(error, new Map([[port, 'GPP_PORT (or port in the config file)']])));
  if (proxy === undefined) return 1;
  process.stdout.write(`graph-privacy-proxy listening at ${proxy.url}, policy version ${proxy.policies.current.version}\n`);
  await until(['SIGINT', 'SIGTERM']);
  await proxy.close();
  return 0;
}

async function startProxyOrExplain(start: () => Promise<RunningProxy>): Promise<RunningProxy | undefined> {
  try {
    return await start();
  } catch (error) {
    if (error instanceof StoreCorruptError || error instanceof StoreLockedError) {
      process.stderr.write(`${(error as Error).message}\nThe proxy does not start.\n`);
      return undefined;
    }
    if (!(error instanceof PolicyLoadError)) throw error;
    for (const problem of error.problems) process.stderr.write(`${formatProblem(problem)}\n`);
    process.stderr.write('The policy set is invalid, so the proxy does not start (run policy check to see the same list).\n');
    return undefined;
  }
}

/**
 * The proxy in front of the simulated tenant, with demo keys, ready for curl within a minute. Works from any
 * working directory (the shipped policies are found next to the code); its certificate and state live in one
 * temporary folder that is removed when the demo stops.
 */
async function demo(args: string[]): Promise<number> {
  const at = args.indexOf('--proxy-port');
  const proxyPort = at === -1 ? 8443 : whole('proxy-port', args[at + 1], 8443, 0, 65535);
  const simulatorArgs = at === -1 ? args : [...args.slice(0, at), ...args.slice(at + 2)];
  const options = simulatorOptions(simulatorArgs, { concealed: false });
  const policiesDir = join(PACKAGE_ROOT, 'policies');
  await requirePolicyDir(policiesDir, 'the demo uses the policies shipped with the project');
  const { startSimulator } = await simulatorModule();
  const sim = await startSimulator(options).catch((error: unknown) => explainPortInUse(error, simulatorPorts(options)));
  const work = await mkdtemp(join(tmpdir(), 'graph-privacy-proxy-demo-'));
  const cleanUp = async () => {
    await sim.close();
    await rm(work, { recursive: true, force: true });
  };
  try {
    return await runDemo(sim, work, proxyPort, policiesDir, cleanUp);
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

async function runDemo(sim: RunningSimulator, work: string, proxyPort: number, policiesDir: string, cleanUp: () => Promise<void>): Promise<number> {
  const tls = await selfSignedCertificate();
  const certFile = join(work, 'certificate.pem');
  await writeFile(certFile, tls.cert);
  const keys = { 'licence-tool': newConsumerKey(), 'adoption-dashboard': newConsumerKey(), onboarding: newConsumerKey() };
  const metricsToken = randomBytes(24).toString('base64url');
  const proxy = await startProxyOrExplain(() =>
    startProxy({
      port: proxyPort,
      policiesDir,
      consumerKeys: ConsumerKeys.of(keys),
      pseudonymKeys: parseKeyring(`licence-tool=${randomBytes(32).toString('base64')}`),
      sealSecret: randomBytes(32),
      noiseKey: randomBytes(32),
      ledgerFile: join(work, 'budget-ledger.jsonl'),
      historyFile: join(work, 'score-history.jsonl'),
      policyHistoryFile: join(work, 'policy-history.jsonl'),
      tls,
      metricsToken,
      graph: {
        graphUrl: sim.graphUrl, downloadHosts: [`${sim.downloadUrl}/data/`], authorityCa: sim.authorityCa,
        credential: { kind: 'secret', tokenUrl: sim.entraTokenUrl, clientId: sim.clientId, clientSecret: sim.clientSecret },
      },
    }),
  ).catch((error: unknown) => explainPortInUse(error, new Map([[proxyPort, '--proxy-port']])));
  if (proxy === undefined) {
    await cleanUp();
    return 1;
  }
  const report = `${proxy.url}/v1.0/reports/getOffice365ActiveUserDetail(period='D30')`;
  process.stdout.write(`graph-privacy-proxy demo
  Proxy:           ${proxy.url}  (HTTPS, self-signed; certificate ${certFile})
  Fingerprint:     SHA-256 ${tls.fingerprint256}
  Policies:        ${policiesDir} (version ${proxy.policies.current.version}, hot-reloaded; a change goes live only if its tests pass)
  Policy history:  ${join(work, 'policy-history.jsonl')}   (policy history --file <it> --verify)
  Dashboard:       ${proxy.url}/   (the org score; open it in a browser, accept the certificate, and log in
                   with any user name and the adoption-dashboard key below as the password)
  Disclosure:      ${proxy.url}/disclosure.html   (what each tool can see)
  Simulated Graph: ${sim.graphUrl} (${sim.tenant.size} users, ${sim.concealedNames ? 'names concealed as you asked (--concealed on): cohorts by department or office answer 409' : 'names not concealed so you can see what is hidden'})

Demo consumer keys (valid until you stop the demo):
  licence-tool        ${keys['licence-tool']}   (pseudonymised licence rows)
  adoption-dashboard  ${keys['adoption-dashboard']}   (cohorts only)
  onboarding          ${keys.onboarding}   (denied everything)

Try it:
  KEY=${keys['licence-tool']}
  curl -sL --cacert ${certFile} -H "Authorization: Bearer $KEY" "${report}" | head -5
  curl -s --cacert ${certFile} -H "Authorization: Bearer $KEY" "${proxy.url}/beta/reports/getOffice365ActiveUserDetail(period='D30')?\\$format=application/json&\\$top=3"
  curl -s --cacert ${certFile} -H "Authorization: Bearer ${metricsToken}" "${proxy.url}/metrics" | head -5   (the metrics token)
  Compare with what Graph itself returns (the simulator, with names):
${simulatorTryIt(sim)}

Press Ctrl+C to stop.
`);
  await until(['SIGINT', 'SIGTERM']);
  await proxy.close();
  await cleanUp();
  return 0;
}

/** A secret given as a variable or as a file (`<NAME>_FILE`), as `serve` takes it. */
async function secretFromEnv(name: string): Promise<string | undefined> {
  const file = process.env[`${name}_FILE`];
  if (file !== undefined) {
    return (await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new CliError(`${name}_FILE: cannot read '${file}' (${error.code ?? error.message}).`);
    })).trim();
  }
  return process.env[name];
}

async function sanitizeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      consumer: { type: 'string' }, input: { type: 'string' }, output: { type: 'string' }, report: { type: 'string' },
      period: { type: 'string' }, date: { type: 'string' }, policies: { type: 'string' }, directory: { type: 'string' },
      'period-input': { type: 'string', multiple: true },
    },
  });
  if (positionals.length > 0) throw new UsageError(`sanitize takes only options; name the file with --input, not '${positionals[0]}'.`);
  for (const required of ['consumer', 'input', 'output'] as const) {
    if (values[required] === undefined) throw new UsageError(`sanitize needs --${required}: sanitize --consumer <id> --input <export.csv> --output <released.csv>.`);
  }
  const { consumer, input, output } = values as { consumer: string; input: string; output: string };
  if (values.period !== undefined && !(STANDARD_PERIODS as readonly string[]).concat('ALL').includes(values.period)) throw new UsageError(`--period must be D7, D30, D90, D180 or ALL, not '${values.period}'.`);
  if (values.date !== undefined && !isCalendarDate(values.date)) throw new UsageError(`--date must be a date YYYY-MM-DD, not '${values.date}'.`);
  if (values.date !== undefined && values.period !== undefined) throw new UsageError('give --period or --date, not both.');
  if (resolve(input) === resolve(output)) throw new UsageError('--output must not be the --input file.');
  const periodInputs = new Map<string, string>();
  for (const given of values['period-input'] ?? []) {
    const match = /^(D7|D30|D90|D180|ALL)=(.+)$/.exec(given);
    if (match === null) throw new UsageError(`--period-input must be <period>=<export.csv> with a period D7, D30, D90, D180 or ALL, not '${given}'.`);
    if (periodInputs.has(match[1]!)) throw new UsageError(`--period-input ${match[1]} is given twice.`);
    periodInputs.set(match[1]!, match[2]!);
  }
  const policiesDir = values.policies ?? 'policies';
  await requirePolicyDir(policiesDir, 'name it with --policies <dir>');
  const loaded = await loadPolicySet(policiesDir);
  if (!loaded.ok) throw new CliError(`The policy set in ${policiesDir} does not load; run 'policy check ${policiesDir}' to see why.`);
  let pseudonymKeys;
  try {
    pseudonymKeys = parseKeyring((await secretFromEnv('GPP_PSEUDONYM_KEYS')) ?? '');
  } catch (error) {
    throw new CliError(`GPP_PSEUDONYM_KEYS: ${(error as Error).message}`);
  }
  const noiseText = await secretFromEnv('GPP_NOISE_KEY');
  const noiseKey = noiseText === undefined ? undefined : Buffer.from(noiseText, 'base64');
  if (noiseKey !== undefined && noiseKey.length < 32) throw new CliError('GPP_NOISE_KEY must hold at least 32 bytes (base64).');
  const organisationText = process.env.GPP_ORGANISATION_EPSILON_PER_YEAR;
  const organisationEpsilonPerYear = organisationText === undefined || organisationText === '' ? undefined : Number(organisationText);
  if (organisationEpsilonPerYear !== undefined && !(organisationEpsilonPerYear > 0 && organisationEpsilonPerYear <= 1e6)) throw new CliError(`GPP_ORGANISATION_EPSILON_PER_YEAR must be a number above 0 (at most 1000000), not '${organisationText}'.`);
  const ledger = noiseKey === undefined ? undefined : await BudgetLedger.open(process.env.GPP_BUDGET_LEDGER_FILE ?? 'data/budget-ledger.jsonl');
  // The audit line goes to stderr, so stdout stays free and the released file is the only output.
  const audit = auditLogger({}, pino.destination({ fd: 2, sync: true }));
  const request = { consumer, ...(values.report !== undefined ? { report: values.report } : {}), ...(values.period !== undefined ? { period: values.period } : {}), ...(values.date !== undefined ? { date: values.date } : {}) };
  const { ExportRefused, releaseExport } = await import('./sanitize-export.js');
  try {
    const release = await releaseExport({
      input, output, consumer, policies: loaded.set, pseudonymKeys,
      ...(values.report !== undefined ? { report: values.report } : {}),
      ...(values.period !== undefined ? { period: values.period as Period } : {}),
      ...(values.date !== undefined ? { date: values.date } : {}),
      ...(values.directory !== undefined ? { directoryFile: values.directory } : {}),
      ...(periodInputs.size > 0 ? { periodInputs } : {}),
      ...(noiseKey !== undefined ? { noiseKey } : {}),
      ...(ledger !== undefined ? { ledger } : {}),
      ...(organisationEpsilonPerYear !== undefined ? { organisationEpsilonPerYear } : {}),
    });
    audit.info({ command: 'sanitize', audit: release, complete: true }, 'release');
    return 0;
  } catch (error) {
    const code = error instanceof ExportRefused ? error.code : error instanceof SanitizeError ? error.code : error instanceof PseudonymKeyError ? 'PseudonymKeyMissing' : undefined;
    if (code === undefined) throw error;
    audit.info({ command: 'sanitize', audit: { ...request, error: code }, complete: false }, 'refused');
    process.stderr.write(`sanitize: ${(error as Error).message.replace(/\.$/, '')}; nothing was written.\n`);
    return error instanceof ExportRefused && (error.code === 'Denied' || error.code === 'BudgetExhausted') ? 3 : 1;
  } finally {
    await ledger?.close();
  }
}

async function policyCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'check') {
    const { values, positionals } = parseArgs({ args: rest, strict: true, allowPositionals: true, options: { keys: { type: 'string' }, users: { type: 'string' } } });
    if (positionals.length <= 1) {
      const keys = values.keys === undefined ? undefined : values.keys.split(',').map((k) => k.trim()).filter((k) => k !== '');
      return policyCheck(positionals[0] ?? 'policies', { ...(keys !== undefined ? { keys } : {}), users: whole('users', values.users, 250, 1, 100_000) });
    }
  }
  if (sub === 'test') {
    const update = rest.includes('--update');
    const dirs = rest.filter((a) => a !== '--update');
    if (dirs.length <= 1 && !dirs.some((d) => d.startsWith('-'))) return policyTest(dirs[0] ?? 'policies', update);
  }
  if (sub === 'history') {
    const { values, positionals } = parseArgs({ args: rest, strict: true, allowPositionals: true, options: { file: { type: 'string' }, redis: { type: 'string' }, prefix: { type: 'string' }, verify: { type: 'boolean' } } });
    if (positionals.length === 0) return policyHistory({ ...values, verify: values.verify === true });
  }
  if (sub === 'preview') {
    const { values, positionals } = parseArgs({ args: rest, strict: true, allowPositionals: true, options: { users: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' } } });
    if (positionals.length <= 1) return policyPreview(positionals[0] ?? 'policies', { users: whole('users', values.users, 250, 1, 100_000), seed: values.seed ?? '1', json: values.json === true });
  }
  if (sub === 'reference' && rest.length === 0) {
    process.stdout.write(policyReference());
    return 0;
  }
  if (sub === 'diff' && rest.length === 2) return policyDiff(rest[0]!, rest[1]!);
  if (sub === 'explain' && (rest.length === 2 || rest.length === 3)) return policyExplain(rest[0]!, rest[1]!, rest[2] ?? 'policies');
  if (sub === 'explain') throw new UsageError('policy explain needs a policy and a report: policy explain <policy> <report> [dir], e.g. policy explain licence-management getOffice365ActiveUserDetail.');
  throw new UsageError('Usage: policy check [dir] [--keys <ids>] | policy test [dir] [--update] | policy diff <old> <new> | policy history [--verify] | policy reference | policy explain <policy> <report> [dir]');
}

async function policyCheck(dir: string, options: { keys?: readonly string[]; users: number }): Promise<number> {
  await requirePolicyDir(dir, 'name it: policy check <dir>');
  const result = await loadPolicySet(dir);
  if (!result.ok) {
    for (const problem of result.problems) process.stderr.write(`${formatProblem(problem)}\n`);
    process.stderr.write(`${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}; the set would not load.\n`);
    return 1;
  }
  const { set } = result;
  if (options.keys !== undefined) {
    const missing = checkPseudonymKeys(set, new Set(options.keys));
    if (missing.length > 0) {
      for (const problem of missing) process.stderr.write(`${formatProblem(problem)}\n`);
      process.stderr.write(`${missing.length} problem${missing.length === 1 ? '' : 's'}; the proxy would refuse this set.\n`);
      return 1;
    }
  }
  process.stdout.write(`${dir}: ${set.policies.length} polic${set.policies.length === 1 ? 'y' : 'ies'} valid, version ${set.version}\n`);
  for (const { policy } of set.policies) process.stdout.write(`  ${policy.name}: consumers ${policy.consumers.join(', ')}\n`);
  const budget = describeBudgetPlan(budgetPlan(set.policies.map((p) => p.policy)));
  for (const line of budget.lines) process.stdout.write(`  ${line}\n`);
  const { SampleReports } = await sampleReportsModule();
  const warnings = [...noiseWarnings(set), ...periodWarnings(set), ...(await lintRowReleases(set, new SampleReports({ users: options.users })))];
  for (const warning of warnings) process.stderr.write(`${formatProblem(warning)}\n`);
  for (const warning of budget.warnings) process.stderr.write(`${dir}: warning: ${warning}\n`);
  const count = warnings.length + budget.warnings.length;
  if (count > 0) process.stderr.write(`${count} warning${count === 1 ? '' : 's'} (the set loads; read them before it goes live).\n`);
  return 0;
}

async function policyTest(dir: string, update: boolean): Promise<number> {
  await requirePolicyDir(dir, 'name it: policy test <dir>');
  const loaded = await loadPolicySet(dir);
  if (!loaded.ok) {
    process.stderr.write(`The policy set in ${dir} does not load; run 'policy check ${dir}' to see why.\n`);
    return 1;
  }
  const { results, problems } = await runPolicyTests(dir, loaded.set, { update });
  for (const problem of problems) process.stderr.write(`${formatProblem(problem)}\n`);
  for (const r of results) {
    const mark = r.updated === true ? 'updated' : r.passed ? 'pass' : 'FAIL';
    process.stdout.write(`${mark.padEnd(7)} ${shownPath(r.file)}: ${r.description}\n`);
    if (!r.passed && r.detail !== undefined) process.stdout.write(`${r.detail.split('\n').map((l) => `        ${l}`).join('\n')}\n`);
  }
  const failed = results.filter((r) => !r.passed).length;
  process.stdout.write(`${results.length} case${results.length === 1 ? '' : 's'}, ${failed} failed${problems.length > 0 ? `, ${problems.length} case file problem${problems.length === 1 ? '' : 's'}` : ''}${update ? updatedNote(results.filter((r) => r.updated === true).length) : ''}\n`);
  if (results.length === 0 && problems.length === 0) process.stdout.write(`No test cases in ${join(dir, 'tests')}.\n`);
  return failed > 0 || problems.length > 0 ? 1 : 0;
}

/** A file as a person finds it: relative to the working directory when inside it, else absolute (not '../../tmp/...'). */
function shownPath(file: string): string {
  const inside = relative(process.cwd(), file);
  return inside.startsWith('..') || isAbsolute(inside) ? file : inside;
}

/** What `policy test --update` rewrote: only the expected outputs that changed. */
function updatedNote(updated: number): string {
  return updated === 0 ? ' (no expected output changed)' : ` (${updated} expected output${updated === 1 ? '' : 's'} rewritten: review ${updated === 1 ? 'it' : 'them'} before committing)`;
}

async function policyDiff(oldDir: string, newDir: string): Promise<number> {
  const [before, after] = await Promise.all([loadPolicySet(oldDir), loadPolicySet(newDir)]);
  for (const [dir, result] of [[oldDir, before], [newDir, after]] as const) {
    if (!result.ok) {
      process.stderr.write(`The policy set in ${dir} does not load; run 'policy check ${dir}' to see why.\n`);
      return 1;
    }
  }
  if (!before.ok || !after.ok) return 1;
  const summary = diffSummary([...diffPolicySets(before.set, after.set), ...setWideChanges(before.set, after.set)]);
  process.stdout.write(`${oldDir} (version ${before.set.version}) -> ${newDir} (version ${after.set.version}): ${summary.more} exposure increase${summary.more === 1 ? '' : 's'}, ${summary.less} decrease${summary.less === 1 ? '' : 's'}, ${summary.changed} other change${summary.changed === 1 ? '' : 's'}\n`);
  for (const line of summary.lines) process.stdout.write(`  ${line}\n`);
  return 0;
}

async function policyPreview(dir: string, options: { users: number; seed: string; json: boolean }): Promise<number> {
  const result = await loadPolicySet(dir);
  if (!result.ok) {
    process.stderr.write(`The policy set in ${dir} does not load; run 'policy check ${dir}' to see why.\n`);
    return 1;
  }
  const [{ SampleReports }, { formatPreview, previewPolicySet, simulatedData }] = await Promise.all([sampleReportsModule(), import('./policy/preview.js')]);
  const preview = await previewPolicySet(result.set, simulatedData(new SampleReports({ users: options.users, seed: /^\d+$/.test(options.seed) ? Number(options.seed) : options.seed })));
  process.stdout.write(options.json ? `${JSON.stringify(preview, null, 2)}\n` : `Preview of ${dir} (version ${preview.version}) on ${preview.data}\n${formatPreview(preview)}`);
  return 0;
}

/**
 * Prints the policy history (from GPP_REDIS_URL / --redis, else --file / GPP_POLICY_HISTORY_FILE / the default
 * beside the ledger); with --verify, checks the chain and exits 1 on any break.
 */
async function policyHistory(options: { file?: string; redis?: string; prefix?: string; verify: boolean }): Promise<number> {
  const redisUrl = options.redis ?? (options.file === undefined ? process.env.GPP_REDIS_URL : undefined);
  let lines: string[];
  let where: string;
  if (redisUrl !== undefined && redisUrl !== '') {
    const { RedisStore } = await import('./store/redis-store.js');
    const store = await RedisStore.connect(redisUrl, options.prefix ?? process.env.GPP_REDIS_PREFIX ?? 'gpp');
    try {
      lines = await store.policyHistory.lines();
    } finally {
      await store.close();
    }
    where = `Redis (prefix ${options.prefix ?? process.env.GPP_REDIS_PREFIX ?? 'gpp'})`;
  } else {
    const file = options.file ?? process.env.GPP_POLICY_HISTORY_FILE ?? join(dirname(process.env.GPP_BUDGET_LEDGER_FILE ?? 'data/budget-ledger.jsonl'), 'policy-history.jsonl');
    try {
      lines = await readPolicyHistoryFile(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      process.stderr.write(`No policy history at ${file} (it is written by a running proxy with a store).\n`);
      return 1;
    }
    where = file;
  }
  const verification = verifyHistory(lines);
  for (const e of verification.entries) {
    process.stdout.write(`#${e.seq} ${e.at} version ${e.version} (+${e.changes.more} -${e.changes.less} ~${e.changes.changed}) hash ${e.hash}\n`);
    process.stdout.write(`    files: ${e.files.map((f) => `${f.name} sha256:${f.sha256.slice(0, 16)}`).join(', ')}\n`);
    for (const line of e.changes.lines) process.stdout.write(`    ${line}\n`);
  }
  if (!options.verify) {
    process.stdout.write(`${verification.entries.length} entr${verification.entries.length === 1 ? 'y' : 'ies'} in ${where}.\n`);
    return 0;
  }
  if (verification.ok) {
    const last = verification.entries.at(-1);
    process.stdout.write(`Verified: ${verification.entries.length} entr${verification.entries.length === 1 ? 'y' : 'ies'} in ${where}, chain intact${last !== undefined ? `; newest hash ${last.hash} (keep a copy elsewhere to detect removal of the newest entries)` : ''}.\n`);
    return 0;
  }
  for (const problem of verification.problems) process.stderr.write(`${problem}\n`);
  process.stderr.write(`The policy history in ${where} has been tampered with (${verification.problems.length} problem${verification.problems.length === 1 ? '' : 's'}).\n`);
  return 1;
}

/**
 * Where the report's cohorts are suppressed within a larger organisation table (policy/disclosure.ts sharedTable:
 * other tools' dimensions and k, the report's other periods, the score's linked categories at k_org): what is
 * then served, which the policy's own k and k_c alone do not say.
 */
function sharedTableLines(set: PolicySet, policy: ResolvedPolicy, report: string): string[] {
  const name = findReport(report)?.name;
  const disclosed = disclosureOf(set).consumers.find((c) => c.policy === policy.name)?.reports.find((r) => r.report === name);
  if (disclosed?.kind !== 'cohorts') return [];
  return (disclosed.sharedTable ?? []).map((table) => {
    const withWhat = [
      ...(table.withScore.length > 0 ? [`the org score's ${table.withScore.join(', ')}`] : []),
      ...(table.withPeriods.length > 0 ? [`the periods ${table.withPeriods.join(', ')} (they nest)`] : []),
      'whatever other policies release of this report',
    ];
    const raised = [...(table.k > policy.k ? [`k from ${policy.k} to ${table.k}`] : []), ...(table.kC > policy.kC ? [`k_c from ${policy.kC} to ${table.kC}`] : [])];
    return `  served within a shared table for ${table.periods.join(', ')}: its groups are suppressed as one table with ${withWhat.join(', ')}, grouped by ${table.groupedBy.join(', ')}: a group of fewer than ${table.k} people, or with fewer than ${table.kC} active or 1 to ${table.kC - 1} inactive people, is hidden${raised.length > 0 ? ` (this table raises the policy's own ${raised.join(' and ')}: the k lines above understate what is hidden)` : ''}`;
  });
}

async function policyExplain(policyName: string, report: string, dir: string): Promise<number> {
  await requirePolicyDir(dir, 'name it: policy explain <policy> <report> <dir>');
  const result = await loadPolicySet(dir);
  if (!result.ok) {
    process.stderr.write(`The policy set in ${dir} does not load; run 'policy check ${dir}' to see why.\n`);
    return 1;
  }
  const loaded = result.set.policies.find((p) => p.policy.name === policyName);
  if (loaded === undefined) {
    process.stderr.write(`No policy named '${policyName}' in ${dir}; there are: ${result.set.policies.map((p) => p.policy.name).join(', ')}.\n`);
    return 1;
  }
  try {
    process.stdout.write(`${[...explainReport(loaded.policy, report), ...sharedTableLines(result.set, loaded.policy, report)].join('\n')}\n`);
    const budget = describeBudgetPlan(budgetPlan(result.set.policies.map((p) => p.policy)));
    process.stdout.write(`${[...budget.lines, ...budget.warnings.map((w) => `warning: ${w}`)].map((l) => `  ${l}`).join('\n')}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === 'policy') return policyCommand(rest);
  if (command === 'sanitize') return sanitizeCommand(rest);
  if (command === 'serve') return serve(rest);
  if (command === 'key') return keyCommand(rest);
  if (command === 'demo') return demo(rest);
  if (command !== 'simulator') throw new UsageError(`Unknown command '${command}'.`);
  const options = simulatorOptions(rest, { concealed: true });
  const { startSimulator } = await simulatorModule();
  const sim = await startSimulator(options).catch((error: unknown) => explainPortInUse(error, simulatorPorts(options)));
  // The login host's certificate, for clients that must trust it; removed when the simulator stops.
  const work = await mkdtemp(join(tmpdir(), 'graph-privacy-proxy-simulator-'));
  const caFile = join(work, 'authority-ca.pem');
  await writeFile(caFile, sim.authorityCa);
  process.stdout.write(`${describe(sim, caFile)}\n`);
  await until(['SIGINT', 'SIGTERM']);
  await sim.close();
  await rm(work, { recursive: true, force: true });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Every failure is one line: what went wrong and which flag or setting fixes it. A stack trace helps only
    // a developer, who asks for it with GPP_DEBUG=1.
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`${error.message} ('graph-privacy-proxy --help' lists the commands and options.)\n`);
      process.exit(2);
    }
    const message = error instanceof CliError ? error.message : `graph-privacy-proxy failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
    process.stderr.write(`${message}\n`);
    if (process.env.GPP_DEBUG === '1' && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  },
);
