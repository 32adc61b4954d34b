import { createHash } from 'node:crypto';
import t from 'tap';
import { Directory } from '../../src/cohort/directory.js';
import { SnapshotCache } from '../../src/graph/snapshots.js';
import { validateCsvReport } from '../../src/sanitize/csv-report.js';
import { scoreRows } from '../../src/score/org-score.js';
import { OrgScores, type ScoreGrant } from '../../src/score/org-scores.js';
import { ReportFacts, scoreFactsSummarizer, ScoreFacts, SCORE_SOURCE_REPORTS, scoreTables } from '../../src/score/score-facts.js';
import { chunked, countingReads, fixtureReports, scoreFixtureTenant, scoreTenantGraph, SCORE_FIXTURE_GOLDEN as GOLDEN } from '../helpers/score-fixtures.js';

const tenant = scoreFixtureTenant();
const reports = fixtureReports(tenant);
const directory = new Directory(Array.from({ length: tenant.size }, (_, i) => tenant.user(i)));
const released = (facts: ScoreFacts) => JSON.stringify(scoreRows(scoreTables(facts, directory, ['department', 'officeLocation'], 10, 5)));

t.test('facts made in the validation pass are the facts read from the CSV afterwards, and the score is the one before the one-pass join', async (t) => {
  const read = new ScoreFacts();
  const validated = new ScoreFacts();
  const reportFactsSummarizer = scoreFactsSummarizer();
  for (const report of SCORE_SOURCE_REPORTS) {
    await read.addReport(report, chunked(reports.get(report.name)!));
    const summarizer = reportFactsSummarizer(report)!;
    await validateCsvReport(chunked(reports.get(report.name)!), report, undefined, (batch) => summarizer.add(batch));
    await validated.addReportFacts(summarizer.result());
  }
  const people = (f: ScoreFacts) => [...f.people].map(([upn, p]) => [upn, { ...Object.fromEntries(Object.keys(p).map((k) => [k, p[k as keyof typeof p]])) }]);
  t.same(people(validated), people(read), 'the same people, in the same order, with the same facts');
  t.equal(validated.unnamed.length, read.unnamed.length);
  t.equal(validated.organizationSize, read.organizationSize);
  t.equal(validated.refreshDate, read.refreshDate);
  t.equal(released(validated), released(read), 'the same released rows');
  // The rows the score released before facts were made in one pass (src/score/score-facts.ts at 325bcdf, this fixture).
  t.equal(createHash('sha256').update(released(read)).digest('hex'), GOLDEN, 'the same released rows as before the change');
});

t.test('user names in every form join as before: the validation pass judges each once, where it lies, and the facts are those read from the CSV', async (t) => {
  const { canonicalIdentifier } = await import('../../src/sanitize/pseudonyms.js');
  const { isUserName } = await import('../../src/catalogue/identifiers.js');
  const report = SCORE_SOURCE_REPORTS.find((r) => r.name === 'getEmailActivityUserDetail')!;
  const text = reports.get(report.name)!.toString('utf8');
  const lines = text.split('\r\n');
  const upn = lines[0]!.split(',').indexOf('User Principal Name');
  const names = ['jane@contoso.com', 'JANE@Contoso.com', ' jane@contoso.com', 'Zoë@contoso.com', 'zoë@contoso.com', '(Unknown)', 'FE7CC8C15246EDCCA289C9A4022762F7', 'fe7cc8c15246edcca289c9a4022762f7', 'a@@b', '"quoted@contoso.com"', '"Quoted, Comma@contoso.com"', '', 'x\u00a0@contoso.com'];
  const rows = names.map((name, i) => lines[1 + i]!.split(',').map((cell, c) => (c === upn ? name : cell)).join(','));
  const bytes = Buffer.from(lines[0] + '\r\n' + rows.join('\r\n') + '\r\n');
  const validated = scoreFactsSummarizer()(report)!;
  await validateCsvReport(chunked(bytes), report, undefined, (batch) => validated.add(batch), validated.columns);
  const read = await ReportFacts.read(report, chunked(bytes));
  const facts = validated.result();
  const named = (f: ReportFacts) => f.namedIds.toArray().map((id) => f.index.upns.at(id));
  t.same(named(facts), named(read), 'the same people in the same rows');
  t.same(facts.namedCodes.toArray(), read.namedCodes.toArray());
  t.same(facts.unnamedCodes.toArray(), read.unnamedCodes.toArray());
  const cells = names.map((name) => (name.startsWith('"') ? name.slice(1, -1) : name));
  t.same(named(read), cells.filter(isUserName).map(canonicalIdentifier), 'each user name, canonical; placeholders apart');
});

