/**
 * The bounded soak: N consumers for M minutes against a canary tenant while Graph's failure modes (429 and 503
 * storms, slow first bytes, truncated and malformed bodies, expiring tokens, redirects off the allow-list and
 * redirect loops) come and go, the snapshot cache on and expiring every few seconds. The simulator runs in
 * its own process, so the resident memory measured is the proxy's (and this small load generator's).
 * Prints requests served, failures by kind, defects, rows leaked, RSS after warm-up and at the end, and
 * latency percentiles; exits 1 when a defect or a leak was seen, retries averaged over 3 per call, or memory
 * grew by 10% or more (end against start, or the last quarter's readings against the first quarter's).
 * Loopback only; stops by itself.
 *   Run: node --expose-gc --import tsx bench/soak.ts [minutes=10] [consumers=16] [users=2000]
 */
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { SimulatedTenant } from '../src/simulator/tenant.js';
import { baselines, describeSoak, faultPhases, FaultSwitch, leakedLines, rssTrend, runSoak, standardOperations, type TenantSecrets } from '../test/helpers/load.js';
import { startProxyFor } from '../test/helpers/proxy-stack.js';

const minutes = Number(process.argv[2] ?? 10);
const consumers = Number(process.argv[3] ?? 16);
const users = Number(process.argv[4] ?? 2000);
const SEED = 'soak';
const FIRST_BYTE_TIMEOUT_MS = 2_000;
if ((globalThis as { gc?: unknown }).gc === undefined) {
  console.error('run with node --expose-gc, so memory is read after a full collection');
  process.exit(2);
}

const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'simulator', '--port', '0', '--download-port', '0', '--users', String(users), '--seed', SEED, '--canary', '--concealed', 'off', '--no-graph-limits'], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
child.stdout.on('data', (d) => (out += d));
while (!/Press Ctrl\+C/.test(out)) await once(child.stdout, 'data');
const field = (name: string) => new RegExp(`${name}:\\s+(\\S+)`).exec(out)![1]!;
const tenant = { graphUrl: field('Graph host'), downloadUrl: field('Download host'), entraTokenUrl: field('Entra token URL'), authorityCa: readFileSync(field('Authority CA'), 'utf8'), clientId: field('Client id'), clientSecret: field('Client secret') };
// The tenant's identities follow from its seed; the marker is in every identifier of a canary tenant.
const facts = new SimulatedTenant({ seed: SEED, users: 1, canary: true });
const secrets: TenantSecrets = { markers: [facts.canaryMarker!, facts.tenantId, facts.displayName], downloadUrl: tenant.downloadUrl };

let leakedLogLines = 0;
let logLines = 0;
const target = await startProxyFor(tenant, {
  proxy: { snapshotTtlSeconds: 5 },
  graph: { firstByteTimeoutMs: FIRST_BYTE_TIMEOUT_MS, maxRetries: 3, maxRetryWaitMs: 4_000 },
  logLevel: 'info',
  logSink: (line) => {
    logLines++;
    leakedLogLines += leakedLines(line, secrets);
  },
});
let foreignHits = 0;
const foreign = createServer((_req, res) => {
  foreignHits++;
  res.end('foreign');
});
await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));

const operations = standardOperations();
const expected = await baselines(target, operations);
if (expected.slice(0, 5).some((o) => o.status !== 200)) throw new Error(`the fault-free baseline failed: ${expected.map((o) => o.status).join(' ')}`);
const phases = faultPhases(tenant, FIRST_BYTE_TIMEOUT_MS, `http://127.0.0.1:${(foreign.address() as { port: number }).port}`);
console.log(`tenant of ${users} users (canary), proxy snapshot TTL 5 s; ${phases.length} fault phases of 10 s in turn: ${phases.map((p) => p.name).join(', ')}`);
const report = await runSoak({
  target, operations, baselines: expected, secrets, consumers, switches: new FaultSwitch(tenant.graphUrl),
  phases, phaseMs: 10_000, warmUpMs: 20_000, durationMs: minutes * 60_000, leakedLogLines: () => leakedLogLines,
});
const graph = target.proxy.graph.stats;
console.log(describeSoak(report, consumers));
console.log(`  Graph:           ${graph.calls} calls, ${graph.retries} retries (${(graph.retries / graph.calls).toFixed(2)} per call, at most 3), ${graph.tokenRefreshes} token refreshes; ${foreignHits} requests reached the foreign host`);
console.log(`  audit log:       ${logLines} lines scanned`);

await target.close();
foreign.close();
child.kill('SIGTERM');
const growth = report.rssEndBytes / report.rssStartBytes - 1;
const defects = Object.values(report.defects).reduce((a, b) => a + b, 0);
const verdict = defects === 0 && report.leakedLines === 0 && report.leakedLogLines === 0 && foreignHits === 0 && graph.retries <= 3 * graph.calls && growth < 0.1 && rssTrend(report).growth < 0.1;
console.log(verdict ? 'PASS: no defect, nothing leaked, retries bounded, RSS growth under 10% (end against start, and last quarter against first)' : 'FAIL');
process.exitCode = verdict ? 0 : 1;
