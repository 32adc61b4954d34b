/**
 * Snapshot validation in worker threads (graph/csv-validation.ts) against real workers and, end to end, the
 * simulator over HTTP: a report checked in a worker is the report checked on the event loop (rows, name forms,
 * the score's facts and released figures); a refusal is the same SanitizeError; a worker that stops or runs out
 * of memory fails its reports closed, and nothing of them is served.
 */
import { createHash } from 'node:crypto';
import t from 'tap';
import { NameForms } from '../../src/catalogue/identifiers.js';
import { Directory } from '../../src/cohort/directory.js';
import { GraphClient } from '../../src/graph/client.js';
import { CsvValidationPool } from '../../src/graph/csv-validation.js';
import { SnapshotCache } from '../../src/graph/snapshots.js';
import { EntraTokens } from '../../src/graph/token.js';
import { validateCsvReport } from '../../src/sanitize/csv-report.js';
import { InternalInvariantError } from '../../src/errors/catalogue.js';
import { SanitizeError } from '../../src/sanitize/errors.js';
import { scoreRows } from '../../src/score/org-score.js';
import { OrgScores, type ScoreGrant } from '../../src/score/org-scores.js';
import { ReportFacts, scoreFactsSummarizer, ScoreFacts, SCORE_SOURCE_REPORTS, scoreTables } from '../../src/score/score-facts.js';
import { startSimulator } from '../../src/simulator/server.js';
import { chunked, fixtureReports, SCORE_FIXTURE_GOLDEN, scoreFixtureTenant } from '../helpers/score-fixtures.js';

const tenant = scoreFixtureTenant();
const reports = fixtureReports(tenant);
const directory = new Directory(Array.from({ length: tenant.size }, (_, i) => tenant.user(i)));

async function inWorker(pool: CsvValidationPool, report: (typeof SCORE_SOURCE_REPORTS)[number], bytes: Buffer) {
  const job = pool.start(report);
  try {
    for await (const chunk of chunked(bytes)) await job.push(chunk);
  } catch {
    // A refusal met while pushing is the verdict too.
  }
  return job.end();
}

/** A refusal as a consumer or a log sees it. */
const refusal = (error: unknown) => ({ sanitize: error instanceof SanitizeError, code: (error as { code?: string }).code, message: (error as Error).message });

t.test('a report checked in a worker: the same rows, name forms and score facts as on the event loop, and the same released score', async (t) => {
  const pool = new CsvValidationPool({ threads: 2 });
  t.teardown(() => pool.close());
  const viaWorkers = new ScoreFacts();
  const onTheLoop = new ScoreFacts();
  const summarizer = scoreFactsSummarizer();
  const validated = await Promise.all(SCORE_SOURCE_REPORTS.map((report) => inWorker(pool, report, reports.get(report.name)!)));
  for (const [i, report] of SCORE_SOURCE_REPORTS.entries()) {
    const names = new NameForms();
    const facts = summarizer(report)!;
    const count = await validateCsvReport(chunked(reports.get(report.name)!), report, names, (batch) => facts.add(batch), facts.columns);
    t.equal(validated[i]!.count, count, `${report.name}: the same rows`);
    t.same(validated[i]!.names, { concealed: names.concealed, clear: names.clear }, `${report.name}: the same name forms`);
    t.type(validated[i]!.facts, ReportFacts);
    await viaWorkers.addReportFacts(validated[i]!.facts!);
    await onTheLoop.addReportFacts(facts);
  }
  const released = (facts: ScoreFacts) => JSON.stringify(scoreRows(scoreTables(facts, directory, ['department', 'officeLocation'], 10, 5)));
  // In the order of their numbers, which the workers' interleaving may change: compared as sets.
  t.same([...viaWorkers.people.keys()].sort(), [...onTheLoop.people.keys()].sort(), 'the same people');
  t.equal(viaWorkers.unnamed.length, onTheLoop.unnamed.length, 'the same unnamed rows');
  t.equal(viaWorkers.organizationSize, onTheLoop.organizationSize);
  t.equal(createHash('sha256').update(released(viaWorkers)).digest('hex'), SCORE_FIXTURE_GOLDEN, 'the score released before');
});

