/**
 * Load with faults, shared by the fault-matrix test, the short soak test and `bench/soak.ts`: consumers run a
 * fixed mix of operations against a running proxy while the simulated tenant's fault switches change, and
 * every answer is judged against the answer the same operation got with no fault switched on.
 *
 * The proxy's answers are canonical (the same request gives the same bytes, G13), so a 200 under a fault must
 * be byte-identical to the baseline: anything else is a partial or altered answer that looks valid, the one
 * outcome that must never happen. Any other answer must be a Graph-shaped error (429 and 503 with
 * Retry-After), or a transfer the consumer sees break off. Every byte received is also scanned for the
 * tenant's identifiers, whatever its status.
 */
import { request } from 'undici';
import type { SimulatorFaults } from '../../src/simulator/server.js';
import { KEYS, type ProxyUnderTest } from './proxy-stack.js';

/** One answer as a consumer sees it: the final status and every byte of the body (all pages, the download). */
export interface Outcome {
  readonly status: number;
  readonly body: string;
  /** What is compared with the baseline when it is not `body` (sealed cursors differ on every answer). */
  readonly canonical?: string;
  readonly retryAfter?: string | undefined;
  /** Every response header received on the way (the 302's too), one per line, scanned for leaks like the body. */
  readonly headers?: string;
  /** Set when the transfer broke off (the consumer sees a failure, never a short body). */
  readonly transportError?: string;
}

export interface Operation {
  readonly name: string;
  run(target: ProxyUnderTest): Promise<Outcome>;
}

async function guarded(run: () => Promise<Outcome>): Promise<Outcome> {
  try {
    return await run();
  } catch (error) {
    return { status: 0, body: '', transportError: (error as { code?: string }).code ?? (error as Error).name };
  }
}

type Answer = Awaited<ReturnType<ProxyUnderTest['get']>>;

const headerLines = (res: Answer) => Object.entries(res.headers).map(([name, value]) => `${name}: ${String(value)}`).join('\n');

function outcomeOf(res: Answer, before = ''): Outcome {
  return { status: res.status, body: res.body.toString('utf8'), retryAfter: res.headers['retry-after'] as string | undefined, headers: `${before}${headerLines(res)}` };
}

/** A plain GET. */
export function getOperation(name: string, path: string, key: string): Operation {
  return { name, run: (target) => guarded(async () => outcomeOf(await target.get(path, key))) };
}

/** A CSV report: the 302 and the download behind it (without Authorization, as Graph clients do). */
export function csvOperation(name: string, path: string, key: string): Operation {
  return {
    name,
    run: (target) =>
      guarded(async () => {
        const first = await target.get(path, key);
        return first.status === 302 ? outcomeOf(await target.get(String(first.headers.location)), `${headerLines(first)}\n`) : outcomeOf(first);
      }),
  };
}

/** A JSON report through every nextLink; a failed page is the outcome (with the pages before it). */
export function jsonPagesOperation(name: string, path: string, key: string): Operation {
  return {
    name,
    run: (target) =>
      guarded(async () => {
        const pages: string[] = [];
        const headers: string[] = [];
        const canonical: string[] = [];
        let url: string | undefined = path;
        while (url !== undefined) {
          const res = await target.get(url, key);
          const text = res.body.toString('utf8');
          pages.push(text);
          headers.push(headerLines(res));
          if (res.status !== 200) return { ...outcomeOf(res), body: pages.join('\n'), headers: headers.join('\n') };
          const page = JSON.parse(text) as { '@odata.nextLink'?: string };
          url = page['@odata.nextLink'];
          // The cursor in a nextLink is sealed with a fresh nonce each time; everything else must be identical.
          canonical.push(JSON.stringify({ ...page, ...(url !== undefined ? { '@odata.nextLink': 'next' } : {}) }));
          if (pages.length > 1000) throw new Error('nextLink loop');
        }
        return { status: 200, body: pages.join('\n'), canonical: canonical.join('\n'), headers: headers.join('\n') };
      }),
  };
}

