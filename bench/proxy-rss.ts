/**
 * Benchmark (3): the proxy's RSS while it fetches, validates, spills and streams the sanitised CSV of a
 * 300,000-user report (getOffice365ActiveUserDetail D30 through the shipped licence-management policy). The simulator runs in its own
 * process; RSS idle (after start-up) is the baseline from this run. Target: peak < 150 MB. Loopback only.
 * Run: node --import tsx bench/proxy-rss.ts [users]
 */
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Agent, request } from 'undici';
import { parseKeyring } from '../src/sanitize/pseudonyms.js';
import { ConsumerKeys } from '../src/server/consumer-keys.js';
import { startProxy } from '../src/server/proxy.js';
import { selfSignedCertificate } from '../src/server/tls.js';

const users = Number(process.argv[2] ?? 300_000);
const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'simulator', '--port', '0', '--download-port', '0', '--users', String(users), '--concealed', 'off', '--no-graph-limits'], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
child.stdout.on('data', (d) => (out += d));
while (!/Press Ctrl\+C/.test(out)) await once(child.stdout, 'data');
const field = (name: string) => new RegExp(`${name}:\\s+(\\S+)`).exec(out)![1]!;
const tls = await selfSignedCertificate(1);
const key = 'gpp_bench-key-000000000000000000000000000000000000';
const proxy = await startProxy({
  policiesDir: 'policies', watchPolicies: false, consumerKeys: ConsumerKeys.of({ 'licence-tool': key }),
  pseudonymKeys: parseKeyring(`licence-tool=${randomBytes(32).toString('base64')}`), sealSecret: randomBytes(32), tls, logger: pino({ level: 'warn' }),
  // The shipped vendor policy adds noise, which start-up refuses without a noise key and a ledger.
  noiseKey: randomBytes(32), ledgerFile: join(tmpdir(), `gpp-bench-rss-${process.pid}-ledger.jsonl`),
  graph: { graphUrl: field('Graph host'), authorityCa: readFileSync(field('Authority CA'), 'utf8'), credential: { kind: 'secret' as const, tokenUrl: field('Entra token URL'), clientId: field('Client id'), clientSecret: field('Client secret') }, downloadHosts: [`${field('Download host')}/data/`], bodyTimeoutMs: 600_000 },
});
const dispatcher = new Agent({ connect: { ca: tls.cert }, bodyTimeout: 600_000, headersTimeout: 600_000 });
global.gc?.();
const idle = process.memoryUsage().rss / 2 ** 20;
let peak = idle;
/** What the RSS was made of at its peak (MB): V8's heap in use and reserved, and memory outside it (Buffers). */
let parts = '';
let peakHeap = 0;
let peakExternal = 0;
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  peakHeap = Math.max(peakHeap, m.heapTotal / 2 ** 20);
  peakExternal = Math.max(peakExternal, m.external / 2 ** 20);
  if (m.rss / 2 ** 20 <= peak) return;
  peak = m.rss / 2 ** 20;
  const mb = (n: number) => (n / 2 ** 20).toFixed(0);
  parts = `heap used ${mb(m.heapUsed)} of ${mb(m.heapTotal)}, external ${mb(m.external)} (array buffers ${mb(m.arrayBuffers)})`;
}, 50);
const started = Date.now();
const redirect = await request(`${proxy.url}/v1.0/reports/getOffice365ActiveUserDetail(period='D30')`, { dispatcher, headers: { authorization: `Bearer ${key}` } });
await redirect.body.dump();
const download = await request(String(redirect.headers.location), { dispatcher });
let bytes = 0;
let lines = 0;
for await (const chunk of download.body) {
  bytes += (chunk as Buffer).length;
  for (const b of chunk as Buffer) if (b === 10) lines++;
}
clearInterval(sampler);
console.log(`status ${download.statusCode}: ${lines - 1} rows released, ${(bytes / 1e6).toFixed(1)} MB sanitised CSV in ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`proxy RSS idle ${idle.toFixed(0)} MB (baseline), peak ${peak.toFixed(0)} MB (target < 150 MB); at the peak: ${parts}; largest V8 heap ${peakHeap.toFixed(0)} MB, largest external ${peakExternal.toFixed(0)} MB`);
await proxy.close();
await dispatcher.close();
child.kill('SIGTERM');
