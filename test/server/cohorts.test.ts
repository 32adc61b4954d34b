import { parse } from 'csv-parse/sync';
import t from 'tap';
import { bearer, fetchCsv, getJson } from '../helpers/graph-client.js';
import { KEYS, proxyCsv, startStack, type Stack } from '../helpers/proxy-stack.js';

const TEAMS = "/v1.0/reports/getTeamsUserActivityUserDetail(period='D30')";
const CLIPS: Record<string, number> = { 'Team Chat Message Count': 500, 'Private Chat Message Count': 1000, 'Call Count': 100, 'Meeting Count': 100 };

interface Expected { users: number; active: number; sums: Record<string, number> }

/** The vendor policy's department cohorts, recomputed here from Graph's own data (not the proxy's code). */
async function expectedByDepartment(stack: Stack): Promise<Map<string, Expected>> {
  const headers = await bearer(stack.sim);
  const csv = await fetchCsv(stack.sim, TEAMS, headers);
  const rows = parse(csv.slice(1), { columns: true }) as Record<string, string>[];
  const department = new Map<string, string>();
  let next: string | undefined = `${stack.sim.graphUrl}/v1.0/users?$select=userPrincipalName,department&$top=999`;
  while (next !== undefined) {
    const page = await getJson(next, headers);
    for (const u of page.body.value as { userPrincipalName: string; department: string | null }[]) department.set(u.userPrincipalName.toLowerCase(), u.department ?? '(none)');
    next = page.body['@odata.nextLink'];
  }
  const out = new Map<string, Expected>();
  for (const row of rows) {
    const d = department.get(row['User Principal Name']!.toLowerCase()) ?? '(not in directory)';
    const e = out.get(d) ?? { users: 0, active: 0, sums: {} };
    e.users++;
    const counts = Object.keys(row).filter((h) => /Count$/.test(h) || /Minutes$/.test(h)).map((h) => Number(row[h] || 0));
    if (counts.some((v) => v > 0)) e.active++;
    for (const [header, clip] of Object.entries(CLIPS)) e.sums[header] = (e.sums[header] ?? 0) + Math.min(Number(row[header] || 0), clip);
    out.set(d, e);
  }
  return out;
}

t.test('cohorts through the proxy: released departments match an independent recomputation; small ones are suppressed', async (t) => {
  const stack = await startStack({ simulator: { users: 400 } });
  t.teardown(() => stack.close());
  const expected = await expectedByDepartment(stack);
  const csv = await proxyCsv(stack, TEAMS, KEYS.vendor);
  t.equal(csv.status, 200);
  const rows = parse(csv.text.slice(1), { columns: true }) as Record<string, string>[];
  const departments = rows.filter((r) => r.Dimension === 'department');
  t.same(departments.map((r) => r.Cohort).filter((c) => c !== '(not in directory)' && c !== '(none)').sort(), [...expected.keys()].filter((c) => c !== '(not in directory)' && c !== '(none)').sort(), 'G8: one row per department of the directory');
  let released = 0;
  for (const row of departments) {
    const e = expected.get(row.Cohort!) ?? { users: 0, active: 0, sums: {} };
    if (row.Suppressed === 'True') {
      t.same([row.Users, row['Active Users'], row['Call Count Sum']], ['', '', ''], `${row.Cohort}: the suppressed marker, no values`);
      continue;
    }
    released++;
    t.equal(Number(row.Users), e.users, `${row.Cohort} users`);
    t.equal(Number(row['Active Users']), e.active, `${row.Cohort} active users`);
    for (const header of Object.keys(CLIPS)) t.equal(Number(row[`${header} Sum`]), e.sums[header], `${row.Cohort} ${header} (clipped per user)`);
    t.ok(e.users >= 10, `G1: ${row.Cohort} has at least k = 10 people`);
  }
  t.ok(released >= 3, 'several departments are large enough to be released');
  for (const tiny of ['Legal', 'Internal Audit', 'Ombuds Office', 'Executive Office']) {
    t.equal(departments.find((r) => r.Cohort === tiny)?.Suppressed, 'True', `${tiny} (1-4 people) is suppressed`);
  }
  t.ok(stack.logs.some((l) => /"cohorts":\{"primary":\d+,"complement":\d+,"secondary":\d+,"lpVerified":true\}/.test(l)), 'the audit line counts suppressions');
});

t.test('/cohorts for dashboards: JSON and CSV, strict parameters, equivalent requests give identical bytes (G13, G14)', async (t) => {
  const stack = await startStack({ simulator: { users: 300 } });
  t.teardown(() => stack.close());
  const a = await stack.get('/cohorts/getTeamsUserActivityUserDetail?period=D30&by=department', KEYS.vendor);
  t.equal(a.status, 200);
  const body = JSON.parse(a.body.toString()) as { dimensions: string[]; value: { dimension: string }[] };
  t.same(body.dimensions, ['department']);
  t.ok(body.value.every((r) => r.dimension === 'department'));
  const b = await stack.get('/cohorts/getteamsuseractivityuserdetail?BY=Department&period=d30', KEYS.vendor);
  t.equal(b.body.toString(), a.body.toString(), 'G13: case and order do not change the bytes');
  const csv = await stack.get('/cohorts/getTeamsUserActivityUserDetail?period=D30&format=csv&by=department x officeLocation', KEYS.vendor);
  t.equal(csv.status, 200);
  t.match(csv.body.toString(), /^\uFEFFReport Refresh Date,Dimension,Cohort,Users,Active Users,/);
  for (const [query, status] of [
    ['period=D8', 400], ['period=D30&period=D7', 400], ['period=D30&filter=x', 400], ['', 400], ['period=D30&by=jobTitle', 400],
    ['period=D30&date=2026-11-01', 400], ['period=D30&format=xml', 400],
  ] as const) {
    t.equal((await stack.get(`/cohorts/getTeamsUserActivityUserDetail?${query}`, KEYS.vendor)).status, status, query);
  }
  t.equal((await stack.get('/cohorts/getNoSuchReport?period=D30', KEYS.vendor)).status, 404);
  t.equal((await stack.get('/cohorts/getOffice365ActiveUserDetail?period=D30', KEYS.licence)).status, 403, 'a rows policy gets no cohorts here');
  t.equal((await stack.get('/cohorts/getTeamsUserActivityUserDetail?period=D30', KEYS.onboarding)).status, 403);
  t.equal((await stack.get('/cohorts/getTeamsUserActivityUserDetail?period=D30')).status, 401);
});

t.test('with concealed names on, cohort joins are refused with a clear 409, never served empty', async (t) => {
  const stack = await startStack({ simulator: { users: 120, concealedNames: true } });
  t.teardown(() => stack.close());
  const res = await stack.get(`${TEAMS}?$format=application/json`, KEYS.vendor);
  t.equal(res.status, 409);
  const error = JSON.parse(res.body.toString()).error;
  t.equal(error.code, 'CohortsUnavailable');
  t.match(error.message, /displayConcealedNames/);
});