/** The shipped policies' consumers doing what they are allowed to, and being refused what they are not. */
export function standardOperations(options: { score?: boolean } = {}): Operation[] {
  return [
    csvOperation('licence CSV rows', "/v1.0/reports/getOffice365ActiveUserDetail(period='D30')", KEYS.licence),
    jsonPagesOperation('licence JSON pages', "/beta/reports/getOffice365ActiveUserDetail(period='D30')?$format=application/json&$top=40", KEYS.licence),
    jsonPagesOperation('vendor cohorts at the report URL', "/beta/reports/getTeamsUserActivityUserDetail(period='D30')?$format=application/json", KEYS.vendor),
    getOperation('vendor cohorts CSV', '/cohorts/getEmailActivityUserDetail?period=D30&format=csv', KEYS.vendor),
    ...(options.score === false ? [] : [getOperation('vendor org score', '/org-score?period=D30', KEYS.vendor)]),
    csvOperation('onboarding refused', "/v1.0/reports/getOffice365ActiveUserDetail(period='D30')", KEYS.onboarding),
    getOperation('wrong key refused', "/beta/reports/getOffice365ActiveUserDetail(period='D30')?$format=application/json", 'gpp_not-a-key'),
  ];
}

/** What must never appear in anything a consumer receives. */
export interface TenantSecrets {
  /** Strings contained in every identifier of a canary tenant, its name, id and domain. */
  readonly markers: readonly string[];
  /** Graph's download host: its links must never reach a consumer. */
  readonly downloadUrl: string;
}

const LEAK_PATTERNS = [
  /[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}/i, // e-mail addresses (UPNs)
  /(?<![0-9a-z_-])[0-9a-f]{32}(?![0-9a-z_-])/i, // concealed user ids
  /eyJ[A-Za-z0-9_-]{10,}\.eyJ/, // JWTs (Graph's access and download tokens)
];

/** Lines of `body` that carry an identifier, a Graph token or Graph's download host. */
export function leakedLines(body: string, secrets: TenantSecrets): number {
  let leaked = 0;
  for (const line of body.split('\n')) {
    const lower = line.toLowerCase();
    const carries = (secret: string) => secret.length > 0 && lower.includes(secret.toLowerCase());
    if (secrets.markers.some(carries) || carries(secrets.downloadUrl) || LEAK_PATTERNS.some((p) => p.test(line))) leaked++;
  }
  return leaked;
}

export type Verdict =
  | { readonly kind: 'ok' }
  /** A clean failure the consumer can see: `${status} ${code}` or `aborted (${error})`. */
  | { readonly kind: 'failure'; readonly name: string }
  /** Something that must never happen: an answer that differs from the baseline without being a clean failure. */
  | { readonly kind: 'defect'; readonly name: string };

function graphErrorCode(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    return typeof parsed.error?.code === 'string' && typeof parsed.error.message === 'string' ? parsed.error.code : undefined;
  } catch {
    return undefined;
  }
}

/** Judges an outcome against the same operation's fault-free baseline. */
export function judge(outcome: Outcome, baseline: Outcome): Verdict {
  if (outcome.transportError !== undefined) return { kind: 'failure', name: `aborted (${outcome.transportError})` };
  if (outcome.status === baseline.status) {
    if (outcome.status === 200) {
      return (outcome.canonical ?? outcome.body) === (baseline.canonical ?? baseline.body) ? { kind: 'ok' } : { kind: 'defect', name: '200 with different bytes' };
    }
    return graphErrorCode(outcome.body) === graphErrorCode(baseline.body) ? { kind: 'ok' } : { kind: 'defect', name: `${outcome.status} with another error` };
  }
  // A refusal must stay a refusal whatever Graph does; a fault may only turn an answer into a failure.
  if (baseline.status !== 200 || outcome.status < 400) return { kind: 'defect', name: `${outcome.status} where the baseline was ${baseline.status}` };
  const code = graphErrorCode(outcome.body.slice(outcome.body.lastIndexOf('\n') + 1));
  if (code === undefined) return { kind: 'defect', name: `${outcome.status} without a Graph error body` };
  if ((outcome.status === 429 || outcome.status === 503) && !/^\d+$/.test(outcome.retryAfter ?? '')) return { kind: 'defect', name: `${outcome.status} without Retry-After` };
  return { kind: 'failure', name: `${outcome.status} ${code}` };
}

