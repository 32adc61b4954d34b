/**
 * Benchmark (3): the RSS of the proxy as it ships (`node dist/cli.js serve`, built here first, with the image's
 * V8 flags --max-old-space-size=320 --max-semi-space-size=16 and NODE_ENV=production) while it fetches,
 * validates, spills and streams the sanitised CSV of a 300,000-user report (getOffice365ActiveUserDetail D30
 * through the shipped licence policy).
 * The simulator runs in a process of its own; RSS is read from /proc (VmRSS idle, VmHWM for the peak), so the
 * figures are the proxy process's alone; idle is read once the proxy is ready (/readyz: policies loaded, a Graph
 * token obtained) and left alone for 5 s. Target: idle < 150 MB; peak within the heap cap. Loopback only; Linux.
 * Run: node --import tsx bench/proxy-rss.ts [users] [--heap default]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { hashConsumerKey } from '../src/server/consumer-keys.js';
import { selfSignedCertificate } from '../src/server/tls.js';
import { imageNodeFlags } from './image-flags.js';

const args = process.argv.slice(2);
const users = Number(args.find((a) => /^\d+$/.test(a)) ?? 300_000);
/** The image's V8 flags (Dockerfile NODE_OPTIONS), or none with `--heap default`. */
const heapCap = args.includes('--heap') && args[args.indexOf('--heap') + 1] === 'default' ? [] : imageNodeFlags();
/** How long the proxy is left alone after it listens before its idle RSS is read (start-up garbage collected). */
const SETTLE_MS = 5_000;

/** A process's resident memory (MB) from /proc: now (VmRSS) and its peak so far (VmHWM). */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** A child's stdout until `pattern` shows (or it exits, which fails with its stderr). */
async function output(child: ChildProcess, pattern: RegExp, what: string): Promise<string> {
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = once(child, 'exit').then(() => {
    throw new Error(`${what} exited before it was ready: ${err.slice(-1000)}`);
  });
  while (!pattern.test(out)) await Promise.race([once(child.stdout!, 'data'), exited]);
  return out;
}

// The proxy as it ships: dist/, built from this tree first.
const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (build.status !== 0) throw new Error('npm run build failed');

const work = mkdtempSync(join(tmpdir(), 'gpp-bench-rss-'));
const children: ChildProcess[] = [];
try {
  const simulator = spawn(process.execPath, ['dist/cli.js', 'simulator', '--port', '0', '--download-port', '0', '--users', String(users), '--concealed', 'off', '--no-graph-limits'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(simulator);
  const described = await output(simulator, /Press Ctrl\+C/, 'the simulator');
  const field = (name: string) => new RegExp(`${name}:\\s+(\\S+)`).exec(described)![1]!;

  const tls = await selfSignedCertificate(1);
  writeFileSync(join(work, 'cert.pem'), tls.cert);
  writeFileSync(join(work, 'key.pem'), tls.key);
  const key = 'gpp_bench-key-000000000000000000000000000000000000';
  const env = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    GPP_HOST: '127.0.0.1',
    GPP_PORT: '0',
    GPP_POLICIES_DIR: 'policies',
    GPP_CONSUMER_KEYS: `licence-tool=sha256:${hashConsumerKey(key)}`,
    GPP_PSEUDONYM_KEYS: `licence-tool=${randomBytes(32).toString('base64')}`,
    GPP_SEAL_SECRET: randomBytes(32).toString('base64'),
    // The shipped vendor policy adds noise, which start-up refuses without a noise key and a ledger.
    GPP_NOISE_KEY: randomBytes(32).toString('base64'),
    GPP_BUDGET_LEDGER_FILE: join(work, 'ledger.jsonl'),
    GPP_SCORE_HISTORY_FILE: join(work, 'history.jsonl'),
    GPP_TLS_CERT_FILE: join(work, 'cert.pem'),
    GPP_TLS_KEY_FILE: join(work, 'key.pem'),
    GPP_GRAPH_URL: field('Graph host'),
    GPP_TOKEN_URL: field('Entra token URL'),
    GPP_AUTHORITY_CA_FILE: field('Authority CA'),
    GPP_CLIENT_ID: field('Client id'),
    GPP_CLIENT_SECRET: field('Client secret'),
    GPP_DOWNLOAD_HOSTS: `${field('Download host')}/data/`,
  };
  const proxy = spawn(process.execPath, [...heapCap, 'dist/cli.js', 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proxy);
  const url = /listening at (\S+),/.exec(await output(proxy, /listening at (\S+),/, 'the proxy'))![1]!;
  const client = new Agent({ connect: { ca: tls.cert }, bodyTimeout: 600_000, headersTimeout: 600_000 });
  // Idle as a deployed proxy is: ready (policies loaded, a Graph token obtained, as the readiness probe asks).
  const ready = await request(`${url}/readyz`, { dispatcher: client });
  await ready.body.dump();
  if (ready.statusCode !== 200) throw new Error(`the proxy is not ready (/readyz ${ready.statusCode})`);
  await sleep(SETTLE_MS);
  const idle = memoryOf(proxy.pid!);

  const started = Date.now();
  const redirect = await request(`${url}/v1.0/reports/getOffice365ActiveUserDetail(period='D30')`, { dispatcher: client, headers: { authorization: `Bearer ${key}` } });
  await redirect.body.dump();
  if (redirect.statusCode !== 302) throw new Error(`the proxy answered ${redirect.statusCode}, not a 302 to the download`);
  const download = await request(String(redirect.headers.location), { dispatcher: client });
  let bytes = 0;
  let lines = 0;
  for await (const chunk of download.body) {
    bytes += (chunk as Buffer).length;
    for (const b of chunk as Buffer) if (b === 10) lines++;
  }
  await client.close();
  const after = memoryOf(proxy.pid!);
  const load = loadavg().map((l) => l.toFixed(1)).join(' ');
  console.log(`status ${download.statusCode}: ${lines - 1} rows released, ${(bytes / 1e6).toFixed(1)} MB sanitised CSV in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(
    `proxy (node ${heapCap.join(' ') || '(default heap)'} dist/cli.js serve) RSS idle ${idle.rss.toFixed(0)} MB (target < 150 MB), peak ${after.peak.toFixed(0)} MB, after the download ${after.rss.toFixed(0)} MB; load average ${load}`,
  );
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
