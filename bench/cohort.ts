/**
 * Benchmark (cohort issue): aggregating a 300,000-user getTeamsUserActivityUserDetail by organisation,
 * department and department x office, with primary, complement and secondary suppression, beside the row
 * sanitiser on the same report file, in this run. Targets: >= 0.5x the sanitiser's throughput; RSS < 200 MB.
 * The report is written to a temporary file first (as a snapshot is) and read back streaming.
 * Run: node --expose-gc --import tsx bench/cohort.ts [users]
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { Directory } from '../src/cohort/directory.js';
import { aggregateCsvReport, planCohorts } from '../src/cohort/report-users.js';
import { suppressCohorts } from '../src/cohort/suppress.js';
import { parse } from 'csv-parse/sync';
import { csvHeaders, findReport } from '../src/catalogue/catalogue.js';
import { UTF8_BOM, csvLine } from '../src/catalogue/csv.js';
import { sanitizeCsvReport } from '../src/sanitize/csv-report.js';
import { planRows } from '../src/sanitize/plan.js';
import { emptyStats } from '../src/sanitize/stats.js';
import { ReportRenderer } from '../src/simulator/render.js';
import { LAST_DAY, reportSource } from '../src/simulator/reports.js';
import { SimulatedTenant } from '../src/simulator/tenant.js';

const users = Number(process.argv[2] ?? 300_000);
const spec = findReport('getTeamsUserActivityUserDetail')!;
const tenant = new SimulatedTenant({ seed: 5, users: 3000 });
const renderer = new ReportRenderer(tenant, spec, { concealed: false });
const source = reportSource(tenant, spec, { firstDay: LAST_DAY - 29, lastDay: LAST_DAY, periodDays: 30 });
const templates = Array.from({ length: source.count }, (_, i) => parse(renderer.csvLines(source.item(i), '\r\n')) as string[][]).flat();
const upnIndex = csvHeaders(spec).indexOf('User Principal Name');
const departments = [...new Set(Array.from({ length: 3000 }, (_, i) => tenant.user(i).department))];

// A 300,000-user report: the simulated rows, each given its own user.
const dir = await mkdtemp(join(tmpdir(), 'gpp-cohort-bench-'));
const file = join(dir, 'report.csv');
const out = createWriteStream(file);
out.write(UTF8_BOM + renderer.csvHeader('\r\n'));
const upnOf = (n: number) => `person${n}@bench.example`;
for (let n = 0; n < users; n++) {
  const fields = [...templates[n % templates.length]!];
  fields[upnIndex] = upnOf(n);
  if (!out.write(csvLine(fields, '\r\n'))) await once(out, 'drain');
}
out.end();
await once(out, 'finish');
const bytes = (await stat(file)).size;
const directory = new Directory(Array.from({ length: users }, (_, n) => ({ userPrincipalName: upnOf(n), department: departments[n % departments.length], officeLocation: `Office ${n % 23}` })));

// Measure after full collections (run with --expose-gc): V8 returns freed pages lazily.
for (let i = 0; i < 3; i++) {
  global.gc?.();
  await new Promise((resolve) => setTimeout(resolve, 50));
}
if (global.gc === undefined) console.log('(run with node --expose-gc for a settled baseline)');
const baseline = process.memoryUsage().rss / 2 ** 20;
let peak = baseline;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss / 2 ** 20)), 20);
const read = () => createReadStream(file, { highWaterMark: 64 * 1024 });

async function timed(label: string, run: () => Promise<string>): Promise<number> {
  const started = process.hrtime.bigint();
  const note = await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const mbps = bytes / 1e6 / seconds;
  console.log(`${label.padEnd(52)} ${seconds.toFixed(2)} s  ${mbps.toFixed(1)} MB/s  ${note}`);
  return mbps;
}

const rowRule = planRows(spec, { rows: { 'Report Refresh Date': 'keep', 'Team Chat Message Count': 'keep', 'Call Count': 'keep', 'Meeting Count': 'keep', 'Last Activity Date': { generalize: 'month' } }, quasiIdentifiers: [] }, 5, { kC: 5 });
const sanitiser = await timed('row sanitiser (keep 4 columns, generalise a date)', async () => {
  const stats = emptyStats();
  for await (const _piece of sanitizeCsvReport(read, rowRule, stats, { validated: true })) void _piece;
  return `${stats.rowsOut} rows`;
});
const plan = planCohorts(spec, { cohort: { by: ['organization', 'department', 'department x officeLocation'], metrics: { 'Team Chat Message Count': { clip: 500 }, 'Call Count': { clip: 100 }, 'Meeting Count': { clip: 100 } } } }, 10, 5);
const cohorts = await timed('cohorts (join, aggregate, suppress, LP check)', async () => {
  const aggregate = await aggregateCsvReport(read(), plan, directory);
  const counts = suppressCohorts(aggregate.table, { k: plan.k, kC: plan.kC });
  return `${aggregate.table.cells.length} cells, suppressed ${counts.primary}/${counts.complement}/${counts.secondary} (primary/complement/secondary), LP ${counts.lpVerified ? 'verified' : 'over the bound'}`;
});
clearInterval(sampler);
console.log(`\nreport: ${users} users, ${(bytes / 1e6).toFixed(1)} MB; directory of ${directory.size} users held in memory`);
console.log(`ratio cohorts / row sanitiser: ${(cohorts / sanitiser).toFixed(2)}x (target >= 0.5x)`);
console.log(`RSS: ${baseline.toFixed(0)} MB before (directory loaded), peak ${peak.toFixed(0)} MB (target < 200 MB)`);
await rm(dir, { recursive: true });
