/**
 * A CSV download that arrives in one large chunk is validated in steps (src/graph/snapshots.ts BYTES_PER_STEP)
 * with the event loop turning between them (src/event-loop/turns.ts), and the steps change nothing: the same
 * rows, the same stored bytes, the same score facts as the report read whole, and a multi-byte character cut
 * by a step's edge is read whole.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import t from 'tap';
import type { GraphClient } from '../../src/graph/client.js';
import { SnapshotCache } from '../../src/graph/snapshots.js';
import { ReportFacts, scoreFactsSummarizer, SCORE_SOURCE_REPORTS } from '../../src/score/score-facts.js';
import { chunked, fixtureReports, scoreFixtureTenant } from '../helpers/score-fixtures.js';

const report = SCORE_SOURCE_REPORTS.find((r) => r.name === 'getTeamsUserActivityUserDetail')!;

const STEP = 32 * 1024;

/**
 * The 300-user Teams report with its data rows repeated `times` (each copy's UPNs made distinct), and at each of
 * the first step edges a UPN whose three-byte character begins one byte before the edge (cut by it).
 */
function bigReport(times: number): Buffer {
  const text = fixtureReports(scoreFixtureTenant()).get(report.name)!.toString('utf8');
  const headerEnd = text.indexOf('\r\n') + 2;
  const upnAt = text.slice(0, headerEnd).split(',').indexOf('User Principal Name');
  const rows = text.slice(headerEnd).split('\r\n').filter((line) => line.length > 0);
  const pieces = [Buffer.from(text.slice(0, headerEnd))];
  let offset = pieces[0]!.length;
  let edge = STEP;
  for (let copy = 0; copy < times; copy++) {
    for (const row of rows) {
      const cells = row.split(',');
      cells[upnAt] = cells[upnAt]!.replace('@', `.${copy}@`);
      const upnStart = offset + Buffer.byteLength(cells.slice(0, upnAt).join(',') + ',');
      if (edge < 4 * STEP && upnStart <= edge - 1 && edge - 1 - upnStart < 1000) {
        cells[upnAt] = `${'x'.repeat(edge - 1 - upnStart)}\u65e5\u672c\u8a9e${cells[upnAt]}`;
        edge += STEP;
      }
      const line = Buffer.from(`${cells.join(',')}\r\n`);
      pieces.push(line);
      offset += line.length;
    }
  }
  return Buffer.concat(pieces);
}

t.test('one 10 MB chunk: validated in steps with the event loop turning between them, and the same snapshot and facts as the report read whole', async (t) => {
  const bytes = bigReport(150);
  t.ok(bytes.length > 5_000_000, `${bytes.length} bytes in one chunk`);
  // The download as one chunk (a Readable of one Buffer hands it on whole), as a body that waited for its turn does.
  const client = { openCsv: async () => Readable.from([bytes]) } as unknown as GraphClient;
  // Rows summarised so far, read at each turn of the event loop: how much of the chunk one turn validated. Counted
  // in rows, not measured in milliseconds: a wall-clock gap also holds the time this process was not on a core
  // (CI runs two test files beside each other on two cores, and a 182 ms gap of a 360 ms read failed it once).
  let rowsSummarised = 0;
  const facts = scoreFactsSummarizer();
  const summarizeCsv = (spec: typeof report) => {
    const summarizer = facts(spec);
    if (summarizer === undefined) return undefined;
    const add = summarizer.add.bind(summarizer);
    summarizer.add = (batch) => {
      rowsSummarised += batch.rows.length;
      add(batch);
    };
    return summarizer;
  };
  const cache = new SnapshotCache({ client, ttlMs: 60_000, summarizeCsv });

  const rowsAtTurns: number[] = [];
  let ticking = true;
  const tick = () => {
    rowsAtTurns.push(rowsSummarised);
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  const snapshot = await cache.lease({ version: 'v1.0', report, period: 'D30' }, 'csv');
  ticking = false;
  rowsAtTurns.push(rowsSummarised);
  const perTurn = rowsAtTurns.slice(1).map((rows, i) => rows - rowsAtTurns[i]!).filter((rows) => rows > 0);
  const most = Math.max(...perTurn);
  t.ok(perTurn.length >= 5, `the event loop turned between steps: rows were validated in ${perTurn.length} turns`);
  t.ok(most <= snapshot.count / 2, `no turn validated half the chunk: at most ${most} of ${snapshot.count} rows in one turn`);

  const whole = await ReportFacts.read(report, chunked(bytes));
  const stepped = snapshot.takeSummary() as ReportFacts;
  t.equal(snapshot.count, whole.rows, 'the same rows');
  t.equal(snapshot.digest, createHash('sha256').update(bytes).digest('hex'), 'the bytes stored as they came');
  const stored: Buffer[] = [];
  for await (const record of snapshot.csv()) stored.push(record);
  t.ok(Buffer.concat(stored).equals(bytes), 'the stored report reads back byte for byte');
  t.same(stepped.namedCodes.toArray(), whole.namedCodes.toArray(), 'the same facts, row by row');
  t.same(stepped.namedIds.toArray().map((id) => stepped.index.upns.at(id)), whole.namedIds.toArray().map((id) => whole.index.upns.at(id)), 'the same people, row by row');
  t.equal([...stepped.index.upns].filter((upn) => upn.includes('\u65e5\u672c\u8a9e')).length, 3, 'the names cut by step edges read whole');
  for (const edge of [STEP, 2 * STEP, 3 * STEP]) t.equal(bytes.subarray(edge - 1, edge + 2).toString('utf8'), '\u65e5', `a character cut at byte ${edge}`);
  snapshot.release();
});