t.test('a malformed report is refused from the worker with the error the event loop gives', async (t) => {
  const pool = new CsvValidationPool({ threads: 1 });
  t.teardown(() => pool.close());
  const report = SCORE_SOURCE_REPORTS[1]!;
  const text = reports.get(report.name)!.toString('utf8');
  const lines = text.split('\r\n');
  const sent = lines[0]!.split(',').indexOf('Send Count');
  const edit = (row: number, change: (cells: string[]) => string[]) => Buffer.from(lines.map((line, i) => (i === row ? change(line.split(',')).join(',') : line)).join('\r\n'));
  const broken = {
    'a count that is not a number': edit(120, (cells) => cells.map((cell, i) => (i === sent ? '12x' : cell))),
    'a short row': edit(200, (cells) => cells.slice(1)),
    'a quote inside an unquoted field': edit(5, (cells) => cells.map((cell, i) => (i === sent ? '1"2' : cell))),
    'no header': Buffer.alloc(0),
  };
  for (const [what, bytes] of Object.entries(broken)) {
    const onTheLoop = await validateCsvReport(chunked(bytes), report).then(() => undefined, refusal);
    const viaWorker = await inWorker(pool, report, bytes).then(() => undefined, refusal);
    t.ok(onTheLoop?.sanitize, `${what}: refused on the event loop`);
    t.same(viaWorker, onTheLoop, `${what}: the same refusal from the worker (${onTheLoop?.message})`);
  }
  t.equal((await inWorker(pool, report, reports.get(report.name)!)).count, tenant.size + 3, 'the worker still reads the next report');
});

t.test('a worker that stops mid-report fails every report it was reading closed', async (t) => {
  const pool = new CsvValidationPool({ threads: 1 });
  const [first, second] = [SCORE_SOURCE_REPORTS[0]!, SCORE_SOURCE_REPORTS[3]!];
  const jobs = [pool.start(first), pool.start(second)];
  await jobs[0]!.push(reports.get(first.name)!.subarray(0, 20_000));
  await jobs[1]!.push(reports.get(second.name)!.subarray(0, 20_000));
  await pool.close();
  for (const job of jobs) await t.rejects(job.end(), InternalInvariantError, 'no verdict from a stopped worker');
  t.throws(() => pool.start(first), InternalInvariantError, 'a closed pool validates nothing');
});

t.test('the snapshot cache with validation workers: the same snapshots and score as on the event loop; a failed validation serves nothing', async (t) => {
  const sim = await startSimulator({ users: 300, seed: 7, concealedNames: false, enforceGraphLimits: false });
  t.teardown(() => sim.close());
  const graph = new GraphClient({
    graphUrl: sim.graphUrl, downloadHosts: [`${sim.downloadUrl}/data/`],
    tokens: new EntraTokens({ credential: { kind: 'secret', tokenUrl: sim.entraTokenUrl, clientId: sim.clientId, clientSecret: sim.clientSecret }, authorityCa: sim.authorityCa }),
  });
  const pool = new CsvValidationPool({ threads: 2 });
  t.teardown(() => pool.close());
  const workers = new SnapshotCache({ client: graph, ttlMs: 60_000, summarizeCsv: scoreFactsSummarizer(), csvValidation: pool });
  const loop = new SnapshotCache({ client: graph, ttlMs: 60_000, summarizeCsv: scoreFactsSummarizer() });
  const grant: ScoreGrant = { policyName: 'p', dimensions: ['department'], kOrg: 10, kC: 5, cadence: 'daily' };
  const lookup = { current: async () => directory };
  const viaWorkers = await new OrgScores({ snapshots: workers, directory: lookup }).compute({ period: 'D30' }, grant, 'a');
  const onTheLoop = await new OrgScores({ snapshots: loop, directory: lookup }).compute({ period: 'D30' }, grant, 'a');
  t.same(viaWorkers.rows, onTheLoop.rows, 'the same score');
  t.same(viaWorkers.counts, onTheLoop.counts, 'the same suppression');
  const call = { version: 'v1.0', report: SCORE_SOURCE_REPORTS[2]!, period: 'D30' } as const;
  const [a, b] = [await workers.lease(call, 'csv'), await loop.lease(call, 'csv')];
  t.equal(a.count, b.count, 'the same rows');
  t.equal(a.digest, b.digest, 'the same stored bytes');
  a.release();
  b.release();

  // Validation that cannot happen (its workers stopped) fails the fetch: nothing is held or served.
  const stopped = new CsvValidationPool({ threads: 1 });
  await stopped.close();
  const failing = new SnapshotCache({ client: graph, ttlMs: 60_000, csvValidation: stopped });
  await t.rejects(failing.lease(call, 'csv'), InternalInvariantError);
  t.equal(failing.held(call, 'csv'), undefined, 'no snapshot held');
  t.equal(failing.stats.failures, 1);
});