t.test('a score report without a column the score reads is refused by name, read in the validation pass or afterwards', async (t) => {
  const report = SCORE_SOURCE_REPORTS[1]!;
  const bytes = Buffer.from(reports.get(report.name)!.toString('utf8').replace('Send Count', 'Sent Count'));
  const summarizer = scoreFactsSummarizer()(report)!;
  await t.rejects(validateCsvReport(chunked(bytes), report, undefined, (batch) => summarizer.add(batch)), { code: 'MissingColumn' });
  await t.rejects(ReportFacts.read(report, chunked(bytes)), { code: 'MissingColumn' });
});

t.test('the proxy parses each score report once: the score is made from the facts of the snapshot fetch, and is the same', async (t) => {
  const graph = await scoreTenantGraph(t);
  const onePass = countingReads(new SnapshotCache({ client: graph, ttlMs: 60_000, summarizeCsv: scoreFactsSummarizer() }));
  const twoPasses = countingReads(new SnapshotCache({ client: graph, ttlMs: 60_000 }));
  const grant: ScoreGrant = { policyName: 'p', dimensions: ['department'], kOrg: 10, kC: 5, cadence: 'daily' };
  const lookup = { current: async () => directory };
  const fast = await new OrgScores({ snapshots: onePass, directory: lookup }).compute({ period: 'D30' }, grant, 'a');
  const slow = await new OrgScores({ snapshots: twoPasses, directory: lookup }).compute({ period: 'D30' }, grant, 'a');
  t.equal(onePass.reads, 0, 'no score report read again after its fetch');
  t.equal(twoPasses.reads, SCORE_SOURCE_REPORTS.length, 'without summaries each report is read again');
  t.same(fast.rows, slow.rows, 'the same score');
  t.same(fast.counts, slow.counts, 'the same suppression');

  // A summarizer that fails loses nothing: the snapshot serves, without a summary (its reader parses it instead).
  const failing = new SnapshotCache({ client: graph, ttlMs: 60_000, summarizeCsv: () => ({ add: () => { throw new Error('cannot summarize'); }, result: () => 'never' }) });
  const snapshot = await failing.lease({ version: 'v1.0', report: SCORE_SOURCE_REPORTS[0]!, period: 'D30' }, 'csv');
  t.ok(snapshot.count > 0, 'the snapshot is fetched and validated');
  t.equal(snapshot.takeSummary(), undefined, 'without a summary');
  snapshot.release();
  const summarized = new SnapshotCache({ client: graph, ttlMs: 60_000, summarizeCsv: scoreFactsSummarizer() });
  const held = await summarized.lease({ version: 'v1.0', report: SCORE_SOURCE_REPORTS[0]!, period: 'D30' }, 'csv');
  t.type(held.takeSummary(), ReportFacts, 'the summary is there once');
  t.equal(held.takeSummary(), undefined, 'and then freed');
  held.release();
});

t.test('a held snapshot fetched before `fetchedAfter` is fetched again; one fetched after it is served from the cache', async (t) => {
  const graph = await scoreTenantGraph(t);
  const cache = new SnapshotCache({ client: graph, ttlMs: 60_000 });
  const call = { version: 'v1.0', report: SCORE_SOURCE_REPORTS[0]!, period: 'D30' } as const;
  const first = await cache.lease(call, 'csv');
  first.release();
  const held = await cache.lease(call, 'csv', { fetchedAfter: first.fetchedAt });
  t.equal(held, first, 'fetched at or after the mark: the same snapshot');
  held.release();
  const fresh = await cache.lease(call, 'csv', { fetchedAfter: first.fetchedAt + 1 });
  t.not(fresh, first, 'fetched before the mark: fetched again');
  t.equal(cache.stats.fetches, 2);
  fresh.release();
  const after = await cache.lease(call, 'csv');
  t.equal(after, fresh, 'the new one is held from then on');
  after.release();
});

t.test('a directory built page by page is the directory built at once', async (t) => {
  const entries = Array.from({ length: tenant.size }, (_, i) => tenant.user(i));
  async function* pages() {
    for (let at = 0; at < entries.length; at += 37) yield entries.slice(at, at + 37);
  }
  const paged = await Directory.fromPages(pages());
  t.equal(paged.size, directory.size);
  for (const attribute of ['department', 'officeLocation', 'country'] as const) t.same(paged.domain(attribute), directory.domain(attribute));
  t.same(paged.combinations(['department', 'officeLocation']), directory.combinations(['department', 'officeLocation']));
  t.same(entries.map((e) => paged.entryOf(e.userPrincipalName)), entries.map((e) => directory.entryOf(e.userPrincipalName)));
});

