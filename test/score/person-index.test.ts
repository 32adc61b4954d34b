/**
 * People numbered in one PersonIndex by several reports read at once (the score's seven downloads interleave
 * their batches): whatever the order of the batches or of the people in each report, every row names the same
 * person as when each report is read alone. The readers' cursors (PersonIndex.idOf's `previous`) are a shortcut
 * that must never change a number; how often it saves a lookup is a matter of speed, counted with
 * bench/score-scale.ts, not asserted here.
 */
import t from 'tap';
import { readCsvBatches, type CsvBatch } from '../../src/sanitize/csv-report.js';
import { PersonIndex, ReportFacts, SCORE_SOURCE_REPORTS } from '../../src/score/score-facts.js';
import { chunked, fixtureReports, scoreFixtureTenant } from '../helpers/score-fixtures.js';

const reports = fixtureReports(scoreFixtureTenant());

/** A report's CSV with its data rows in reverse order (the same people, listed the other way round). */
function reversed(bytes: Buffer): Buffer {
  const text = bytes.toString('utf8');
  const headerEnd = text.indexOf('\r\n') + 2;
  const rows = text.slice(headerEnd).split('\r\n').filter((line) => line.length > 0);
  return Buffer.from(`${text.slice(0, headerEnd)}${rows.reverse().join('\r\n')}\r\n`);
}

async function batchesOf(report: (typeof SCORE_SOURCE_REPORTS)[number], bytes: Buffer): Promise<CsvBatch[]> {
  const batches: CsvBatch[] = [];
  for await (const batch of readCsvBatches(chunked(bytes), report)) batches.push(batch);
  return batches;
}

const people = (facts: ReportFacts) => facts.namedIds.toArray().map((id) => facts.index.upns.at(id));

t.test('three reports read at once into one index, batch by batch, one of them in reverse order: each row names the person it names when read alone', async (t) => {
  const chosen = SCORE_SOURCE_REPORTS.slice(0, 3);
  const inputs = chosen.map((report, i) => (i === 1 ? reversed(reports.get(report.name)!) : reports.get(report.name)!));
  const alone = await Promise.all(chosen.map((report, i) => ReportFacts.read(report, chunked(inputs[i]!))));
  const index = new PersonIndex();
  const together = chosen.map((report) => new ReportFacts(report, index));
  const batches = await Promise.all(chosen.map((report, i) => batchesOf(report, inputs[i]!)));
  t.ok(batches.every((list) => list.length > 5), 'each report comes in several batches');
  for (let step = 0; batches.some((list) => step < list.length); step++) {
    for (const [i, list] of batches.entries()) if (step < list.length) together[i]!.add(list[step]!);
  }
  for (const [i, report] of chosen.entries()) {
    t.same(people(together[i]!), people(alone[i]!), `${report.name}: the same person on every row`);
    t.same(together[i]!.namedCodes.toArray(), alone[i]!.namedCodes.toArray(), `${report.name}: the same facts`);
  }
  const everyone = new Set(alone.flatMap(people));
  t.equal(index.size, everyone.size, 'each person numbered once');
});

t.test('a name that is not well-formed UTF-16 (a lone surrogate, from a source given as strings) keeps its one number, and is never merged with its U+FFFD spelling', async (t) => {
  const index = new PersonIndex();
  const lone = 'a\ud800@contoso.com';
  const replaced = 'a\ufffd@contoso.com';
  const first = index.idOf(lone);
  t.equal(index.idOf(lone), first, 'the same name, the same number');
  t.equal(index.find(lone), first);
  t.equal(index.upns.at(first), lone, 'held as given, not as its UTF-8 spelling');
  t.not(index.idOf(replaced), first, 'the replacement character is another name');
  t.equal(index.size, 2);
  // Through the score: one row per report, the same three people in both; the join must count three.
  const { ScoreFacts } = await import('../../src/score/score-facts.js');
  const { findReport } = await import('../../src/catalogue/catalogue.js');
  const email = findReport('getEmailActivityUserDetail')!;
  const people = ['a\ud800@contoso.com', 'b\ud800@contoso.com', 'c\udc00@contoso.com'];
  const csv = ['Report Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date,Last Activity Date,Send Count,Receive Count,Read Count,Meeting Created Count,Meeting Interacted Count,Assigned Products,Report Period',
    ...people.map((u) => `2026-11-29,${u},X,False,,2026-11-27,1,1,1,0,0,OFFICE 365 E3,30`)].join('\r\n') + '\r\n';
  const facts = new ScoreFacts();
  const shared = new PersonIndex();
  for (let read = 0; read < 2; read++) {
    const report = new ReportFacts(email, shared);
    for await (const batch of readCsvBatches((async function* () { yield csv; })(), email)) report.add(batch);
    await facts.addReportFacts(report);
  }
  t.equal(facts.people.size, 3, 'three people, each counted once');
  t.equal(facts.organizationSize, 3);
});
