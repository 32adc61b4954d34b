/**
 * The report shapes real tenants return (test/fixtures/real-graph, copied from ../shared/cases/real-graph), each
 * with its right value, served to the real proxy by an independent Graph double.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import t from 'tap';
import { Directory } from '../../src/cohort/directory.js';
import { ScoreFacts, scoreTables } from '../../src/score/score-facts.js';
import { findReport } from '../../src/catalogue/catalogue.js';
import { startGraphDouble, type GraphDouble } from '../helpers/graph-double.js';
import { KEYS, proxyCsv, startProxyFor, type ProxyUnderTest } from '../helpers/proxy-stack.js';

const CASES = fileURLToPath(new URL('../fixtures/real-graph/', import.meta.url));
const POLICIES = fileURLToPath(new URL('../fixtures/real-graph/policies', import.meta.url));
const file = (name: string) => readFile(`${CASES}${name}`);
const csvRecords = (text: string) => parse(text, { bom: true, columns: true }) as Record<string, string>[];

async function servedBy(t: { teardown(fn: () => Promise<void>): void }, reports: Record<string, Buffer>, directory?: unknown): Promise<{ double: GraphDouble; proxy: ProxyUnderTest }> {
  const double = await startGraphDouble({ reports, ...(directory !== undefined ? { directory } : {}) });
  const proxy = await startProxyFor(double, { proxy: { policiesDir: POLICIES, snapshotTtlSeconds: 0 } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  return { double, proxy };
}

type CohortJson = { value: { dimension: string; cohort: string[]; users: number | null; activeUsers: number | null; suppressed: boolean }[] };

t.test("03: '(Unknown)' UPNs are different people: 40 people, 22 active (Microsoft's definition), whatever the row order", async (t) => {
  const directory = JSON.parse((await file('03-directory.json')).toString('utf8'));
  const outputs: string[] = [];
  for (const name of ['03-unknown-upn-teams.csv', '03c-unknown-upn-teams-interleaved.csv']) {
    const { proxy } = await servedBy(t, { getTeamsUserActivityUserDetail: await file(name) }, directory);
    const json = await proxy.get('/cohorts/getTeamsUserActivityUserDetail?period=D30', KEYS.vendor);
    t.equal(json.status, 200, name);
    const rows = (JSON.parse(json.body.toString('utf8')) as CohortJson).value;
    const organization = rows.find((r) => r.dimension === 'organization')!;
    t.match(organization, { users: 40, activeUsers: 22, suppressed: false }, `${name}: the organisation`);
    const outside = rows.find((r) => r.dimension === 'department' && r.cohort[0] === '(not in directory)')!;
    t.match(outside, { users: 12, activeUsers: 6 }, `${name}: the 12 unknown rows are 12 people outside the directory, never joined to an entry`);
    t.equal(rows.filter((r) => r.dimension === 'department' && !r.suppressed).reduce((sum, r) => sum + r.users!, 0), 40, `${name}: departments add up`);
    const csv = await proxy.get('/cohorts/getTeamsUserActivityUserDetail?period=D30&format=csv', KEYS.vendor);
    outputs.push(csv.body.toString('utf8'));
  }
  t.equal(outputs[1], outputs[0], 'the interleaved file gives exactly the same output bytes');
});

t.test("03: the org score keeps every '(Unknown)' row a person of its own, counted where its one report decides", async (t) => {
  const report = findReport('getTeamsUserActivityUserDetail')!;
  for (const name of ['03-unknown-upn-teams.csv', '03c-unknown-upn-teams-interleaved.csv']) {
    const facts = new ScoreFacts();
    const bytes = await file(name);
    await facts.addReport(report, (async function* () { yield bytes; })());
    t.equal(facts.people.size, 28, `${name}: 28 named people`);
    t.equal(facts.unnamed.length, 12, `${name}: 12 rows without a name, never merged`);
    t.equal(facts.organizationSize, 40, `${name}: an organisation of 40`);
    const tables = scoreTables(facts, new Directory([]), [], 10, 5);
    const meetings = tables.find((c) => c.category.id === 'meetings')!.table.cells[0]!;
    t.equal(meetings.users, 22, `${name}: Meetings (read from this one report) counts the 22 people in meetings, 6 of them unnamed`);
  }
});

t.test("03b: pseudonymised rows never give different '(Unknown)' people one shared pseudonym; the audit line counts them", async (t) => {
  const { proxy } = await servedBy(t, { getOffice365ActiveUserDetail: await file('03b-unknown-upn-active-users.csv') });
  const csv = await proxyCsv(proxy, "/v1.0/reports/getOffice365ActiveUserDetail(period='D30')", KEYS.licence);
  t.equal(csv.status, 200);
  const rows = csvRecords(csv.text);
  t.equal(rows.length, 6);
  const pseudonyms = rows.map((r) => r['User Principal Name']!);
  t.same(pseudonyms.filter((p) => p === ''), ['', '', ''], "the three '(Unknown)' rows are released with an empty pseudonym");
  t.equal(new Set(pseudonyms.filter((p) => p !== '')).size, 3, 'the three named people keep three distinct pseudonyms');
  t.notOk(csv.text.includes('(Unknown)') || csv.text.includes('contoso'), 'no placeholder or identifier is released');
  const withheld = proxy.logs.map((l) => (JSON.parse(l) as { audit?: { sanitize?: { pseudonymsWithheld?: number } } }).audit?.sanitize?.pseudonymsWithheld ?? 0);
  t.ok(withheld.includes(3), 'the audit line of the download counts the three withheld pseudonyms');
  const json = await proxy.get("/beta/reports/getOffice365ActiveUserDetail(period='D30')?$format=application/json", KEYS.licence);
  t.equal(json.status, 200);
  const items = (JSON.parse(json.body.toString('utf8')) as { value: { userPrincipalName: string | null }[] }).value;
  t.same(items.map((i) => i.userPrincipalName).filter((p) => p === null), [null, null, null], 'JSON releases them as null');
});

t.test("05: getTeamsUserActivityCounts as a real tenant sends it: the meeting '... Count' columns pass, in Graph's order", async (t) => {
  const { proxy } = await servedBy(t, { getTeamsUserActivityCounts: await file('05-teams-activity-counts-real-header.csv') });
  const csv = await proxyCsv(proxy, "/v1.0/reports/getTeamsUserActivityCounts(period='D7')", KEYS.licence);
  t.equal(csv.status, 200, csv.text);
  t.equal(csv.text.split('\r\n')[0], '\uFEFFReport Date,Team Chat Messages,Meetings Organized Count,Meetings Attended Count', "Graph's order");
  const rows = csvRecords(csv.text);
  t.same(rows.find((r) => r['Report Date'] === '2026-11-26'), { 'Report Date': '2026-11-26', 'Team Chat Messages': '120', 'Meetings Organized Count': '12', 'Meetings Attended Count': '38' });
  const json = await proxy.get("/beta/reports/getTeamsUserActivityCounts(period='D7')?$format=application/json", KEYS.licence);
  t.equal(json.status, 200);
  const items = (JSON.parse(json.body.toString('utf8')) as { value: Record<string, unknown>[] }).value;
  t.same(items.find((i) => i.reportDate === '2026-11-25'), { reportDate: '2026-11-25', teamChatMessages: 110, meetingsOrganizedCount: 11, meetingsAttendedCount: 33 });
});

t.test("07: concealed names, zero GUIDs, BOM, CRLF and Graph's double space in 'Used  Chrome OS' (regression)", async (t) => {
  const input = await file('07-teams-device-concealed-double-space.csv');
  const { proxy } = await servedBy(t, { getTeamsDeviceUsageUserDetail: input });
  const csv = await proxyCsv(proxy, "/v1.0/reports/getTeamsDeviceUsageUserDetail(period='D7')", KEYS.licence);
  t.equal(csv.status, 200, csv.text);
  t.equal(csv.text.split('\r\n')[0], '\uFEFFUser Principal Name,Used Web,Used  Chrome OS,Is Licensed');
  const rows = csvRecords(csv.text);
  const inputRows = csvRecords(input.toString('utf8'));
  t.equal(rows.length, inputRows.length);
  t.same(rows.map((r) => r['Used  Chrome OS']), inputRows.map((r) => r['Used  Chrome OS']));
  for (const row of inputRows) t.notOk(csv.text.includes(row['User Principal Name']!), 'no concealed id is released');
  t.equal(new Set(rows.map((r) => r['User Principal Name'])).size, rows.length, 'distinct concealed ids keep distinct pseudonyms');
});

t.test('rows that match nobody in the directory: the 409 says so, without claiming a setting the tenant does not have', async (t) => {
  const others = { value: [{ userPrincipalName: 'someone.else@contoso.example', department: 'Legal' }] };
  const { proxy } = await servedBy(t, { getTeamsUserActivityUserDetail: await file('03-unknown-upn-teams.csv') }, others);
  const res = await proxy.get('/cohorts/getTeamsUserActivityUserDetail?period=D30', KEYS.vendor);
  t.equal(res.status, 409);
  const error = (JSON.parse(res.body.toString('utf8')) as { error: { code: string; message: string } }).error;
  t.equal(error.code, 'CohortsUnavailable');
  t.match(error.message, /^No row of this report names a user the directory has/);
  t.notMatch(error.message, /displayConcealedNames is true/, 'the setting is off: the message does not claim it is on');
});
