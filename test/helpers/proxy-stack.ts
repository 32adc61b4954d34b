/**
 * A real proxy in front of a real simulated tenant, both on 127.0.0.1, for end-to-end tests: HTTPS with a
 * self-signed certificate, the shipped policies (or a given directory), known consumer keys and pseudonym
 * secrets, and the audit log captured line by line.
 */
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Agent, request, type Dispatcher } from 'undici';
import { auditLogger } from '../../src/server/audit.js';
import { ConsumerKeys } from '../../src/server/consumer-keys.js';
import { startProxy, type ProxySettings, type RunningProxy } from '../../src/server/proxy.js';
import { selfSignedCertificate, type TlsMaterial } from '../../src/server/tls.js';
import { parseKeyring } from '../../src/sanitize/pseudonyms.js';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../src/simulator/server.js';

export const SHIPPED_POLICIES = fileURLToPath(new URL('../../policies', import.meta.url));

/**
 * A temporary copy of the shipped policies without their test cases, for tests that add a policy of their own:
 * a cohort policy for a report the vendor reads joins the vendor's in one organisation table
 * (policy/decide.ts jointCohortPlan), which changes the vendor's expected outputs, and so fails the set's load.
 */
export async function shippedPoliciesWithoutCases(prefix = 'gpp-policies-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await cp(SHIPPED_POLICIES, dir, { recursive: true, filter: (source) => source !== join(SHIPPED_POLICIES, 'tests') });
  return dir;
}

/**
 * The shipped policies (without cases) with the vendor policy not granted the org score: its Teams cohorts are then
 * suppressed as their own table, not with the score's Meetings category (policy/decide.ts jointCohortPlan), for
 * tests of the cohort pipeline itself on a simulated tenant where nearly every active Teams user is in meetings.
 */
export async function shippedPoliciesWithoutScore(prefix = 'gpp-policies-'): Promise<string> {
  const dir = await shippedPoliciesWithoutCases(prefix);
  const file = join(dir, 'vendor-dashboard.yaml');
  const text = await readFile(file, 'utf8');
  if (!/^permissions: \[score\]$/m.test(text)) throw new Error('the shipped vendor policy no longer grants the score as this helper expects');
  await writeFile(file, text.replace(/^permissions: \[score\]$/m, 'permissions: []'));
  return dir;
}

/** Consumer keys of the shipped policies' consumers (test-only values). */
export const KEYS = {
  licence: 'gpp_test-licence-tool-key-0000000000000000000000000',
  vendor: 'gpp_test-adoption-dashboard-key-000000000000000000000',
  onboarding: 'gpp_test-onboarding-key-00000000000000000000000000',
  stranger: 'gpp_test-consumer-without-policy-00000000000000000000',
} as const;

let tls: Promise<TlsMaterial> | undefined;
/** One certificate per test process (generating one takes about half a second). */
export function testTls(): Promise<TlsMaterial> {
  tls ??= selfSignedCertificate(1);
  return tls;
}

/** Where a proxy finds its Graph tenant: an in-process simulator, or one in another process. */
export interface TenantEndpoints {
  readonly graphUrl: string;
  /** Entra's token endpoint over HTTPS (the simulator's login host) and the CA its certificate chains to. */
  readonly entraTokenUrl: string;
  readonly authorityCa: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly downloadUrl: string;
}

