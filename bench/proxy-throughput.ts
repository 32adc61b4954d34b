/**
 * Benchmark (1): JSON report pages per second through the sanitising proxy vs bare @fastify/http-proxy
 * forwarding to the same simulator, both over HTTPS with the same certificate, measured in this run.
 * Targets: >= 0.9x bare forwarding with the snapshot cache off, above it with the cache on.
 * Loopback only, bounded in time.   Run: node --import tsx bench/proxy-throughput.ts [seconds] [concurrency]
 */
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fastify from 'fastify';
import httpProxy from '@fastify/http-proxy';
import pino from 'pino';
import { Agent, request } from 'undici';
import { parseKeyring } from '../src/sanitize/pseudonyms.js';
import { ConsumerKeys } from '../src/server/consumer-keys.js';
import { startProxy } from '../src/server/proxy.js';
import { selfSignedCertificate } from '../src/server/tls.js';

const seconds = Number(process.argv[2] ?? 8);
const concurrency = Number(process.argv[3] ?? 16);
const PATH = "/beta/reports/getOffice365ActiveUserDetail(period='D30')?$format=application/json&$top=200";

// The simulator runs in its own process (as Graph is elsewhere), so the proxies' CPU is what is compared.
const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'simulator', '--port', '0', '--download-port', '0', '--users', '2000', '--concealed', 'off', '--no-graph-limits'], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
child.stdout.on('data', (d) => (out += d));
while (!/Press Ctrl\+C/.test(out)) await once(child.stdout, 'data');
const field = (name: string) => new RegExp(`${name}:\\s+(\\S+)`).exec(out)![1]!;
const sim = { graphUrl: field('Graph host'), downloadUrl: field('Download host'), tokenUrl: field('Token URL'), clientId: field('Client id'), clientSecret: field('Client secret') };
const tls = await selfSignedCertificate(1);
const dispatcher = new Agent({ connect: { ca: tls.cert }, connections: concurrency });
const token = await request(sim.tokenUrl, {
  method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ grant_type: 'client_credentials', client_id: sim.clientId, client_secret: sim.clientSecret, scope: 'https://graph.microsoft.com/.default' }).toString(),
});
const graphToken = ((await token.body.json()) as { access_token: string }).access_token;

async function load(url: string, authorization: string): Promise<number> {
  let done = 0;
  let failed = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < until) {
      const res = await request(url, { dispatcher, headers: { authorization } });
      await res.body.dump({ limit: 1 << 30 });
      if (res.statusCode === 200) done++;
      else failed++;
    }
  }));
  if (failed > 0) throw new Error(`${failed} requests failed`);
  return done / seconds;
}

const bare = fastify({ https: { key: tls.key, cert: tls.cert } });
await bare.register(httpProxy, { upstream: sim.graphUrl });
const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });

const dir = await mkdtemp(join(tmpdir(), 'gpp-bench-'));
await writeFile(join(dir, 'bench.yaml'), `name: bench
description: Benchmark policy, pseudonymised licence rows without quasi-identifiers.
consumers: [bench]
pseudonyms: { keyId: bench, epoch: 1 }
reports:
  getOffice365ActiveUserDetail:
    rows: { User Principal Name: pseudonymize, Assigned Products: keep, Teams Last Activity Date: { generalize: month }, Has Teams License: keep }
`);
const key = 'gpp_bench-key-000000000000000000000000000000000000';
const common = {
  policiesDir: dir, watchPolicies: false, consumerKeys: ConsumerKeys.of({ bench: key }),
  pseudonymKeys: parseKeyring(`bench=${randomBytes(32).toString('base64')}`), sealSecret: randomBytes(32), tls,
  logger: pino({ level: 'warn' }),
  graph: { graphUrl: sim.graphUrl, authorityCa: readFileSync(field('Authority CA'), 'utf8'), credential: { kind: 'secret' as const, tokenUrl: field('Entra token URL'), clientId: sim.clientId, clientSecret: sim.clientSecret }, downloadHosts: [`${sim.downloadUrl}/data/`] },
};
const off = await startProxy({ ...common, snapshotTtlSeconds: 0 });
const on = await startProxy({ ...common, snapshotTtlSeconds: 3600 });

await load(`${bareUrl}${PATH}`, `Bearer ${graphToken}`); // warm-up
const bareRate = await load(`${bareUrl}${PATH}`, `Bearer ${graphToken}`);
const offRate = await load(`${off.url}${PATH}`, `Bearer ${key}`);
const onRate = await load(`${on.url}${PATH}`, `Bearer ${key}`);
console.log(`JSON pages of 200 items, ${concurrency} concurrent clients, ${seconds} s each, HTTPS everywhere`);
console.log(`bare @fastify/http-proxy forwarding   ${bareRate.toFixed(0)} req/s (baseline)`);
console.log(`sanitising proxy, snapshot cache off  ${offRate.toFixed(0)} req/s  ${(offRate / bareRate).toFixed(2)}x (target >= 0.9x)`);
console.log(`sanitising proxy, snapshot cache on   ${onRate.toFixed(0)} req/s  ${(onRate / bareRate).toFixed(2)}x (target > 1x)`);
await Promise.all([off.close(), on.close(), bare.close()]);
child.kill('SIGTERM');
await dispatcher.close();
