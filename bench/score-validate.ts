// In-process: the score's 7 reports (stand-in files) validated + summarised, then joined. Times per stage.
import { readFileSync } from 'node:fs';
import { validateCsvReport } from '../src/sanitize/csv-report.js';
import { NameForms } from '../src/catalogue/identifiers.js';
import { scoreFactsSummarizer, ScoreFacts, SCORE_SOURCE_REPORTS, ReportFacts } from '../src/score/score-facts.js';
const users = Number(process.argv[2] ?? 100000);
const summarizer = scoreFactsSummarizer();
let total = 0; let validateMs = 0; const cpu0 = process.cpuUsage();
const all: ReportFacts[] = [];
for (const report of SCORE_SOURCE_REPORTS) {
  const bytes = readFileSync(`/tmp/gpp-stand-in-${users}-${report.name}-D30.csv`);
  total += bytes.length;
  async function* chunks() { for (let i = 0; i < bytes.length; i += 65536) yield bytes.subarray(i, i + 65536); }
  const s = summarizer(report)!;
  const t0 = performance.now();
  const names = new NameForms();
  const rows = await validateCsvReport(chunks(), report, names, (b) => s.add(b), s.columns);
  const ms = performance.now() - t0; validateMs += ms;
  all.push(s.result());
  if (process.env.VERBOSE) console.log(report.name, rows, (bytes.length / 1e6).toFixed(1), 'MB', ms.toFixed(0), 'ms', ((bytes.length / 1e6) / (ms / 1000)).toFixed(0), 'MB/s');
}
const t1 = performance.now();
const facts = new ScoreFacts();
for (const f of all) await facts.addReportFacts(f);
const cpuS = process.cpuUsage(cpu0); console.log(`CPU ${((cpuS.user + cpuS.system) / 1e6).toFixed(2)} s; validate+summarise ${validateMs.toFixed(0)} ms for ${(total / 1e6).toFixed(0)} MB; join ${(performance.now() - t1).toFixed(0)} ms; people ${facts.people.size}`);
{
  let t = 0; let mb = 0;
  for (const report of SCORE_SOURCE_REPORTS) {
    const bytes = readFileSync(`/tmp/gpp-stand-in-${users}-${report.name}-D30.csv`);
    async function* chunks() { for (let i = 0; i < bytes.length; i += 65536) yield bytes.subarray(i, i + 65536); }
    const t0 = performance.now();
    await validateCsvReport(chunks(), report);
    t += performance.now() - t0; mb += bytes.length / 1e6;
  }
  console.log(`validate only: ${t.toFixed(0)} ms, ${(mb / (t / 1000)).toFixed(0)} MB/s`);
}