export interface LoadReport {
  requests: number;
  ok: number;
  /** Clean failures by kind. */
  failures: Record<string, number>;
  /** Never-allowed outcomes by kind, with the operation that produced them. */
  defects: Record<string, number>;
  leakedLines: number;
  latenciesMs: number[];
}

export function emptyReport(): LoadReport {
  return { requests: 0, ok: 0, failures: {}, defects: {}, leakedLines: 0, latenciesMs: [] };
}

/** Each operation once, with no fault on: the answers everything under load is judged against. */
export async function baselines(target: ProxyUnderTest, operations: readonly Operation[]): Promise<Outcome[]> {
  const answers: Outcome[] = [];
  for (const operation of operations) answers.push(await operation.run(target));
  return answers;
}

export interface LoadOptions {
  readonly target: ProxyUnderTest;
  readonly operations: readonly Operation[];
  readonly baselines: readonly Outcome[];
  readonly secrets: TenantSecrets;
  readonly consumers: number;
  /** Each consumer stops after this many operations, or at `until`, whichever comes first. */
  readonly perConsumer?: number;
  readonly until?: number;
}

/** `consumers` concurrent consumers, each going through the operations in turn from its own starting point. */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const report = emptyReport();
  const { operations } = options;
  const perConsumer = options.perConsumer ?? Number.POSITIVE_INFINITY;
  const until = options.until ?? Number.POSITIVE_INFINITY;
  async function consumer(index: number): Promise<void> {
    for (let n = 0; n < perConsumer && Date.now() < until; n++) {
      const i = (index + n) % operations.length;
      const started = performance.now();
      const outcome = await operations[i]!.run(options.target);
      report.latenciesMs.push(performance.now() - started);
      report.requests++;
      report.leakedLines += leakedLines(outcome.body, options.secrets) + leakedLines(outcome.headers ?? '', options.secrets);
      const verdict = judge(outcome, options.baselines[i]!);
      if (verdict.kind === 'ok') report.ok++;
      else if (verdict.kind === 'failure') report.failures[verdict.name] = (report.failures[verdict.name] ?? 0) + 1;
      else report.defects[`${operations[i]!.name}: ${verdict.name}`] = (report.defects[`${operations[i]!.name}: ${verdict.name}`] ?? 0) + 1;
    }
  }
  await Promise.all(Array.from({ length: options.consumers }, (_, i) => consumer(i)));
  return report;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The simulated tenant's fault switches over HTTP, so a simulator in another process can be driven too. */
export class FaultSwitch {
  constructor(private readonly graphUrl: string) {}

