import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import t from 'tap';
import { columnsFor, REPORTS, type ReportSpec } from '../../src/catalogue/catalogue.js';
import { fromCsvText, fromJsonValue, type CellValue } from '../../src/catalogue/values.js';
import { KEYS, proxyCsv, proxyJsonPages, startStack, type Stack } from '../helpers/proxy-stack.js';
import { reportPath } from '../helpers/graph-client.js';
import { daysBefore, utcToday } from '../../src/catalogue/odata.js';

/** A policy releasing every column of every report: identifiers pseudonymised, everything else kept. */
async function allReportsPolicyDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-e2e-'));
  const reports = Object.fromEntries(
    REPORTS.filter(releasablePerRow).map((spec) => [spec.name, { rows: Object.fromEntries(spec.columns.map((c) => [c.json, c.role === 'identifier' ? 'pseudonymize' : 'keep'])) }]),
  );
  const policy = { name: 'e2e-everything', description: 'Test policy: every report, identifiers pseudonymised.', consumers: ['licence-tool'], pseudonyms: { keyId: 'licence-tool', epoch: 1 }, reports };
  await writeFile(join(dir, 'e2e.json'), JSON.stringify(policy, null, 2));
  return dir;
}

type Row = Record<string, CellValue>;

/** Team/group/site reports need a people count per row to be released per row (sites have none). */
const releasablePerRow = (spec: ReportSpec) => spec.shape !== 'entityDetail' || spec.peopleColumn !== undefined;

function csvRows(spec: ReportSpec, text: string): Row[] {
  if (!text.startsWith('\uFEFF')) throw new Error('no BOM');
  const [header, ...rows] = parse(text.slice(1)) as string[][];
  const columns = header!.map((h) => columnsFor(spec, 'csv').find((c) => c.header === h)!);
  return rows.map((r) => Object.fromEntries(columns.map((c, i) => [c.json, c.role === 'identifier' ? (r[i] === '' ? null : r[i]!) : fromCsvText(c, r[i]!)])));
}

function jsonRows(spec: ReportSpec, pages: Record<string, unknown>[]): Row[] {
  const columns = columnsFor(spec, 'json');
  const decode = (c: (typeof columns)[number], v: unknown): CellValue => (c.role === 'identifier' ? (v as string) : fromJsonValue(c, v));
  return pages.flatMap((page) =>
    (page.value as Record<string, unknown>[]).flatMap((item) => {
      const top = Object.fromEntries(columns.filter((c) => c.nested !== true).map((c) => [c.json, decode(c, item[c.json])]));
      const nested = spec.nestedProperty === undefined ? [{}] : (item[spec.nestedProperty] as Record<string, unknown>[]);
      return nested.map((n) => ({ ...top, ...Object.fromEntries(columns.filter((c) => c.nested === true).map((c) => [c.json, decode(c, n[c.json])])) }));
    }),
  );
}

function common(spec: ReportSpec, row: Row): Row {
  const shared = spec.columns.filter((c) => c.only === undefined).map((c) => c.json);
  return Object.fromEntries(shared.map((name) => [name, row[name] ?? null]));
}

t.test('every report, CSV and JSON, through the proxy: policy applied, every page reachable, the same rows', async (t) => {
  const stack = await startStack({ proxy: { policiesDir: await allReportsPolicyDir() } });
  t.teardown(() => stack.close());
  for (const spec of REPORTS) {
    const version = spec.versions.includes('v1.0') ? 'v1.0' : 'beta';
    const path = reportPath(spec, version);
    if (!releasablePerRow(spec)) {
      t.equal((await stack.get(`${reportPath(spec, 'beta')}?$format=application/json`, KEYS.licence)).status, 403, `${spec.name} is never released per row`);
      continue;
    }
    const csv = await proxyCsv(stack, `${path}?$format=text/csv`, KEYS.licence);
    t.equal(csv.status, 200, `${spec.name} CSV`);
    t.ok(csv.location?.startsWith(`${stack.proxy.url}/_downloads/`), `${spec.name}: the 302 points at the proxy, not at Graph's download host`);
    const top = spec.shape === 'counts' ? '' : '&$top=37';
    // JSON is a beta feature of the usage reports (v1.0 refuses it, as Graph does).
    const json = await proxyJsonPages(stack, `${reportPath(spec, 'beta')}?$format=application/json${top}`, KEYS.licence);
    t.equal(json.status, 200, `${spec.name} JSON`);
    const fromCsv = csvRows(spec, csv.text).map((r) => common(spec, r));
    const fromJson = jsonRows(spec, json.pages).map((r) => common(spec, r));
    t.ok(fromCsv.length > 0, `${spec.name} has rows`);
    t.same(fromJson, fromCsv, `${spec.name}: JSON and CSV release the same rows`);
    if (spec.shape !== 'counts' && fromJson.length > 37) t.ok(json.pages.length > 1, `${spec.name}: several pages`);
    for (const column of spec.columns.filter((c) => c.role === 'identifier' && c.only === undefined)) {
      for (const row of fromCsv) {
        const value = row[column.json];
        if (value !== null && value !== '') t.match(value, /^licence-tool\.1\./, `${spec.name} ${column.header} is pseudonymised`);
      }
    }
  }
});

