import t from 'tap';
import { parse } from 'csv-parse/sync';
import { request } from 'undici';
import { REPORTS, findReport } from '../../src/catalogue/catalogue.js';
import { startSimulator } from '../../src/simulator/server.js';
import { bearer, decodeCsv, fetchCsv, fetchJsonRows, getJson, getToken, reportPath } from '../helpers/graph-client.js';
import { daysBefore, utcToday } from '../../src/catalogue/odata.js';

// Graph serves date= for the past 28 days only, so the tenant's refresh date follows the calendar.
const REFRESH = daysBefore(utcToday(), 2);
const graphError = { error: { code: String, message: String, innerError: { 'request-id': String, date: String } } };

t.test('simulated tenant over real HTTP', async (t) => {
  const sim = await startSimulator({ users: 120, seed: 42, refreshDate: REFRESH, concealedNames: false, enforceGraphLimits: false });
  t.teardown(() => sim.close());
  const auth = await bearer(sim);

  t.test('token endpoint: client credentials, AAD-style refusal of a wrong secret', async (t) => {
    const good = await getToken(sim);
    t.equal(good.status, 200);
    t.match(good.body, { token_type: 'Bearer', expires_in: 3599, access_token: /^ey/ });
    const bad = await getToken(sim, 'wrong-secret');
    t.equal(bad.status, 401);
    t.match(bad.body, { error: 'invalid_client', error_codes: [7000215], error_description: /AADSTS7000215/ });
    t.notMatch(JSON.stringify(bad.body), /wrong-secret/, 'the refused secret is not echoed');
  });

  t.test('CSV: 302 to the download host, BOM, catalogue headers; the download refuses an Authorization header', async (t) => {
    const spec = findReport('getTeamsUserActivityUserDetail')!;
    const first = await request(`${sim.graphUrl}${reportPath(spec, 'v1.0')}`, { headers: auth });
    await first.body.dump();
    t.equal(first.statusCode, 302);
    const location = String(first.headers.location);
    t.ok(location.startsWith(`${sim.downloadUrl}/data/v1.0/download?token=`), 'Location is on the separate download host');
    const withAuth = await request(location, { headers: auth });
    t.equal(withAuth.statusCode, 400);
    t.match(await withAuth.body.json(), graphError);
    t.equal(sim.stats.downloadsWithAuthorization, 1);
    const text = await fetchCsv(sim, reportPath(spec, 'v1.0'), auth);
    t.ok(text.startsWith('\uFEFFReport Refresh Date,'), 'UTF-8 BOM then the header');
    t.equal(decodeCsv(spec, text).length, 120, 'one row per user');
    const forged = await request(`${location.slice(0, -4)}AAAA`);
    t.equal(forged.statusCode, 401);
    await forged.body.dump();
  });

  t.test('expired download links are refused', async (t) => {
    const short = await startSimulator({ users: 20, refreshDate: REFRESH, downloadLinkSeconds: 1 });
    t.teardown(() => short.close());
    const first = await request(`${short.graphUrl}${reportPath(findReport('getEmailActivityUserDetail')!)}`, { headers: await bearer(short) });
    await first.body.dump();
    await new Promise((r) => setTimeout(r, 2100));
    const late = await request(String(first.headers.location));
    t.equal(late.statusCode, 403);
    t.match(await late.body.json(), { error: { code: 'TokenExpired' } });
  });

  t.test('every report, v1.0 CSV and beta JSON through all pages, has the same rows', async (t) => {
    for (const spec of REPORTS) {
      const csv = decodeCsv(spec, await fetchCsv(sim, reportPath(spec, spec.versions[0]), auth));
      const top = spec.shape === 'counts' ? '' : '&$top=50';
      const { rows, pages } = await fetchJsonRows(sim, spec, `${reportPath(spec, 'beta')}?$format=application/json${top}`, auth);
      const shared = spec.columns.filter((c) => c.only === undefined).map((c) => c.json);
      const project = (r: Record<string, unknown>) => Object.fromEntries(shared.map((k) => [k, r[k]]));
      t.same(rows.map(project), csv.map(project), `${spec.name}: CSV and JSON agree (${rows.length} rows, ${pages} pages)`);
      t.ok(rows.length > 0, `${spec.name} has rows`);
      if (spec.shape !== 'counts' && spec.entity === 'user') t.ok(pages >= 3, `${spec.name} is paged`);
    }
  });

  t.test('detail reports agree with counts reports, day by day and over the period', async (t) => {
    const detail = findReport('getEmailActivityUserDetail')!;
    const counts = (await fetchJsonRows(sim, findReport('getEmailActivityCounts')!, `/beta/reports/getEmailActivityCounts(period='D7')?$format=application/json`, auth)).rows;
    const userCounts = (await fetchJsonRows(sim, findReport('getEmailActivityUserCounts')!, `/beta/reports/getEmailActivityUserCounts(period='D7')?$format=application/json`, auth)).rows;
    t.equal(counts.length, 7);
    let weekSends = 0;
    for (const [i, day] of counts.entries()) {
      const date = String(day.reportDate);
      const rows = decodeCsv(detail, await fetchCsv(sim, `/v1.0/reports/getEmailActivityUserDetail(date=${date})`, auth));
      const sends = rows.reduce((s, r) => s + Number(r.sendCount), 0);
      weekSends += sends;
      t.equal(Number(day.send ?? 0), sends, `${date}: Send total equals the sum of per-user sends`);
      t.equal(Number(userCounts[i]!.send ?? 0), rows.filter((r) => Number(r.sendCount) > 0).length, `${date}: senders counted`);
    }
    const week = decodeCsv(detail, await fetchCsv(sim, `/v1.0/reports/getEmailActivityUserDetail(period='D7')`, auth));
    t.equal(week.reduce((s, r) => s + Number(r.sendCount), 0), weekSends, 'D7 detail equals the sum of the daily counts');
  });

  t.test('concealed names: 32-hex names and zero GUIDs, toggled through /admin/reportSettings', async (t) => {
    const settings = `${sim.graphUrl}/v1.0/admin/reportSettings`;
    t.match((await getJson(settings, auth)).body, { displayConcealedNames: false });
    const patch = await request(settings, { method: 'PATCH', headers: { ...auth, 'content-type': 'application/json' }, body: '{"displayConcealedNames":true}' });
    t.equal(patch.statusCode, 204);
    await patch.body.dump();
    t.teardown(() => { sim.concealedNames = false; });
    const spec = findReport('getTeamsUserActivityUserDetail')!;
    const rows = decodeCsv(spec, await fetchCsv(sim, reportPath(spec), auth));
    t.ok(rows.every((r) => /^[0-9A-F]{32}$/.test(String(r.userPrincipalName))), 'UPNs are 32 uppercase hex');
    t.ok(rows.every((r) => r.userId === '00000000-0000-0000-0000-000000000000'), 'user ids are zero GUIDs');
    t.equal(new Set(rows.map((r) => r.userPrincipalName)).size, rows.length, 'concealed ids stay distinct');
    t.equal(rows[0]!.tenantDisplayName, 'CONTOSO', 'the tenant name stays real, as in Graph');
    const email = decodeCsv(findReport('getEmailActivityUserDetail')!, await fetchCsv(sim, reportPath(findReport('getEmailActivityUserDetail')!), auth));
    t.equal(email[0]!.userPrincipalName, rows[0]!.userPrincipalName, 'the same user has the same concealed id across reports');
    t.not(email[0]!.displayName, email[0]!.userPrincipalName, 'UPN and display name conceal to different values');
    const bad = await request(settings, { method: 'PATCH', headers: { ...auth, 'content-type': 'application/json' }, body: '{"displayConcealedNames":"yes"}' });
    t.equal(bad.statusCode, 400);
    t.match(await bad.body.json(), graphError);
  });

  t.test('/users: $select, paging, deleted users absent', async (t) => {
    const all: Record<string, unknown>[] = [];
    let url: string | undefined = `${sim.graphUrl}/v1.0/users?$select=id,userPrincipalName,department,officeLocation,country&$top=40`;
    while (url !== undefined) {
      const page = await getJson(url, auth);
      t.equal(page.status, 200);
      all.push(...page.body.value);
      url = page.body['@odata.nextLink'];
    }
    const deleted = Array.from({ length: 120 }, (_, i) => sim.tenant.user(i)).filter((u) => u.deletedDay !== null).length;
    t.equal(all.length, 120 - deleted);
    t.same(Object.keys(all[0]!).sort(), ['country', 'department', 'id', 'officeLocation', 'userPrincipalName']);
    const bad = await getJson(`${sim.graphUrl}/v1.0/users?$select=salary`, auth);
    t.equal(bad.status, 400);
    t.match(bad.body, graphError);
  });

  t.test('departments and offices are skewed and include cohorts of 1-4 people', async (t) => {
    const big = await startSimulator({ users: 600, seed: 3, refreshDate: REFRESH });
    t.teardown(() => big.close());
    const sizes = new Map<string, number>();
    for (let i = 0; i < 600; i++) {
      const u = big.tenant.user(i);
      sizes.set(u.department, (sizes.get(u.department) ?? 0) + 1);
      sizes.set(`office:${u.officeLocation}`, (sizes.get(`office:${u.officeLocation}`) ?? 0) + 1);
    }
    for (const [name, size] of [['Legal', 1], ['Internal Audit', 2], ['Ombuds Office', 3], ['Executive Office', 4], ['office:Reykjavik', 2], ['office:Nairobi', 3]] as const) {
      t.equal(sizes.get(name), size, `${name} has ${size}`);
    }
    t.ok(sizes.get('Engineering')! > 3 * sizes.get('Finance')!, 'large departments dwarf small ones');
  });

  t.test('Graph-shaped errors for bad input, never a crash', async (t) => {
    const cases: [string, Record<string, string>, number][] = [
      ["/v1.0/reports/getTeamsUserActivityUserDetail(period='D8')", auth, 400],
      ["/v1.0/reports/getNoSuchReport(period='D7')", auth, 400],
      ['/v1.0/reports/getEmailActivityUserDetail(date=2020-01-01)', auth, 400],
      ["/beta/reports/getEmailActivityUserDetail(period='D7')?$format=application/json&$skiptoken=forged", auth, 400],
      ["/v1.0/reports/getEmailActivityUserDetail(period='D7')", {}, 401],
      ["/v1.0/reports/getEmailActivityUserDetail(period='D7')", { authorization: 'Bearer not-a-token' }, 401],
      ['/v1.0/reports/%E0%A4%A', auth, 400],
      ['/v1.0/nothing/here', auth, 404],
      [`/v1.0/reports/${'x'.repeat(5000)}`, auth, 400],
    ];
    for (const [path, headers, status] of cases) {
      const res = await getJson(`${sim.graphUrl}${path}`, headers);
      t.equal(res.status, status, path.slice(0, 80));
      t.match(res.body, graphError, `${path.slice(0, 60)}: Graph error shape`);
    }
    const json = await request(`${sim.graphUrl}/beta/users`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{not json' });
    t.ok(json.statusCode >= 400 && json.statusCode < 500);
    t.match(await json.body.json(), graphError);
  });

  t.test('expired token mid-run: 401 until a new token is fetched', async (t) => {
    const path = `${sim.graphUrl}/beta/reports/getEmailActivityCounts(period='D7')?$format=application/json`;
    t.equal((await getJson(path, auth)).status, 200);
    sim.expireTokens();
    await new Promise((r) => setTimeout(r, 1100));
    const expired = await getJson(path, auth);
    t.equal(expired.status, 401);
    t.match(expired.body, { error: { code: 'InvalidAuthenticationToken' } });
    t.equal((await getJson(path, await bearer(sim))).status, 200);
  });
});

t.test('access tokens expire after their lifetime', async (t) => {
  const sim = await startSimulator({ users: 10, refreshDate: REFRESH, tokenLifetimeSeconds: 1 });
  t.teardown(() => sim.close());
  const auth = await bearer(sim);
  const url = `${sim.graphUrl}/beta/reports/getEmailActivityCounts(period='D7')?$format=application/json`;
  t.equal((await getJson(url, auth)).status, 200);
  await new Promise((r) => setTimeout(r, 1100));
  const late = await getJson(url, auth);
  t.equal(late.status, 401);
  t.match(late.body, { error: { code: 'InvalidAuthenticationToken', message: /expired/ } });
});

t.test('fault switches', async (t) => {
  const sim = await startSimulator({ users: 60, seed: 5, refreshDate: REFRESH, concealedNames: false, enforceGraphLimits: false });
  t.teardown(() => sim.close());
  const auth = await bearer(sim);
  const spec = findReport('getEmailActivityUserDetail')!;
  const jsonUrl = `${sim.graphUrl}${reportPath(spec)}?$format=application/json`;
  t.afterEach(() => { sim.faults = {}; });

  t.test('429 with Retry-After, then success', async (t) => {
    sim.faults = { throttle: { remaining: 2, retryAfterSeconds: 3 } };
    for (let i = 0; i < 2; i++) {
      const r = await getJson(jsonUrl, auth);
      t.equal(r.status, 429);
      t.equal(r.headers['retry-after'], '3');
      t.match(r.body, graphError);
    }
    t.equal((await getJson(jsonUrl, auth)).status, 200);
  });

  t.test('503, then success', async (t) => {
    sim.faults = { unavailable: { remaining: 1, retryAfterSeconds: 1 } };
    t.equal((await getJson(jsonUrl, auth)).status, 503);
    t.equal((await getJson(jsonUrl, auth)).status, 200);
  });

  t.test('slow first byte', async (t) => {
    sim.faults = { slowFirstByteMs: 400 };
    const started = Date.now();
    t.equal((await getJson(jsonUrl, auth)).status, 200);
    t.ok(Date.now() - started >= 390, 'the response waited');
  });

  t.test('truncated body: the transfer fails, for CSV and JSON', async (t) => {
    sim.faults = { truncateAfterRows: 10 };
    await t.rejects(fetchCsv(sim, reportPath(spec), auth), 'CSV download breaks off');
    await t.rejects(getJson(jsonUrl, auth), 'JSON page breaks off');
  });

  t.test('a malformed CSV row makes the file unparseable', async (t) => {
    sim.faults = { malformedRowAt: 5 };
    const text = await fetchCsv(sim, reportPath(spec), auth);
    t.throws(() => parse(text.slice(1)));
  });

  t.test('an extra unknown column appears in CSV and JSON', async (t) => {
    sim.faults = { extraColumn: true };
    const text = await fetchCsv(sim, reportPath(spec), auth);
    t.match(text.split('\r\n')[0]!, /,Unexpected Column$/);
    t.ok('unexpectedColumn' in (await getJson(jsonUrl, auth)).body.value[0]);
  });

  t.test('redirect to another host, switchable over HTTP too', async (t) => {
    const put = await request(`${sim.graphUrl}/_simulator/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirectLocation: 'http://192.0.2.1/data' }) });
    await put.body.dump();
    const r = await request(`${sim.graphUrl}${reportPath(spec)}`, { headers: auth });
    await r.body.dump();
    t.equal(r.statusCode, 302);
    t.equal(r.headers.location, 'http://192.0.2.1/data');
  });
});

t.test("Graph's report throttling: the 15th CSV request for one report in 10 minutes gets 429", async (t) => {
  const sim = await startSimulator({ users: 10, refreshDate: REFRESH });
  t.teardown(() => sim.close());
  const auth = await bearer(sim);
  const url = `${sim.graphUrl}/v1.0/reports/getEmailActivityUserDetail(period='D7')`;
  const statuses: number[] = [];
  for (let i = 0; i < 15; i++) {
    const r = await request(url, { headers: auth });
    await r.body.dump();
    statuses.push(r.statusCode);
    if (i === 14) t.ok(Number(r.headers['retry-after']) > 0, 'Retry-After given');
  }
  t.same(statuses, [...Array(14).fill(302), 429]);
  const other = await request(`${sim.graphUrl}/v1.0/reports/getTeamsUserActivityUserDetail(period='D7')`, { headers: auth });
  await other.body.dump();
  t.equal(other.statusCode, 302, 'limits are counted per report');
});

t.test('canary mode: every identifier carries the tenant marker', async (t) => {
  const sim = await startSimulator({ users: 40, seed: 9, refreshDate: REFRESH, canary: true, concealedNames: false, enforceGraphLimits: false });
  t.teardown(() => sim.close());
  const auth = await bearer(sim);
  const marker = sim.tenant.canaryMarker!;
  t.match(marker, /^canary[0-9a-f]{8}$/);
  for (const name of ['getTeamsUserActivityUserDetail', 'getOffice365GroupsActivityDetail', 'getSharePointSiteUsageDetail', 'getOneDriveUsageAccountDetail']) {
    const spec = findReport(name)!;
    const rows = decodeCsv(spec, await fetchCsv(sim, reportPath(spec), auth));
    for (const column of spec.columns.filter((c) => c.role === 'identifier' && c.kind === 'text')) {
      const values = rows.map((r) => r[column.json]).filter((v) => v !== null);
      t.ok(values.length > 0 && values.every((v) => String(v).toLowerCase().includes(marker)), `${name} ${column.header} carries the marker`);
    }
  }
});

t.test('the tenant is deterministic for a seed and differs across seeds', async (t) => {
  const [a, b, c] = await Promise.all([
    startSimulator({ users: 30, seed: 11, refreshDate: REFRESH, concealedNames: false }),
    startSimulator({ users: 30, seed: 11, refreshDate: REFRESH, concealedNames: false }),
    startSimulator({ users: 30, seed: 12, refreshDate: REFRESH, concealedNames: false }),
  ]);
  t.teardown(() => Promise.all([a.close(), b.close(), c.close()]));
  const path = "/v1.0/reports/getTeamsUserActivityUserDetail(period='D30')";
  const [ta, tb, tc] = await Promise.all([a, b, c].map(async (s) => fetchCsv(s, path, await bearer(s))));
  t.equal(ta, tb);
  t.not(ta, tc);
});