  async set(faults: SimulatorFaults): Promise<void> {
    const res = await request(`${this.graphUrl}/_simulator/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(faults) });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`the simulator refused the fault switch (${res.statusCode})`);
  }

  async expireTokens(): Promise<void> {
    const res = await request(`${this.graphUrl}/_simulator/expire-tokens`, { method: 'POST' });
    await res.body.dump();
  }
}

/** One fault condition: switches set for its duration, tokens optionally expired over and over. */
export interface FaultPhase {
  readonly name: string;
  readonly faults: SimulatorFaults;
  readonly expireTokensEveryMs?: number;
  /** The clean failures this fault may cause (none: every answer must be the baseline's). */
  readonly mayFail: readonly string[];
}

/**
 * The fault matrix of the reliability issue. `firstByteTimeoutMs` is the proxy's; `foreignUrl` a server
 * outside the allow-list.
 */
export function faultPhases(tenant: { graphUrl: string; downloadUrl: string }, firstByteTimeoutMs: number, foreignUrl: string): FaultPhase[] {
  const report = "/v1.0/reports/getOffice365ActiveUserDetail(period='D30')?$format=text/csv";
  return [
    { name: 'no fault', faults: {}, mayFail: [] },
    { name: 'a few 429s', faults: { throttle: { remaining: 3, retryAfterSeconds: 1 } }, mayFail: [] },
    { name: '429 storm', faults: { throttle: { remaining: 1_000_000, retryAfterSeconds: 1 } }, mayFail: ['429 TooManyRequests'] },
    { name: 'a few 503s', faults: { unavailable: { remaining: 3, retryAfterSeconds: 1 } }, mayFail: [] },
    { name: '503 storm', faults: { unavailable: { remaining: 1_000_000 } }, mayFail: ['503 ServiceUnavailable'] },
    { name: 'slow first byte within the timeout', faults: { slowFirstByteMs: Math.floor(firstByteTimeoutMs / 4) }, mayFail: [] },
    { name: 'slow first byte past the timeout', faults: { slowFirstByteMs: firstByteTimeoutMs + 500 }, mayFail: ['504 GatewayTimeout'] },
    { name: 'truncated body', faults: { truncateAfterRows: 25 }, mayFail: ['502 BadGateway'] },
    { name: 'malformed row', faults: { malformedRowAt: 10 }, mayFail: ['502 BadGateway'] },
    { name: 'unknown column', faults: { extraColumn: true }, mayFail: [] },
    { name: 'tokens expiring', faults: {}, expireTokensEveryMs: 300, mayFail: [] },
    { name: 'redirect to a foreign host', faults: { redirectLocation: `${foreignUrl}/data/v1.0/download?token=x` }, mayFail: ['502 BadGateway'] },
    { name: 'redirect to link-local metadata', faults: { redirectLocation: 'http://169.254.169.254/latest/meta-data/' }, mayFail: ['502 BadGateway'] },
    { name: 'redirect back to Graph', faults: { redirectLocation: `${tenant.graphUrl}${report}` }, mayFail: ['502 BadGateway'] },
    { name: 'download host redirect loop', faults: { downloadRedirectLocation: `${tenant.downloadUrl}/data/v1.0/download?token=loop` }, mayFail: ['502 BadGateway'] },
  ];
}

export interface SoakOptions extends Omit<LoadOptions, 'perConsumer' | 'until'> {
  readonly durationMs: number;
  /** Cycled through in order, each for `phaseMs`, until the soak ends; then every switch goes off. */
  readonly phases: readonly FaultPhase[];
  readonly phaseMs: number;
  readonly switches: FaultSwitch;
  /** Fault-free load before the first memory sample, so caches and compiled code are in place. */
  readonly warmUpMs: number;
  /** Audit log lines seen so far that carry an identifier (the caller scans its sink). */
  readonly leakedLogLines?: () => number;
}

export interface SoakReport extends LoadReport {
  readonly durationMs: number;
  readonly phasesRun: number;
  /** Resident set size after the warm-up and after the soak, both taken after a full collection when `--expose-gc`. */
  readonly rssStartBytes: number;
  readonly rssEndBytes: number;
  /** Taken at every phase change (after a collection), to show the trend between start and end. */
  readonly rssSamplesBytes: readonly number[];
  readonly leakedLogLines: number;
}

function settledRss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

/** A bounded soak: consumers for `durationMs` while the fault phases cycle. Stops by itself. */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const { switches } = options;
  const warmUp = await runLoad({ ...options, until: Date.now() + options.warmUpMs });
  const rssStartBytes = settledRss();
  const started = Date.now();
  const until = started + options.durationMs;
  let phasesRun = 0;
  const rssSamplesBytes: number[] = [];
  const cycling = (async () => {
    for (let i = 0; Date.now() < until; i++) {
      const phase = options.phases[i % options.phases.length]!;
      if (i > 0) rssSamplesBytes.push(settledRss());
      await switches.set(phase.faults);
      phasesRun++;
      const expiring = phase.expireTokensEveryMs === undefined ? undefined : setInterval(() => void switches.expireTokens().catch(() => undefined), phase.expireTokensEveryMs);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(options.phaseMs, until - Date.now()))));
      if (expiring !== undefined) clearInterval(expiring);
    }
    await switches.set({});
  })();
  const report = await runLoad({ ...options, until });
  await cycling;
  // The warm-up's answers are judged too; only its counts and latencies stay out of the figures.
  for (const [kind, n] of Object.entries(warmUp.defects)) report.defects[`warm-up: ${kind}`] = n;
  report.leakedLines += warmUp.leakedLines;
  const durationMs = Date.now() - started;
  report.latenciesMs.sort((a, b) => a - b);
  return { ...report, durationMs, phasesRun, rssStartBytes, rssEndBytes: settledRss(), rssSamplesBytes, leakedLogLines: options.leakedLogLines?.() ?? 0 };
}

/** The memory trend, steadier than two single readings: the means of the first and the last quarter of readings. */
export function rssTrend(report: SoakReport): { early: number; late: number; growth: number } {
  const rss = [report.rssStartBytes, ...report.rssSamplesBytes, report.rssEndBytes];
  const quarter = Math.max(1, Math.floor(rss.length / 4));
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const early = mean(rss.slice(0, quarter));
  const late = mean(rss.slice(-quarter));
  return { early, late, growth: late / early - 1 };
}

/** The soak's figures as the bench and the test print them. */
export function describeSoak(report: SoakReport, consumers: number): string {
  const mb = (bytes: number) => (bytes / 1048576).toFixed(1);
  const growth = (report.rssEndBytes / report.rssStartBytes - 1) * 100;
  const rss = [report.rssStartBytes, ...report.rssSamplesBytes, report.rssEndBytes];
  const { early, late } = rssTrend(report);
  const failed = Object.values(report.failures).reduce((a, b) => a + b, 0);
  return [
    `soak: ${consumers} consumers for ${(report.durationMs / 1000).toFixed(0)} s, ${report.phasesRun} fault phases`,
    `  requests:        ${report.requests} (${(report.requests / (report.durationMs / 1000)).toFixed(1)}/s)`,
    `  served as the fault-free answer: ${report.ok}`,
    `  clean failures:  ${failed} ${JSON.stringify(report.failures)}`,
    `  defects (partial, altered or unshaped answers): ${Object.values(report.defects).reduce((a, b) => a + b, 0)} ${JSON.stringify(report.defects)}`,
    `  rows leaked:     ${report.leakedLines} in answers, ${report.leakedLogLines} in log lines`,
    `  RSS:             ${mb(report.rssStartBytes)} MB after warm-up, ${mb(report.rssEndBytes)} MB at the end (${growth >= 0 ? '+' : ''}${growth.toFixed(1)}%); ` +
      `lowest ${mb(Math.min(...rss))}, highest ${mb(Math.max(...rss))} MB between phases; ` +
      `first-quarter mean ${mb(early)}, last-quarter mean ${mb(late)} MB (${late >= early ? '+' : ''}${((late / early - 1) * 100).toFixed(1)}%)`,
    `  latency:         p50 ${percentile(report.latenciesMs, 50).toFixed(0)} ms, p99 ${percentile(report.latenciesMs, 99).toFixed(0)} ms, max ${percentile(report.latenciesMs, 100).toFixed(0)} ms`,
  ].join('\n');
}
