/**
 * Benchmark: the validation pass of the org score's seven reports, in process (no HTTP, no spill file). Each
 * report (bench/stand-in-graph.ts --score renders them into the temporary directory) is checked whole as a
 * snapshot fetch does: `validateCsvReport` with the score's facts summarised in the same pass, then the facts
 * joined. Beside it, for comparison on the same bytes: the validation alone, and the validation as it was
 * before issue 18 item 3 (every row split into fields, every known cell checked as a string: readCsvBatches and
 * checkCsv), and csv-parse (a maintained parser) only parsing. Prints CPU time and MB/s of each, best of rounds.
 * `--only TEXT` runs the variants whose name holds TEXT.
 * Run: node --import tsx bench/score-validate.ts [users] [--rounds N] [--only TEXT]
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import { NameForms } from '../src/catalogue/identifiers.js';
import type { ColumnSpec, ReportSpec } from '../src/catalogue/catalogue.js';
import { readCsvBatches, validateCsvReport } from '../src/sanitize/csv-report.js';
import { checkCsv } from '../src/sanitize/plan.js';
import { scoreFactsSummarizer, ScoreFacts, SCORE_SOURCE_REPORTS, type ReportFacts } from '../src/score/score-facts.js';

const args = process.argv.slice(2);
const at = args.indexOf('--rounds');
const rounds = at === -1 ? 3 : Number(args.splice(at, 2)[1]);
const only = args.indexOf('--only');
const selected = only === -1 ? '' : args.splice(only, 2)[1]!;
const users = Number(args[0] ?? 100_000);
const files = SCORE_SOURCE_REPORTS.map((report) => [report, join(tmpdir(), `gpp-stand-in-${users}-${report.name}-D30.csv`)] as const);
if (!files.every(([, file]) => existsSync(file))) {
  console.error(`render the reports first: node --import tsx bench/stand-in-graph.ts ${users} --score (stop it once it prints its URL)`);
  process.exit(1);
}
const reports = files.map(([report, file]) => [report, readFileSync(file)] as const);
const megabytes = reports.reduce((sum, [, bytes]) => sum + bytes.length, 0) / 1e6;

async function* chunks(bytes: Buffer): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += 65_536) yield bytes.subarray(i, i + 65_536);
}

/** The validation before this change: rows split into fields, then every known cell checked. */
async function validateBySplitting(source: AsyncIterable<Buffer>, report: ReportSpec): Promise<number> {
  let rows = 0;
  let checked: { index: number; column: ColumnSpec }[] = [];
  for await (const batch of readCsvBatches(source, report)) {
    if (batch.layout !== undefined) checked = batch.layout.flatMap((column, index) => (column === undefined ? [] : [{ index, column }]));
    for (const fields of batch.rows) for (const { index, column } of checked) checkCsv(column, fields[index]!);
    rows += batch.rows.length;
  }
  return rows;
}

const variants: Record<string, () => Promise<unknown>> = {
  'validation + score facts + join (a snapshot fetch, then the score)': async () => {
    // The Teams report's rows are kept for its organisation table, with the metric the shipped policies' table sums.
    const summarizer = scoreFactsSummarizer((report) => (report.name === 'getTeamsUserActivityUserDetail' ? ['Meeting Count'] : []));
    const facts = new ScoreFacts();
    for (const [report, bytes] of reports) {
      const summary = summarizer(report)!;
      await validateCsvReport(chunks(bytes), report, new NameForms(), (batch) => summary.add(batch), summary.columns);
      await facts.addReportFacts(summary.result() as ReportFacts);
    }
    return facts.people.size;
  },
  'validation alone (cells checked in place)': async () => {
    for (const [report, bytes] of reports) await validateCsvReport(chunks(bytes), report);
  },
  'validation alone, as before (fields split, cells checked as strings)': async () => {
    for (const [report, bytes] of reports) await validateBySplitting(chunks(bytes), report);
  },
  'csv-parse, parsing only (no checks)': async () => {
    for (const [, bytes] of reports) {
      const parser = parse({ bom: true, relax_column_count: false });
      const done = (async () => {
        for await (const _row of parser) void _row;
      })();
      for await (const chunk of chunks(bytes)) if (!parser.write(chunk)) await new Promise((resolve) => parser.once('drain', resolve));
      parser.end();
      await done;
    }
  },
};

console.log(`${users.toLocaleString('en')} users: the score's 7 reports, ${megabytes.toFixed(0)} MB of CSV; best of ${rounds} rounds (load average ${loadAverage()})`);
for (const [name, run] of Object.entries(variants).filter(([name]) => name.includes(selected))) {
  let best = Infinity;
  for (let round = 0; round < rounds; round++) {
    const before = process.cpuUsage();
    await run();
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / 1e6);
  }
  console.log(`${name}: ${best.toFixed(2)} s CPU, ${(megabytes / best).toFixed(0)} MB/s`);
}

function loadAverage(): string {
  return loadavg().map((l) => l.toFixed(1)).join(' ');
}
