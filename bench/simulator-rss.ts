/**
 * Benchmark: the simulator streams the largest report of a 300,000-user tenant without holding it in memory.
 * Prints the simulator process's RSS idle (the baseline, measured in the same run) and at peak while the CSV
 * streams through the 302 download, the bytes and rows served, and the throughput. Target: peak RSS < 200 MB.
 * Loopback only; stops by itself.   Run: node --import tsx bench/simulator-rss.ts [users] [report call]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { request } from 'undici';

const users = Number(process.argv[2] ?? 300_000);
// The largest per-user report: 239 bytes a row, measured over every user-detail report of a 2,000-user tenant.
const REPORT = process.argv[3] ?? "getOffice365ActiveUserDetail(period='D7')";

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? NaN : Number(m[1]) / 1024;
}

const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'simulator', '--port', '0', '--download-port', '0',
  '--users', String(users), '--concealed', 'off', '--no-graph-limits'], { stdio: ['ignore', 'pipe', 'inherit'] });
try {
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  while (!/Press Ctrl\+C/.test(out)) await once(child.stdout, 'data');
  const field = (name: string) => new RegExp(`${name}:\\s+(\\S+)`).exec(out)![1]!;
  const token = await request(field('Token URL'), {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `grant_type=client_credentials&client_id=${field('Client id')}&client_secret=${field('Client secret')}&scope=https://graph.microsoft.com/.default`,
  });
  const { access_token } = (await token.body.json()) as { access_token: string };
  await new Promise((r) => setTimeout(r, 500));
  const idle = rssMb(child.pid!);
  let peak = idle;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(child.pid!))), 50);
  const started = process.hrtime.bigint();
  const first = await request(`${field('Graph host')}/v1.0/reports/${REPORT}`, { headers: { authorization: `Bearer ${access_token}` } });
  await first.body.dump();
  const download = await request(String(first.headers.location));
  let bytes = 0;
  let rows = -1; // the header line
  for await (const chunk of download.body as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) rows++;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(sampler);
  peak = Math.max(peak, rssMb(child.pid!));
  console.log(`simulator RSS while streaming ${REPORT} for ${users.toLocaleString('en')} users`);
  console.log(`  rows ${rows.toLocaleString('en')}, ${(bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(1)} s (${(bytes / 1e6 / seconds).toFixed(1)} MB/s)`);
  console.log(`  RSS idle (baseline) ${idle.toFixed(0)} MB, peak ${peak.toFixed(0)} MB, ratio ${(peak / idle).toFixed(2)}x; target peak < 200 MB: ${peak < 200 ? 'met' : 'NOT met'}`);
  if (rows !== users) throw new Error(`expected ${users} rows, got ${rows}`);
} finally {
  child.kill('SIGTERM');
}
