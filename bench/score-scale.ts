/**
 * Benchmark: the org score at scale. For each tenant size (default 1k, 10k, 100k, 300k users) the stand-in Graph
 * (bench/stand-in-graph.ts --score: the score's seven reports and the directory, pre-rendered, served from memory)
 * and the simulator's Entra ID run in their own processes; each measurement starts a fresh proxy process (empty
 * snapshot cache: cold) with the V8 flags the container sets (bench/image-flags.ts; GPP_BENCH_HEAP_MB and
 * GPP_BENCH_SEMI_SPACE_MB replace its heap cap and semi-space cap, 0 leaving that one at V8's default; its other
 * flags are passed as they are), which asks
 * `GET /org-score?period=D30` once, without `by` or with `by=department`, end to end over HTTPS. Printed per run:
 * wall time, the longest event-loop block in the proxy process during it (perf_hooks monitorEventLoopDelay: wall
 * time, so it includes waiting for a core on a loaded machine), the longest uninterrupted work (main-thread CPU
 * between two turns of a 10 ms timer, which the load does not inflate), and the proxy process's peak RSS (sampled
 * every 20 ms), beside the load average (the machine is shared). Each round first measures the floor: the same
 * reports and directory pages downloaded alone, without the proxy (measureDownloadOnly). Then a growth table
 * (ranges over rounds) and a last line stating which targets are met.
 * Targets (issue 18): <= 5 s at 300k users with and without `by`; no block over 100 ms; time linear in users;
 * peak RSS within the Kubernetes example's memory limit.
 * GPP_VALIDATION_THREADS in the environment sets the measured proxy's validation workers (its default: none);
 * GPP_BENCH_GRAPH_LATENCY_MS makes the stand-in Graph wait that long before each response (Graph's round trip;
 * default 0). Each run also prints the stand-in Graph's CPU time for the request: it shares the machine's cores.
 * GPP_BENCH_TURNS_MS=N prints to standard error every turn of the proxy's event loop with more than N ms of
 * main-thread CPU, as `turn <ms> ms CPU, monotonic <from> <to> us`: the clock of a `--cpu-prof` profile, so
 * `node --import tsx bench/turns-in-profile.ts <profile> <that output>` names the functions each turn ran.
 *
 * Run: node --import tsx bench/score-scale.ts [--rounds N] [users ...]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { imageFlagMb, imageNodeFlags } from './image-flags.js';

const IMAGE_FLAGS = imageNodeFlags();
/** The heap cap of the container (Dockerfile NODE_OPTIONS; GPP_BENCH_HEAP_MB=0: V8's default cap): what the proxy is measured under. */
const HEAP_MB = Number(process.env.GPP_BENCH_HEAP_MB ?? imageFlagMb(IMAGE_FLAGS, 'max-old-space-size') ?? 0);
/** The container's cap on each of the young generation's two semi-spaces (Dockerfile NODE_OPTIONS; GPP_BENCH_SEMI_SPACE_MB=0: V8's default). */
const SEMI_SPACE_MB = Number(process.env.GPP_BENCH_SEMI_SPACE_MB ?? imageFlagMb(IMAGE_FLAGS, 'max-semi-space-size') ?? 0);
/** The container's V8 flags, as the measured processes get them (the heap cap and semi-space as set above, the rest as the image has them). */
const HEAP_FLAGS = [
  ...(HEAP_MB > 0 ? [`--max-old-space-size=${HEAP_MB}`] : []),
  ...(SEMI_SPACE_MB > 0 ? [`--max-semi-space-size=${SEMI_SPACE_MB}`] : []),
  ...IMAGE_FLAGS.filter((flag) => !flag.startsWith('--max-old-space-size=') && !flag.startsWith('--max-semi-space-size=')),
];
/** The pod's memory limit in the Kubernetes example (deploy/kubernetes.yaml), which OPERATIONS.md sizes against. */
const POD_LIMIT_MB = 512;
/** Extra Node options for the measured proxy process (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it). */
const NODE_ARGS = (process.env.GPP_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
const KEY = 'gpp_bench-key-000000000000000000000000000000000000';

interface Figures {
  seconds: number;
  /** Longest event-loop delay (monitorEventLoopDelay): wall time, so on a loaded machine it includes waiting for a core. */
  blockMs: number;
  /** Longest main-thread CPU time between two turns of a 10 ms timer: the longest uninterrupted work, whatever the load. */
  busyMs: number;
  peakMb: number;
  /** CPU time of the proxy process (every thread) for the request: what the load does not inflate. */
  cpuSeconds: number;
}
interface Run extends Figures { users: number; by: string; load: string; graphCpuSeconds: number }

/** The CPU time (user and system, seconds) a child process has used so far, from /proc (Linux). */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  // After the command name: state is field 3, utime 14 and stime 15 (proc(5)), in clock ticks of 1/100 s.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
/** Turns of the proxy's event loop with more main-thread CPU than this (ms) are printed (GPP_BENCH_TURNS_MS). */
const TURNS_MS = Number(process.env.GPP_BENCH_TURNS_MS ?? Infinity);
/** The stand-in Graph's round trip (ms), GPP_BENCH_GRAPH_LATENCY_MS. */
const GRAPH_LATENCY_MS = Number(process.env.GPP_BENCH_GRAPH_LATENCY_MS ?? 0);

/** Child mode: one cold proxy in this process, one score request, the figures as a JSON line. */
async function measureOnce(users: number, by: string | undefined): Promise<void> {
  const { default: pino } = await import('pino');
  const { Agent, request } = await import('undici');
  const { parseKeyring } = await import('../src/sanitize/pseudonyms.js');
  const { ConsumerKeys } = await import('../src/server/consumer-keys.js');
  const { startProxy } = await import('../src/server/proxy.js');
  const { selfSignedCertificate } = await import('../src/server/tls.js');
  const graph = JSON.parse(process.env.GPP_BENCH_GRAPH!) as { graphUrl: string; tokenUrl: string; clientId: string; clientSecret: string };
  const tls = await selfSignedCertificate(1);
  const state = mkdtempSync(join(tmpdir(), 'gpp-bench-score-'));
  const proxy = await startProxy({
    policiesDir: 'policies', watchPolicies: false, consumerKeys: ConsumerKeys.of({ 'adoption-dashboard': KEY }),
    pseudonymKeys: parseKeyring(['adoption-dashboard', 'licence-tool'].map((name) => `${name}=${randomBytes(32).toString('base64')}`).join(',')),
    sealSecret: randomBytes(32), tls, logger: pino({ level: 'warn' }),
    // The proxy's default (GPP_VALIDATION_THREADS) unless the run sets it: 0 validates on the event loop.
    ...(process.env.GPP_VALIDATION_THREADS !== undefined ? { validationThreads: Number(process.env.GPP_VALIDATION_THREADS) } : {}),
    noiseKey: randomBytes(32), ledgerFile: join(state, 'ledger.jsonl'), historyFile: join(state, 'history.jsonl'),
    graph: {
      graphUrl: graph.graphUrl, credential: { kind: 'secret' as const, tokenUrl: graph.tokenUrl, clientId: graph.clientId, clientSecret: graph.clientSecret },
      downloadHosts: [`${graph.graphUrl}/data/`], bodyTimeoutMs: 600_000,
    },
  });
  const dispatcher = new Agent({ connect: { ca: tls.cert }, bodyTimeout: 600_000, headersTimeout: 600_000 });
  try {
    let peak = process.memoryUsage.rss();
    // memoryUsage.rss() alone: memoryUsage() also walks the V8 heap spaces, which cost the event loop 0.4 s of a 300k run.
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    let busy = 0;
    let cpu = process.threadCpuUsage();
    let turnStarted = process.hrtime.bigint();
    const turns = setInterval(() => {
      const now = process.threadCpuUsage();
      const ms = (now.user + now.system - cpu.user - cpu.system) / 1000;
      const at = process.hrtime.bigint();
      // process.hrtime is CLOCK_MONOTONIC, as V8's profiler timestamps (microseconds) are.
      if (ms > TURNS_MS) process.stderr.write(`turn ${ms.toFixed(0)} ms CPU, monotonic ${turnStarted / 1000n} ${at / 1000n} us\n`);
      turnStarted = at;
      busy = Math.max(busy, ms);
      cpu = now;
    }, 10);
    const startedCpu = process.cpuUsage();
    const started = performance.now();
    const response = await request(`${proxy.url}/org-score?period=D30${by !== undefined ? `&by=${by}` : ''}`, { dispatcher, headers: { authorization: `Bearer ${KEY}` } });
    const body = (await response.body.json()) as { organization?: unknown; cohorts?: unknown[] };
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(startedCpu);
    delay.disable();
    clearInterval(sampler);
    clearInterval(turns);
    if (response.statusCode !== 200 || body.organization === undefined || (by !== undefined && !(body.cohorts!.length > 0))) {
      throw new Error(`org score failed: ${response.statusCode} ${JSON.stringify(body).slice(0, 300)}`);
    }
    const figures: Figures = { seconds, blockMs: delay.max / 1e6, busyMs: busy, peakMb: peak / 2 ** 20, cpuSeconds: (used.user + used.system) / 1e6 };
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await proxy.close();
    await dispatcher.close();
    rmSync(state, { recursive: true, force: true });
  }
}

/**
 * Child mode: the floor the proxy's cold score is measured against, in the same run. Graph's part of the work
 * alone, without the proxy: the seven reports (each its 302 and the download, side by side) and every directory
 * page (one after the other, as Graph's $skiptoken allows), over HTTPS with undici, the bytes counted and dropped.
 * Prints wall time, CPU time and bytes as a JSON line.
 */
async function measureDownloadOnly(): Promise<void> {
  const { Agent, request } = await import('undici');
  const { SCORE_SOURCE_REPORTS } = await import('../src/score/score-facts.js');
  const graph = JSON.parse(process.env.GPP_BENCH_GRAPH!) as { graphUrl: string };
  const dispatcher = new Agent({ bodyTimeout: 600_000, headersTimeout: 600_000 });
  const headers = { authorization: 'Bearer download-only' };
  let bytes = 0;
  const drain = async (body: AsyncIterable<Buffer>) => {
    for await (const chunk of body) bytes += chunk.length;
  };
  const startedCpu = process.cpuUsage();
  const started = performance.now();
  const report = async (name: string) => {
    const redirect = await request(`${graph.graphUrl}/v1.0/reports/${name}(period='D30')`, { dispatcher, headers });
    await redirect.body.dump();
    const download = await request(String(redirect.headers.location), { dispatcher });
    await drain(download.body);
  };
  const directory = async () => {
    for (let url: string | undefined = `${graph.graphUrl}/v1.0/users?$top=999`; url !== undefined; ) {
      const page = (await (await request(url, { dispatcher, headers })).body.json()) as { value: unknown[]; '@odata.nextLink'?: string };
      bytes += JSON.stringify(page.value).length;
      url = page['@odata.nextLink'];
    }
  };
  await Promise.all([...SCORE_SOURCE_REPORTS.map((r) => report(r.name)), directory()]);
  const used = process.cpuUsage(startedCpu);
  await dispatcher.close();
  process.stdout.write(`${JSON.stringify({ seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6, bytes })}\n`);
}

/** Starts a child and waits until its output matches `ready`. */
async function start(args: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  while (!ready.test(out)) {
    const [event] = await Promise.race([once(child.stdout!, 'data').then(() => ['data']), once(child, 'exit').then(() => ['exit'])]);
    if (event === 'exit' && !ready.test(out)) throw new Error(`${args.join(' ')} exited: ${out.slice(-500)}`);
  }
  return { child, output: () => out };
}

/** Range of figures over rounds: "min" or "min-max". */
function range(values: number[], digits: number): string {
  const low = Math.min(...values).toFixed(digits);
  const high = Math.max(...values).toFixed(digits);
  return low === high ? low : `${low}-${high}`;
}

async function main(sizes: number[], rounds: number): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'gpp-bench-score-'));
  const children: ChildProcess[] = [];
  const runs: Run[] = [];
  const downloads: { users: number; seconds: number; cpuSeconds: number }[] = [];
  try {
    // Entra ID: the simulator's login host issues the proxy's tokens; the stand-in Graph accepts any bearer token.
    const login = await start(['--import', 'tsx', 'src/cli.ts', 'simulator', '--port', '0', '--download-port', '0', '--users', '1'], /Press Ctrl\+C/);
    children.push(login.child);
    const field = (name: string) => new RegExp(`${name}:\\s+(\\S+)`).exec(login.output())![1]!;
    for (const users of sizes) {
      const standIn = await start(['--import', 'tsx', 'bench/stand-in-graph.ts', String(users), '--score', '--latency-ms', String(GRAPH_LATENCY_MS)], /^\{.*\}$/m);
      children.push(standIn.child);
      try {
        const graph = JSON.parse(/^(\{.*\})$/m.exec(standIn.output())![1]!) as { url: string; ca: string };
        const caFile = join(work, 'ca.pem');
        writeFileSync(caFile, `${graph.ca}\n${readFileSync(field('Authority CA'), 'utf8')}`);
        const env = {
          NODE_EXTRA_CA_CERTS: caFile,
          GPP_BENCH_GRAPH: JSON.stringify({ graphUrl: graph.url, tokenUrl: field('Entra token URL'), clientId: field('Client id'), clientSecret: field('Client secret') }),
        };
        // Rounds interleave the two requests and the download alone, so a burst of load elsewhere falls on all three.
        for (let round = 0; round < rounds; round++) {
          const floor = await start([...HEAP_FLAGS, '--import', 'tsx', 'bench/score-scale.ts', '--measure-download'], /^\{.*\}$/m, env);
          const download = JSON.parse(/^(\{.*\})$/m.exec(floor.output())![1]!) as { seconds: number; cpuSeconds: number; bytes: number };
          await once(floor.child, 'exit');
          downloads.push({ users, ...download });
          console.log(`${users} users, download alone (the seven reports and the directory, no proxy): ${download.seconds.toFixed(2)} s (CPU ${download.cpuSeconds.toFixed(2)} s, ${(download.bytes / 2 ** 20).toFixed(0)} MiB)`);
          for (const by of [undefined, 'department']) {
            const graphCpuBefore = cpuSecondsOf(standIn.child.pid!);
            const proxy = await start([...HEAP_FLAGS, ...NODE_ARGS, '--import', 'tsx', 'bench/score-scale.ts', '--measure', String(users), by ?? '-'], /^\{.*\}$/m, env);
            const figures = JSON.parse(/^(\{.*\})$/m.exec(proxy.output())![1]!) as Figures;
            await once(proxy.child, 'exit');
            const run = { users, by: by ?? '-', ...figures, load: loadavg().map((l) => l.toFixed(2)).join(' '), graphCpuSeconds: cpuSecondsOf(standIn.child.pid!) - graphCpuBefore };
            runs.push(run);
            console.log(`${users} users, by ${run.by}: ${run.seconds.toFixed(2)} s cold (proxy CPU ${run.cpuSeconds.toFixed(2)} s), longest event-loop block ${run.blockMs.toFixed(0)} ms (longest uninterrupted CPU ${run.busyMs.toFixed(0)} ms), proxy peak RSS ${run.peakMb.toFixed(0)} MB (heap cap ${HEAP_MB} MB, semi-space ${SEMI_SPACE_MB || 'default'}; load average ${run.load}); stand-in Graph CPU ${run.graphCpuSeconds.toFixed(2)} s (round trip ${GRAPH_LATENCY_MS} ms)`);
          }
        }
      } finally {
        standIn.child.kill('SIGTERM');
      }
    }
  } finally {
    for (const child of children) child.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`\nGrowth (${rounds} round${rounds === 1 ? '' : 's'}; ranges are min-max over rounds; V8 flags ${HEAP_FLAGS.join(' ') || 'none'}; Graph round trip ${GRAPH_LATENCY_MS} ms):`);
  console.log('| users | cold, no by (ms) | cold, by=department (ms) | ms per 1k users | proxy CPU, no by / by (s) | download alone (s) | stand-in Graph CPU (s) | longest event-loop block (ms) | longest uninterrupted CPU (ms) | peak RSS (MB) | load average (1 min) |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const users of sizes) {
    const of = runs.filter((r) => r.users === users);
    const plain = of.filter((r) => r.by === '-').map((r) => r.seconds * 1000);
    const byDepartment = of.filter((r) => r.by !== '-').map((r) => r.seconds * 1000);
    const perThousand = of.map((r) => (r.seconds * 1e6) / users);
    const loads = of.map((r) => Number(r.load.split(' ')[0]));
    console.log(`| ${users.toLocaleString('en')} | ${range(plain, 0)} | ${range(byDepartment, 0)} | ${range(perThousand, 1)} | ${range(of.filter((r) => r.by === '-').map((r) => r.cpuSeconds), 2)} / ${range(of.filter((r) => r.by !== '-').map((r) => r.cpuSeconds), 2)} | ${range(downloads.filter((d) => d.users === users).map((d) => d.seconds), 2)} | ${range(of.map((r) => r.graphCpuSeconds), 2)} | ${range(of.map((r) => r.blockMs), 0)} | ${range(of.map((r) => r.busyMs), 0)} | ${range(of.map((r) => r.peakMb), 0)} | ${range(loads, 1)} |`);
  }
  const largest = Math.max(...sizes);
  const worst = Math.max(...runs.filter((r) => r.users === largest).map((r) => r.seconds));
  const block = Math.max(...runs.map((r) => r.blockMs));
  const busy = Math.max(...runs.map((r) => r.busyMs));
  const peak = Math.max(...runs.map((r) => r.peakMb));
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  console.log(
    `targets (issue 18) at ${largest.toLocaleString('en')} users: cold <= 5 s with and without by ${met(worst <= 5)} (worst ${worst.toFixed(2)} s); ` +
      `no event-loop block over 100 ms ${met(block <= 100)} (longest ${block.toFixed(0)} ms, longest uninterrupted CPU ${busy.toFixed(0)} ms); ` +
      `peak RSS within the Kubernetes example's ${POD_LIMIT_MB} Mi ${met(peak <= POD_LIMIT_MB)} (${peak.toFixed(0)} MB)`,
  );
}

const args = process.argv.slice(2);
if (args[0] === '--measure') await measureOnce(Number(args[1]), args[2] === '-' ? undefined : args[2]);
else if (args[0] === '--measure-download') await measureDownloadOnly();
else {
  const at = args.indexOf('--rounds');
  const rounds = at === -1 ? 1 : Number(args.splice(at, 2)[1]);
  await main(args.length > 0 ? args.map(Number) : [1_000, 10_000, 100_000, 300_000], rounds);
}