t.test('the shipped policies: licence rows, denied reports, cohort-only consumers, unknown consumers', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const path = "/v1.0/reports/getOffice365ActiveUserDetail(period='D30')";
  const csv = await proxyCsv(stack, path, KEYS.licence);
  t.equal(csv.status, 200);
  const [header] = parse(csv.text.slice(1), { to_line: 1 }) as string[][];
  t.notOk(header!.includes('Display Name'), 'columns the policy does not name are dropped');
  t.ok(header!.includes('User Principal Name'));
  const first = await stack.get(path, KEYS.licence);
  t.equal(first.headers['x-policy-version'], stack.proxy.policies.current.version, 'X-Policy-Version carries the set hash');

  const denied = await stack.get("/v1.0/reports/getEmailActivityUserDetail(period='D30')", KEYS.licence);
  t.equal(denied.status, 403);
  t.equal(JSON.parse(denied.body.toString()).error.code, 'Forbidden');
  t.equal((await stack.get("/v1.0/reports/getOffice365ActiveUserDetail(period='D7')", KEYS.licence)).status, 403, 'a period the policy does not allow');
  t.equal((await stack.get(`/v1.0/reports/getOffice365ActiveUserDetail(date=${daysBefore(utcToday(), 5)})`, KEYS.licence)).status, 403, 'dates: false');
  t.equal((await stack.get(path, KEYS.onboarding)).status, 403, 'default deny');
  t.equal((await stack.get(path, KEYS.stranger)).status, 403, 'a consumer no policy names');
  const cohort = await stack.get("/beta/reports/getTeamsUserActivityUserDetail(period='D30')?$format=application/json", KEYS.vendor);
  t.equal(cohort.status, 200);
  const cohortRows = JSON.parse(cohort.body.toString()).value as Record<string, unknown>[];
  t.ok(cohortRows.length > 0 && cohortRows.every((r) => typeof r.dimension === 'string' && !('userPrincipalName' in r)), 'cohort-only consumers never get rows');
  t.equal((await stack.get(path)).status, 401, 'no key');
  t.equal((await stack.get(path, 'gpp_wrong')).status, 401, 'wrong key');
  t.equal((await stack.get(path, undefined, { authorization: 'Basic abc' })).status, 401, 'not a bearer key');
});

t.test('request grammar: Graph-shaped 4xx for unknown reports, parameters, periods and methods', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const cases: [string, number][] = [
    ["/v1.0/reports/getNoSuchReport(period='D7')", 400],
    ["/v1.0/reports/getOffice365ActiveUserDetail(period='D8')", 400],
    ["/v1.0/reports/getOffice365ActiveUserDetail(period='D30')?$filter=x", 400],
    ["/v1.0/reports/getOffice365ActiveUserDetail(period='D30')?foo=bar", 400],
    ["/v1.0/reports/getOffice365ActiveUserDetail(period='D30')?$top=5", 400],
    ["/v2.0/reports/getOffice365ActiveUserDetail(period='D30')", 404],
    ['/v1.0/reports/getOffice365ActiveUserDetail', 400],
  ];
  for (const [path, status] of cases) {
    const res = await stack.get(path, KEYS.licence);
    t.equal(res.status, status, path);
    const body = JSON.parse(res.body.toString());
    t.type(body.error.code, 'string');
    t.type(body.error.innerError['request-id'], 'string');
  }
  const { request } = await import('undici');
  const post = await request(`${stack.proxy.url}/v1.0/reports/getOffice365ActiveUserDetail(period='D30')`, { method: 'POST', dispatcher: stack.dispatcher, headers: { authorization: `Bearer ${KEYS.licence}` }, body: '{}' });
  t.equal(post.statusCode, 405);
  t.equal((await post.body.json() as { error: { code: string } }).error.code, 'MethodNotAllowed');
});

