/**
 * Benchmark (2): CSV row sanitising vs csv-parse parsing the same ~100 MB report, both from memory in 64 KB
 * chunks, in this run. The report is a simulated getTeamsUserActivityUserDetail whose rows are repeated up to
 * the size. The sanitiser runs as it does per download, on a snapshot validated once when fetched (that
 * validation is timed separately), with a licence-style rule (pseudonymise the UPN, generalise a date, keep
 * counts, drop the rest) and with a keep/drop-only rule. Target: >= 4x csv-parse's throughput.   Run: node --import tsx bench/sanitize-csv.ts [megabytes]
 */
import { parse } from 'csv-parse';
import { findReport } from '../src/catalogue/catalogue.js';
import { UTF8_BOM } from '../src/catalogue/csv.js';
import { sanitizeCsvReport, validateCsvReport } from '../src/sanitize/csv-report.js';
import { planRows } from '../src/sanitize/plan.js';
import { parseKeyring, pseudonymizer } from '../src/sanitize/pseudonyms.js';
import { emptyStats } from '../src/sanitize/stats.js';
import { ReportRenderer } from '../src/simulator/render.js';
import { LAST_DAY, reportSource } from '../src/simulator/reports.js';
import { SimulatedTenant } from '../src/simulator/tenant.js';

const megabytes = Number(process.argv[2] ?? 100);
const spec = findReport('getTeamsUserActivityUserDetail')!;
const tenant = new SimulatedTenant({ seed: 3, users: 4000 });
const renderer = new ReportRenderer(tenant, spec, { concealed: false });
const source = reportSource(tenant, spec, { firstDay: LAST_DAY - 29, lastDay: LAST_DAY, periodDays: 30 });
let rows = '';
for (let i = 0; i < source.count; i++) rows += renderer.csvLines(source.item(i), '\r\n');
const header = UTF8_BOM + renderer.csvHeader('\r\n');
const rowBytes = Buffer.from(rows);
const copies = Math.ceil((megabytes * 1e6) / rowBytes.length);
const report = Buffer.concat([Buffer.from(header), ...Array.from({ length: copies }, () => rowBytes)]);
const chunks: Buffer[] = [];
for (let i = 0; i < report.length; i += 65536) chunks.push(report.subarray(i, i + 65536));
async function* replay(): AsyncGenerator<Buffer> {
  yield* chunks;
}

async function timeIt(label: string, run: () => Promise<number>): Promise<number> {
  const started = process.hrtime.bigint();
  const records = await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const mbps = report.length / 1e6 / seconds;
  console.log(`${label.padEnd(44)} ${seconds.toFixed(2)} s  ${mbps.toFixed(1)} MB/s  ${records} rows`);
  return mbps;
}

const csvParse = await timeIt('csv-parse (parse only, streaming)', async () => {
  let n = 0;
  const parser = replayInto(parse({ bom: true }));
  for await (const _record of parser) n++;
  return n - 1;
});
function replayInto(parser: ReturnType<typeof parse>) {
  void (async () => {
    for (const chunk of chunks) if (!parser.write(chunk)) await new Promise((r) => parser.once('drain', r));
    parser.end();
  })();
  return parser;
}

const pseudonymize = pseudonymizer(parseKeyring(`bench=${Buffer.alloc(32, 1).toString('base64')}`), { keyId: 'bench', epoch: 1, consumer: 'bench' });
const plan = planRows(spec, {
  rows: {
    'User Principal Name': 'pseudonymize', 'Last Activity Date': { generalize: 'month' }, 'Team Chat Message Count': 'keep',
    'Private Chat Message Count': 'keep', 'Call Count': 'keep', 'Meeting Count': 'keep', 'Is Licensed': 'keep',
  },
  quasiIdentifiers: [],
}, 5, { kC: 5, pseudonymize });
const ours = await timeIt('sanitiser (parse, transform, pseudonymise, write)', async () => {
  const stats = emptyStats();
  for await (const _piece of sanitizeCsvReport(replay, plan, stats, { validated: true })) void _piece;
  return stats.rowsOut;
});
const noPseudonyms = planRows(spec, { rows: { 'Report Refresh Date': 'keep', 'Team Chat Message Count': 'keep', 'Call Count': 'keep', 'Meeting Count': 'keep' }, quasiIdentifiers: [] }, 5, { kC: 5 });
const dropOnly = await timeIt('sanitiser (parse, keep 4 columns, write)', async () => {
  const stats = emptyStats();
  for await (const _piece of sanitizeCsvReport(replay, noPseudonyms, stats, { validated: true })) void _piece;
  return stats.rowsOut;
});
// Once per snapshot fetch (not per download): parse and type-check every known cell.
const validation = await timeIt('validateCsvReport (once per snapshot fetch)', () => validateCsvReport(replay(), spec));
console.log(`\nreport: ${(report.length / 1e6).toFixed(1)} MB`);
console.log(`ratio vs csv-parse: ${(ours / csvParse).toFixed(2)}x with pseudonyms, ${(dropOnly / csvParse).toFixed(2)}x keep/drop only (target >= 4x); validation ${(validation / csvParse).toFixed(2)}x`);
