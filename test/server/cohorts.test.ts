import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import t from 'tap';
import { bearer, fetchCsv, getJson } from '../helpers/graph-client.js';
import { KEYS, proxyCsv, shippedPoliciesWithoutScore, startStack, type Stack } from '../helpers/proxy-stack.js';
import { NOISY_VENDOR_POLICY_NAME, noisyVendorPolicies, noisyVendorReleaseEpsilon } from '../helpers/vendor-policy.js';

const TEAMS = "/v1.0/reports/getTeamsUserActivityUserDetail(period='D30')";
/** JSON is a beta feature of the usage reports. */
const TEAMS_JSON = "/beta/reports/getTeamsUserActivityUserDetail(period='D30')?$format=application/json";
const CLIPS: Record<string, number> = { 'Team Chat Message Count': 200, 'Private Chat Message Count': 600, 'Call Count': 30, 'Meeting Count': 120 };

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

t.test('cohorts through the proxy: released departments match an independent recomputation exactly (the shipped vendor policy adds no noise); small ones are suppressed', async (t) => {
  // Without the score: on this tenant nearly every active Teams user is in meetings, so with the score's Meetings
  // suppressed as one table with them, the Teams departments stay hidden (test/server/score.test.ts has that case).
  const stack = await startStack({ simulator: { users: 400 }, proxy: { policiesDir: await shippedPoliciesWithoutScore('gpp-cohorts-') } });
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
  t.notOk(Object.keys(rows[0]!).some((h) => h.includes('Margin95')), 'exact figures carry no margin columns');
  const cohortLines = stack.logs.filter((l) => l.includes('"kind":"cohort"') && l.includes('"cohorts":{'));
  t.ok(cohortLines.length > 0 && cohortLines.every((l) => l.includes('"noise":false') && !l.includes('"charged":true')), 'the audit says no noise, and nothing is charged to a budget');
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
  const csv = await stack.get('/cohorts/getTeamsUserActivityUserDetail?period=D30&format=csv&by=officeLocation', KEYS.vendor);
  t.equal(csv.status, 200);
  t.match(csv.body.toString(), /^\uFEFFReport Refresh Date,Dimension,Cohort,Users,Active Users,Team Chat Message Count Sum,Team Chat Message Count Mean,Private Chat Message Count Sum,/, 'the shipped policy is exact: figures without margin columns');
  for (const [query, status] of [
    ['period=D8', 400], ['period=D30&period=D7', 400], ['period=D30&filter=x', 400], ['', 400], ['period=D30&by=jobTitle', 400],
    ['period=D30&date=2026-11-01', 400], ['period=D30&format=xml', 400], ['period=D30&by=department x officeLocation', 400],
  ] as const) {
    t.equal((await stack.get(`/cohorts/getTeamsUserActivityUserDetail?${query}`, KEYS.vendor)).status, status, query);
  }
  const unknown = await stack.get('/cohorts/getTeamsUserActivityUserDetail?period=D30&by=department,department%20x%20officeLocation', KEYS.vendor);
  t.match(JSON.parse(unknown.body.toString()), { error: { message: "Unknown cohort dimension in by: 'department x officeLocation'; the policy declares organization, department, officeLocation (give several separated by commas)." } }, 'the refusal names the dimension it does not know');
  const score = await stack.get('/org-score?period=D30&by=jobTitle', KEYS.vendor);
  t.match(JSON.parse(score.body.toString()), { error: { message: /^Unknown cohort dimension for the score: 'jobTitle'; this consumer's policy declares department, officeLocation\.$/ } }, "the score's refusal names it too");
  // Only a name that could be a dimension is quoted back: anything else (an address, markup, a long text) is not echoed.
  for (const odd of ['alice@contoso.com', 'Alice Smith', '<script>x</script>', 'D'.repeat(200)]) {
    for (const path of [`/cohorts/getTeamsUserActivityUserDetail?period=D30&by=department,${encodeURIComponent(odd)}`, `/org-score?period=D30&by=${encodeURIComponent(odd)}`]) {
      const refused = await stack.get(path, KEYS.vendor);
      t.equal(refused.status, 400, `${path.split('?')[0]}: ${odd.slice(0, 20)} refused`);
      t.notOk(refused.body.toString().includes(odd.slice(0, 12)), `${path.split('?')[0]}: ${odd.slice(0, 20)} not echoed`);
      t.match(refused.body.toString(), /a name that is no dimension/, 'said without quoting it');
    }
  }
  t.equal((await stack.get('/cohorts/getNoSuchReport?period=D30', KEYS.vendor)).status, 404);
  t.equal((await stack.get('/cohorts/getOffice365ActiveUserDetail?period=D30', KEYS.licence)).status, 403, 'a rows policy gets no cohorts here');
  t.equal((await stack.get('/cohorts/getTeamsUserActivityUserDetail?period=D30', KEYS.onboarding)).status, 403);
  t.equal((await stack.get('/cohorts/getTeamsUserActivityUserDetail?period=D30')).status, 401);
});

t.test('with concealed names on, cohort joins are refused with a clear 409, never served empty', async (t) => {
  const stack = await startStack({ simulator: { users: 120, concealedNames: true } });
  t.teardown(() => stack.close());
  const res = await stack.get(TEAMS_JSON, KEYS.vendor);
  t.equal(res.status, 409);
  const error = JSON.parse(res.body.toString()).error;
  t.equal(error.code, 'CohortsUnavailable');
  t.match(error.message, /displayConcealedNames/);
});

t.test('G4: noisy cohorts are sticky across requests and restarts; organisation totals stay exact; repeats are not charged', async (t) => {
  const { randomBytes } = await import('node:crypto');
  const noiseKey = randomBytes(32);
  const ledgerFile = join(await mkdtemp(join(tmpdir(), 'gpp-g4-')), 'ledger.jsonl');
  const exact = await startStack({ simulator: { users: 400 } });
  const noisyPolicies = await noisyVendorPolicies();
  const truth = JSON.parse((await exact.get(TEAMS_JSON, KEYS.vendor)).body.toString()).value as Record<string, unknown>[];
  await exact.close();
  const values: string[] = [];
  for (let restart = 0; restart < 2; restart++) {
    const stack = await startStack({ simulator: { users: 400 }, proxy: { policiesDir: noisyPolicies, noiseKey, ledgerFile } });
    for (let call = 0; call < 2; call++) values.push(JSON.stringify(JSON.parse((await stack.get(TEAMS_JSON, KEYS.vendor)).body.toString()).value));
    const charges = stack.logs.filter((l) => l.includes('"budget"')).map((l) => /"charged":(true|false)/.exec(l)![1]);
    if (restart === 0) {
      const csv = await stack.get('/cohorts/getTeamsUserActivityUserDetail?period=D30&format=csv&by=officeLocation', KEYS.vendor);
      t.match(csv.body.toString(), /^\uFEFFReport Refresh Date,Dimension,Cohort,Users,Users Margin95,Active Users,Active Users Margin95,Team Chat Message Count Sum,Team Chat Message Count Sum Margin95,Team Chat Message Count Mean,Team Chat Message Count Mean Margin95,/, 'every noisy figure with its 95% margin');
    }
    t.same(charges, restart === 0 ? ['true', 'false'] : ['false', 'false'], restart === 0 ? 'the first release is charged, its repeat is not' : 'after a restart the ledger remembers the release');
    await stack.close();
  }
  t.equal(new Set(values).size, 1, 'the same bytes on every call and after a restart');
  const noisy = JSON.parse(values[0]!) as Record<string, unknown>[];
  const organisation = noisy.find((r) => r.dimension === 'organization')!;
  const exactOrganisation = truth.find((r) => r.dimension === 'organization')!;
  t.same([organisation.users, organisation.activeUsers], [exactOrganisation.users, exactOrganisation.activeUsers], 'organisation totals are exact');
  t.same([organisation.usersMargin95, organisation.activeUsersMargin95], [0, 0], 'and say so: margin 0');
  for (const [name, metric] of Object.entries(organisation.metrics as Record<string, { sum: number; sumMargin95: number }>)) {
    t.same([metric.sum, metric.sumMargin95], [(exactOrganisation.metrics as Record<string, { sum: number }>)[name]!.sum, 0], `${name}: the exact organisation sum`);
  }
  const margins = noisy.filter((r) => r.dimension !== 'organization' && r.suppressed === false).map((r) => r.usersMargin95);
  t.ok(margins.length > 0 && margins.every((m) => m === 5), 'each noisy count is released with the margin the policy asks for (±5)');
  const released = noisy.filter((r) => r.dimension !== 'organization' && r.suppressed === false);
  t.ok(released.some((r, i) => JSON.stringify(r) !== JSON.stringify(truth.filter((x) => x.dimension !== 'organization' && x.suppressed === false)[i])), 'sub-organisation cohorts carry noise');
  t.same(noisy.map((r) => [r.dimension, r.cohort, r.suppressed]), truth.map((r) => [r.dimension, r.cohort, r.suppressed]), 'noise never changes which cohorts are suppressed');
  const other = await startStack({ simulator: { users: 400 }, proxy: { policiesDir: noisyPolicies, noiseKey: randomBytes(32) } });
  t.not(JSON.stringify(JSON.parse((await other.get(TEAMS_JSON, KEYS.vendor)).body.toString()).value), values[0], 'G5: another noise key, other noise');
  await other.close();
});

t.test('G6/G7: fresh releases past the yearly budget are refused; releases already paid for stay available', async (t) => {
  const dir = await noisyVendorPolicies();
  const file = join(dir, 'vendor-dashboard-noisy.yaml');
  // A budget for the Teams and e-mail releases and not one more (each costs the epsilon its margin derives).
  const [teams, email] = [noisyVendorReleaseEpsilon('getTeamsUserActivityUserDetail'), noisyVendorReleaseEpsilon('getEmailActivityUserDetail')];
  const limit = Math.ceil((teams + email) * 100) / 100;
  await writeFile(file, (await readFile(file, 'utf8')).replace(/epsilonPerYear: [0-9.]+/, `epsilonPerYear: ${limit}`));
  const stack = await startStack({ simulator: { users: 200 }, proxy: { policiesDir: dir } });
  t.teardown(() => stack.close());
  const get = (report: string) => stack.get(`/beta/reports/${report}(period='D30')?$format=application/json`, KEYS.vendor);
  t.equal((await get('getTeamsUserActivityUserDetail')).status, 200, `epsilon ${teams}`);
  t.equal((await get('getEmailActivityUserDetail')).status, 200, `and ${email}`);
  const refused = await get('getOneDriveActivityUserDetail');
  t.equal(refused.status, 403);
  t.equal(JSON.parse(refused.body.toString()).error.code, 'PrivacyBudgetExhausted');
  const again = await get('getTeamsUserActivityUserDetail');
  t.equal(again.status, 200, 'a release already paid for is served again, not recomputed or charged');
  t.equal(again.headers['x-gpp-release-stale'], 'false', "it is this epoch's release, not a stale one");
  t.equal(JSON.parse(again.body.toString())['@graphPrivacyProxy.stale'], false);
  const budget = await stack.get('/budget', KEYS.vendor);
  t.equal(budget.status, 200);
  const year = new Date().getUTCFullYear();
  const shown = JSON.parse(budget.body.toString());
  t.match(shown, {
    consumer: 'adoption-dashboard', policy: NOISY_VENDOR_POLICY_NAME, year, epsilonPerYear: limit,
    resetsAt: `${year + 1}-01-01T00:00:00Z`, freshReleases: 'weekly',
  }, 'GET /budget: its own limit, reset and cadence');
  // /budget states epsilon to six decimals.
  const micro = (n: number) => Math.round(n * 1e6) / 1e6;
  t.same([shown.spent, shown.organisation.spent], [micro(teams + email), micro(teams + email)], 'what it spent, and the organisation total');
  t.equal(shown.left, micro(limit - teams - email), 'and what is left');
  t.equal((await stack.get('/budget')).status, 401);
  const licence = JSON.parse((await stack.get('/budget', KEYS.licence)).body.toString());
  t.same([licence.epsilonPerYear, licence.spent, licence.left], [null, 0, null], 'a consumer without noisy releases has no budget to spend');
});

t.test('G13 (property): any order and case of the same /cohorts parameters gives identical bytes', async (t) => {
  const fc = (await import('fast-check')).default;
  const stack = await startStack({ simulator: { users: 200 } });
  t.teardown(() => stack.close());
  const base = (await stack.get('/cohorts/getTeamsUserActivityUserDetail?period=D30&by=department,officeLocation&format=json', KEYS.vendor)).body.toString();
  const variants = fc.record({
    order: fc.shuffledSubarray([0, 1, 2], { minLength: 3, maxLength: 3 }),
    upper: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
    byOrder: fc.boolean(),
    report: fc.constantFrom('getTeamsUserActivityUserDetail', 'GETTEAMSUSERACTIVITYUSERDETAIL', 'microsoft.graph.getTeamsUserActivityUserDetail'),
  });
  await fc.assert(
    fc.asyncProperty(variants, async (v) => {
      const c = (text: string, i: number) => (v.upper[i] === true ? text.toUpperCase() : text);
      const by = v.byOrder ? 'officeLocation, department' : 'department,officeLocation';
      const pairs = [`${c('period', 0)}=${c('d30', 1)}`, `${c('by', 2)}=${encodeURIComponent(c(by, 3))}`, `${c('format', 4)}=${c('json', 5)}`];
      const res = await stack.get(`/cohorts/${v.report}?${v.order.map((i) => pairs[i]).join('&')}`, KEYS.vendor);
      return res.status === 200 && res.body.toString() === base;
    }),
    { numRuns: 25 },
  );
});

t.test('licence class as a dimension: a fixed set of classes, whatever licences the tenant has', async (t) => {
  const dir = await shippedPoliciesWithoutScore('gpp-licence-class-');
  await writeFile(join(dir, 'licences.yaml'), 'name: licences\ndescription: Adoption by licence class.\nconsumers: [licence-dashboard]\nreports:\n  getTeamsUserActivityUserDetail:\n    cohort:\n      by: [organization, licenceClass]\n');
  const key = 'gpp_test-licence-dashboard-key-00000000000000000000';
  const { ConsumerKeys } = await import('../../src/server/consumer-keys.js');
  const stack = await startStack({ simulator: { users: 200 }, proxy: { policiesDir: dir, consumerKeys: ConsumerKeys.of({ 'licence-dashboard': key, 'adoption-dashboard': KEYS.vendor }) } });
  t.teardown(() => stack.close());
  const res = await stack.get('/cohorts/getTeamsUserActivityUserDetail?period=D30&by=licenceClass', key);
  t.equal(res.status, 200);
  const rows = JSON.parse(res.body.toString()).value as { cohort: string[]; users: number | null }[];
  t.same(rows.map((r) => r.cohort[0]), ['(none)', 'Business', 'E1', 'E3', 'E5', 'Frontline', 'Other']);
  t.ok(rows.some((r) => r.users !== null && r.users >= 5), 'some classes are released');
});