t.test('request-id and client-request-id headers as Graph sets them, and in the error body', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const mine = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
  const ok = await stack.get("/beta/reports/getOffice365ActiveUserDetail(period='D30')?$format=application/json&$top=1", KEYS.licence, { 'client-request-id': mine });
  t.equal(ok.status, 200);
  t.match(String(ok.headers['request-id']), uuid, 'every response names its request-id');
  t.equal(ok.headers['client-request-id'], mine, "the caller's client-request-id is echoed");
  const refused = await stack.get("/beta/reports/getOffice365ActiveUserDetail(period='D30')?$format=application/json", KEYS.onboarding, { 'client-request-id': mine });
  t.equal(refused.status, 403);
  const inner = JSON.parse(refused.body.toString()).error.innerError as Record<string, string>;
  t.equal(inner['client-request-id'], mine);
  t.equal(inner['request-id'], refused.headers['request-id'], 'the body and the header name the same request');
  t.not(refused.headers['request-id'], ok.headers['request-id'], 'a new id per request');
  const none = await stack.get("/v1.0/reports/getOffice365ActiveUserDetail(period='D8')", KEYS.licence);
  t.equal(none.headers['client-request-id'], none.headers['request-id'], 'without one, Graph repeats the request-id');
  const notGuid = await stack.get("/v1.0/reports/getOffice365ActiveUserDetail(period='D8')", KEYS.licence, { 'client-request-id': 'not-a-guid<script>' });
  t.equal(notGuid.headers['client-request-id'], notGuid.headers['request-id'], 'text that is not a GUID is never reflected');
  t.notOk(notGuid.body.toString().includes('script'));
});

async function firstCursor(stack: Stack, key: string): Promise<string> {
  const res = await stack.get("/beta/reports/getOffice365ActiveUserDetail(period='D30')?$format=application/json&$top=10", key);
  return String(JSON.parse(res.body.toString())['@odata.nextLink']);
}

t.test('sealed cursors and download links: opaque, bound to consumer and listing, tamper-evident', async (t) => {
  const stack = await startStack({ proxy: { policiesDir: await allReportsPolicyDir() } });
  t.teardown(() => stack.close());
  const next = await firstCursor(stack, KEYS.licence);
  t.ok(next.startsWith(`${stack.proxy.url}/beta/reports/getOffice365ActiveUserDetail(period='D30')?`));
  t.notOk(next.includes(stack.sim.graphUrl), 'the link never names Graph');
  t.equal((await stack.get(next, KEYS.licence)).status, 200);
  const token = new URL(next).searchParams.get('$skiptoken')!;
  const flipped = token.slice(0, 20) + (token[20] === 'A' ? 'B' : 'A') + token.slice(21);
  t.equal((await stack.get(next.replace(token, flipped), KEYS.licence)).status, 400, 'a tampered cursor is refused');
  const other = next.replace("getOffice365ActiveUserDetail(period='D30')", "getOffice365ActiveUserDetail(period='D90')");
  t.equal((await stack.get(other, KEYS.licence)).status, 400, 'a cursor for another listing is refused');

  const redirect = await stack.get("/v1.0/reports/getOffice365ActiveUserDetail(period='D30')", KEYS.licence);
  const location = String(redirect.headers.location);
  t.notOk(location.includes(stack.sim.downloadUrl));
  t.equal((await stack.get(location, KEYS.vendor)).status, 403, "another consumer's key cannot use the link");
  t.equal((await stack.get(location, KEYS.licence)).status, 200, 'the owner may follow with its key (curl -L does)');
  t.equal((await stack.get(location.slice(0, -3) + 'xyz')).status, 404);
});

t.test('a download link expires, and a policy change invalidates links and cursors', async (t) => {
  const stack = await startStack({ proxy: { downloadLinkSeconds: 1 } });
  t.teardown(() => stack.close());
  const redirect = await stack.get("/v1.0/reports/getOffice365ActiveUserDetail(period='D30')", KEYS.licence);
  await new Promise((r) => setTimeout(r, 1100));
  const expired = await stack.get(String(redirect.headers.location));
  t.equal(expired.status, 403);
  t.equal(JSON.parse(expired.body.toString()).error.code, 'TokenExpired');
});