export interface ProxyUnderTest {
  readonly proxy: RunningProxy;
  readonly logs: string[];
  readonly tls: TlsMaterial;
  readonly dispatcher: Dispatcher;
  get(path: string, key?: string, headers?: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>;
  close(): Promise<void>;
}

export interface Stack extends ProxyUnderTest {
  readonly sim: RunningSimulator;
}

export interface ProxyOptions {
  proxy?: Partial<ProxySettings>;
  graph?: Partial<ProxySettings['graph']>;
  /** The audit log level (default debug). */
  logLevel?: string;
  /** Where audit log lines go instead of `logs` (a long soak scans them and keeps none). */
  logSink?: (line: string) => void;
}

/** The proxy with the shipped policies and the test keys, in front of `tenant`, its audit log captured. */
export async function startProxyFor(tenant: TenantEndpoints, options: ProxyOptions = {}): Promise<ProxyUnderTest> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) {
        if (line.length === 0) continue;
        if (options.logSink !== undefined) options.logSink(line);
        else logs.push(line);
      }
      done();
    },
  });
  const material = await testTls();
  // The budget ledger and score history, unless the options name their own: removed when the proxy is closed.
  const state = await mkdtemp(join(tmpdir(), 'gpp-proxy-state-'));
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  try {
    proxy = await startProxy({
      policiesDir: SHIPPED_POLICIES,
      watchPolicies: false,
      consumerKeys: ConsumerKeys.of({ 'licence-tool': KEYS.licence, 'adoption-dashboard': KEYS.vendor, onboarding: KEYS.onboarding, 'no-policy': KEYS.stranger }),
      pseudonymKeys: parseKeyring(`licence-tool=${randomBytes(32).toString('base64')}`),
      sealSecret: randomBytes(32),
      noiseKey: randomBytes(32),
      ledgerFile: join(state, 'ledger.jsonl'),
      historyFile: join(state, 'score-history.jsonl'),
      tls: material,
      logger: auditLogger({ level: options.logLevel ?? 'debug' }, sink),
      // Sweeps send hundreds of requests a minute; the rate-limit test sets its own limit.
      rateLimitPerMinute: 100_000,
      ...options.proxy,
      graph: {
        graphUrl: tenant.graphUrl, authorityCa: tenant.authorityCa,
        credential: { kind: 'secret', tokenUrl: tenant.entraTokenUrl, clientId: tenant.clientId, clientSecret: tenant.clientSecret },
        downloadHosts: [tenant.downloadUrl], maxRetryWaitMs: 5_000, ...options.graph,
      },
    });
  } catch (error) {
    await rm(state, { recursive: true, force: true });
    throw error;
  }
  const dispatcher = new Agent({ connect: { ca: material.cert } });
  return {
    proxy, logs, tls: material, dispatcher,
    async get(path, key, headers = {}) {
      const url = path.startsWith('http') ? path : `${proxy.url}${path}`;
      const res = await request(url, { dispatcher, headers: { ...(key !== undefined ? { authorization: `Bearer ${key}` } : {}), ...headers } });
      return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
    },
    async close() {
      await proxy.close();
      await dispatcher.close();
      await rm(state, { recursive: true, force: true });
    },
  };
}

export async function startStack(
  options: ProxyOptions & { simulator?: SimulatorOptions; /** Another stack's tenant (not closed by this stack). */ sharedSimulator?: RunningSimulator } = {},
): Promise<Stack> {
  const sim = options.sharedSimulator ?? (await startSimulator({ seed: 11, users: 120, enforceGraphLimits: false, concealedNames: false, ...options.simulator }));
  let running: Awaited<ReturnType<typeof startProxyFor>>;
  try {
    running = await startProxyFor(sim, options);
  } catch (error) {
    // A proxy that does not start (an invalid policy, a bad setting) must not leave its tenant running: the
    // test would otherwise hang until tap's timeout instead of failing with the error.
    if (options.sharedSimulator === undefined) await sim.close();
    throw error;
  }
  return {
    ...running,
    sim,
    async close() {
      await running.close();
      if (options.sharedSimulator === undefined) await sim.close();
    },
  };
}

/** Follows a CSV request's 302 to the proxy's download URL, as Graph clients do (without Authorization). */
export async function proxyCsv(stack: ProxyUnderTest, path: string, key: string): Promise<{ status: number; text: string; location?: string; headers: string }> {
  const first = await stack.get(path, key);
  const firstHeaders = JSON.stringify(first.headers);
  if (first.status !== 302) return { status: first.status, text: first.body.toString('utf8'), headers: firstHeaders };
  const location = String(first.headers.location);
  const download = await stack.get(location);
  return { status: download.status, text: download.body.toString('utf8'), location, headers: `${firstHeaders}\n${JSON.stringify(download.headers)}` };
}

/** Every JSON page of a listing through the proxy's nextLinks (and every page's response headers). */
export async function proxyJsonPages(stack: ProxyUnderTest, path: string, key: string): Promise<{ status: number; pages: Record<string, unknown>[]; headers: string[] }> {
  const pages: Record<string, unknown>[] = [];
  const headers: string[] = [];
  let url: string | undefined = path;
  while (url !== undefined) {
    const res = await stack.get(url, key);
    headers.push(JSON.stringify(res.headers));
    if (res.status !== 200) return { status: res.status, pages: [...pages, JSON.parse(res.body.toString('utf8')) as Record<string, unknown>], headers };
    const page = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
    pages.push(page);
    url = page['@odata.nextLink'] as string | undefined;
    if (pages.length > 10_000) throw new Error('nextLink loop');
  }
  return { status: 200, pages, headers };
}