t.test('quasi-identifiers through the proxy: JSON pages and CSV release the same k-anonymous rows', async (t) => {
  const stack = await startStack({ simulator: { users: 300 } });
  t.teardown(() => stack.close());
  const spec = REPORTS.find((r) => r.name === 'getOffice365ActiveUserDetail')!;
  const csv = await proxyCsv(stack, "/v1.0/reports/getOffice365ActiveUserDetail(period='D30')", KEYS.licence);
  const json = await proxyJsonPages(stack, "/beta/reports/getOffice365ActiveUserDetail(period='D30')?$format=application/json&$top=40", KEYS.licence);
  t.equal(json.status, 200);
  t.ok(json.pages.length > 3);
  const released = (row: Row) => Object.fromEntries(Object.entries(row).filter(([, v]) => v !== undefined));
  const fromCsv = csvRows(spec, csv.text).map(released);
  const fromJson = jsonRows(spec, json.pages).map((r) => Object.fromEntries(Object.keys(fromCsv[0]!).map((k) => [k, r[k] ?? null])));
  t.same(fromJson, fromCsv);
  const counts = new Map<string, number>();
  for (const row of fromCsv) {
    const key = JSON.stringify([row.assignedProducts, row.isDeleted]);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  t.ok([...counts.values()].every((n) => n >= 5), 'every released combination occurs at least k = 5 times');
  t.ok(stack.logs.some((l) => /"rowsSuppressed":[1-9]/.test(l)), 'rare combinations were suppressed');
});

t.test('an unparseable request gets a Graph-shaped 400, and its raw bytes (with the key) reach no log', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const { connect } = await import('node:tls');
  const url = new URL(stack.proxy.url);
  const socket = connect({ host: url.hostname, port: Number(url.port), ca: stack.tls.cert });
  await new Promise((resolve) => socket.once('secureConnect', resolve));
  let answer = '';
  socket.on('data', (d) => (answer += d));
  socket.write(`GET /v1.0/reports/x HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${KEYS.licence}\r\nBad Header Line\r\n\r\n`);
  await new Promise((resolve) => socket.once('close', resolve));
  t.match(answer, /^HTTP\/1\.1 400 /);
  t.equal(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).error.code, 'BadRequest');
  t.ok(stack.logs.some((l) => l.includes('unreadable request')), 'logged (debug level in the tests)');
  t.notOk(stack.logs.join('\n').includes(KEYS.licence), 'the key is in no log line');
});

t.test('team, group and counts reports: no row about fewer than k people, no count of 1..k-1 (CSV and JSON)', async (t) => {
  const stack = await startStack({ simulator: { users: 300 }, proxy: { policiesDir: await allReportsPolicyDir() } });
  t.teardown(() => stack.close());
  const k = 5;
  for (const [name, people] of [['getTeamsTeamActivityDetail', 'Active Users'], ['getOffice365GroupsActivityDetail', 'Member Count']] as const) {
    const spec = REPORTS.find((r) => r.name === name)!;
    const csv = await proxyCsv(stack, `${reportPath(spec, 'v1.0')}?$format=text/csv`, KEYS.licence);
    const rows = parse(csv.text.slice(1), { columns: true }) as Record<string, string>[];
    t.ok(rows.length > 0, `${name} releases some rows`);
    t.ok(rows.every((r) => Number(r[people]) >= k), `${name}: every released row counts at least k people`);
    const json = await proxyJsonPages(stack, `${reportPath(spec, 'beta')}?$format=application/json`, KEYS.licence);
    t.equal(jsonRows(spec, json.pages).length, rows.length, `${name}: JSON withholds the same rows`);
  }
  t.ok(stack.logs.some((l) => l.includes('getOffice365GroupsActivityDetail') && /"rowsSuppressed":[1-9]/.test(l)), 'the simulated tenant has small groups, and they were withheld');
  let emptiedCells = 0;
  for (const spec of REPORTS.filter((r) => r.shape === 'counts')) {
    const csv = await proxyCsv(stack, `${reportPath(spec, spec.versions.includes('v1.0') ? 'v1.0' : 'beta')}?$format=text/csv`, KEYS.licence);
    const rows = parse(csv.text.slice(1), { columns: true }) as Record<string, string>[];
    for (const column of spec.columns.filter((c) => c.role === 'metric' && c.kind === 'int' && !c.header.includes('(Byte)'))) {
      for (const row of rows) {
        const v = row[column.header];
        if (v !== undefined && v !== '') t.notOk(Number(v) >= 1 && Number(v) < k, `${spec.name} ${column.header} is not 1..k-1`);
      }
    }
  }
  for (const line of stack.logs) emptiedCells += Number(/"cellsSuppressed":(\d+)/.exec(line)?.[1] ?? 0);
  t.ok(emptiedCells > 0, `small counts were emptied (${emptiedCells} cells)`);
});
