import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'csv-parse/sync';
import { bearer, fetchCsv } from '../helpers/graph-client.js';
import { noisyVendorPolicies } from '../helpers/vendor-policy.js';
import { KEYS, startStack, type Stack } from '../helpers/proxy-stack.js';

type Row = Record<string, string>;
const yes = (v: string | undefined) => v === 'True' || v === 'Yes';
const n = (v: string | undefined) => Number(v || 0);

/** The organisation's categories recomputed here from Graph's raw reports (independently of src/score). */
async function groundTruth(stack: Stack): Promise<Record<string, [number, number]>> {
  const headers = await bearer(stack.sim);
  const read = async (report: string) => parse((await fetchCsv(stack.sim, `/v1.0/reports/${report}(period='D30')`, headers)).slice(1), { columns: true }) as Row[];
  const people = new Map<string, Record<string, boolean | number>>();
  const person = (upn: string) => {
    const key = upn.toLowerCase();
    if (!people.has(key)) people.set(key, {});
    return people.get(key)!;
  };
  for (const r of await read('getOffice365ActiveUserDetail')) Object.assign(person(r['User Principal Name']!), { ex: yes(r['Has Exchange License']), te: yes(r['Has Teams License']), ya: yes(r['Has Yammer License']), od: yes(r['Has OneDrive License']), sp: yes(r['Has SharePoint License']) });
  for (const r of await read('getEmailActivityUserDetail')) Object.assign(person(r['User Principal Name']!), { mail: n(r['Send Count']) > 0 });
  for (const r of await read('getTeamsUserActivityUserDetail')) {
    const channel = n(r['Post Messages']) + n(r['Reply Messages']);
    Object.assign(person(r['User Principal Name']!), { msg: n(r['Team Chat Message Count']) + n(r['Private Chat Message Count']) + channel > 0, chan: channel > 0, meet: n(r['Meeting Count']) > 0, video: n(r['Video Duration In Seconds']) + n(r['Screen Share Duration In Seconds']) > 0 });
  }
  for (const r of await read('getYammerActivityUserDetail')) Object.assign(person(r['User Principal Name']!), { post: n(r['Posted Count']) > 0 });
  for (const [report, key] of [['getOneDriveActivityUserDetail', 'odw'], ['getSharePointActivityUserDetail', 'spw']] as const) {
    for (const r of await read(report)) {
      const p = person(r['User Principal Name']!);
      p[key] = n(r['Viewed Or Edited File Count']) > 0;
      p.share = p.share === true || n(r['Shared Internally File Count']) + n(r['Shared Externally File Count']) > 0;
    }
  }
  for (const r of await read('getTeamsDeviceUsageUserDetail')) {
    const classes = [['Used Windows', 'Used Mac', 'Used Linux', 'Used  Chrome OS'], ['Used iOS', 'Used Android Phone', 'Used Windows Phone'], ['Used Web']].filter((hs) => hs.some((h) => yes(r[h]))).length;
    person(r['User Principal Name']!).multi = classes >= 2;
  }
  const all = [...people.values()];
  const ratio = (counted: (p: Record<string, boolean | number>) => boolean, qualifies: (p: Record<string, boolean | number>) => boolean): [number, number] => {
    const c = all.filter(counted);
    return [c.filter(qualifies).length, c.length];
  };
  return {
    communication: ratio((p) => Number(p.ex === true) + Number(p.te === true) + Number(p.ya === true) >= 2, (p) => Number(p.ex === true && p.mail === true) + Number(p.te === true && p.msg === true) + Number(p.ya === true && p.post === true) >= 2),
    meetings: ratio((p) => p.meet === true, (p) => p.video === true),
    contentCollaboration: ratio((p) => p.od === true || p.sp === true, (p) => p.odw === true || p.spw === true || p.share === true),
    teamwork: ratio((p) => p.mail === true || p.msg === true || p.odw === true || p.spw === true, (p) => p.chan === true || p.spw === true),
    mobility: ratio((p) => p.ex === true || p.te === true, (p) => p.multi === true),
  };
}

t.test('/org-score: every category matches an independent recomputation from the tenant\'s reports', async (t) => {
  const stack = await startStack({ simulator: { users: 400 } });
  t.teardown(() => stack.close());
  const truth = await groundTruth(stack);
  const res = await stack.get('/org-score?period=D30', KEYS.vendor);
  t.equal(res.status, 200);
  const body = JSON.parse(res.body.toString());
  for (const c of body.organization.categories) {
    t.same([c.numerator, c.denominator], truth[c.id], `${c.id}: numerator and denominator`);
    t.equal(c.points, Math.round((1000 * truth[c.id]![0]) / truth[c.id]![1]) / 10, `${c.id}: points`);
    t.type(c.definition, 'string');
    t.ok(c.reports.length > 0);
  }
  t.equal(body.organization.total.max, 500);
  const again = await stack.get('/org-score?period=D30', KEYS.vendor);
  t.equal(again.body.toString(), res.body.toString());
  t.same(stack.logs.filter((l) => l.includes('"kind":"score"')).map((l) => /"snapshot":"(\w+)"/.exec(l)?.[1]), ['fetched', 'hit'], 'the second request is served from the computed score');
});

t.test('the dashboard and /org-score share one score service: a score the dashboard computed is served to /org-score from its cache', async (t) => {
  const stack = await startStack({ simulator: { users: 400 } });
  t.teardown(() => stack.close());
  // The dashboard's defaults (D30 by department, k_org 10, k_c 5) are the vendor policy's k's: the same score.
  const page = await stack.get('/', KEYS.vendor);
  t.equal(page.status, 200);
  t.match(page.body.toString(), /id="score"/, 'the dashboard shows a score');
  const res = await stack.get('/org-score?period=D30&by=department', KEYS.vendor);
  t.equal(res.status, 200);
  t.same(stack.logs.filter((l) => l.includes('"kind":"score"')).map((l) => /"snapshot":"(\w+)"/.exec(l)?.[1]), ['hit'], 'computed once, by the dashboard (two services computed it twice)');
});

t.test('/org-score by department: k_org applies per cohort with the same shape; permission and parameters are enforced', async (t) => {
  // The shipped vendor policy is exact, so released denominators can be checked against k_org (noisy ones may read below it).
  const stack = await startStack({ simulator: { users: 400 } });
  t.teardown(() => stack.close());
  const res = await stack.get('/org-score?period=D30&by=department', KEYS.vendor);
  t.equal(res.status, 200);
  const body = JSON.parse(res.body.toString());
  const legal = body.cohorts.find((c: { cohort: string[] }) => c.cohort[0] === 'Legal');
  t.same([legal.suppressed, legal.total.points, legal.categories.length], [true, null, 5], 'a 1-person department: suppressed, same fields');
  for (const cohort of body.cohorts) for (const c of cohort.categories) if (!c.suppressed) t.ok(c.denominator >= 10, `${cohort.cohort[0]} ${c.id} counts at least k_org people`);
  t.ok(body.cohorts.some((c: { suppressed: boolean }) => !c.suppressed), 'large departments are released');
  t.equal((await stack.get('/org-score?period=D30', KEYS.licence)).status, 403, 'the licence tool has no score permission');
  t.equal((await stack.get('/org-score?period=D30&by=jobTitle', KEYS.vendor)).status, 400, 'only dimensions its policy declares');
  t.equal((await stack.get('/org-score?period=D8', KEYS.vendor)).status, 400);
  t.equal((await stack.get('/org-score?period=D30&x=1', KEYS.vendor)).status, 400);
  t.equal((await stack.get('/org-score?period=D30')).status, 401);
  t.equal((await stack.get('/org-score?date=2026-02-30', KEYS.vendor)).status, 400);
});

t.test("/org-score follows the consumer's policy: its periods, and single days only with dates: true (as /cohorts does)", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-score-window-'));
  await cp('policies', dir, { recursive: true });
  const file = join(dir, 'vendor-dashboard.yaml');
  await writeFile(file, (await readFile(file, 'utf8')).replace('periods: [D7, D30, D90, D180]', 'periods: [D30]'));
  const stack = await startStack({ proxy: { policiesDir: dir } });
  t.teardown(() => stack.close());
  const day = stack.sim.tenant.refreshDate;
  t.equal((await stack.get('/org-score?period=D30', KEYS.vendor)).status, 200);
  const period = await stack.get('/org-score?period=D7', KEYS.vendor);
  t.equal(period.status, 403, 'a period the policy does not release');
  t.match(JSON.parse(period.body.toString()).error.message, /does not release period D7; allowed: D30/);
  const single = await stack.get(`/org-score?date=${day}`, KEYS.vendor);
  t.equal(single.status, 403, 'dates: false (the shipped vendor policy)');
  t.equal((await stack.get(`/cohorts/getTeamsUserActivityUserDetail?date=${day}`, KEYS.vendor)).status, 403, 'the same answer as /cohorts');
  await writeFile(file, `${(await readFile(file, 'utf8')).replace('dates: false', 'dates: true')}`);
  await stack.proxy.policies.reload();
  const byDate = await stack.get(`/org-score?date=${day}`, KEYS.vendor);
  t.equal(byDate.status, 200, "with dates: true, a single day within Graph's window");
  t.equal(JSON.parse(byDate.body.toString()).date, day);
});

t.test('/org-score refuses an organisation below k_org with a clear 422', async (t) => {
  const stack = await startStack({ simulator: { users: 6 } });
  t.teardown(() => stack.close());
  const res = await stack.get('/org-score?period=D30', KEYS.vendor);
  t.equal(res.status, 422);
  t.match(JSON.parse(res.body.toString()).error.message, /fewer than 10 people/);
});

interface ScoreCohort { cohort: string[]; suppressed: boolean; categories: { id: string; numerator: number | null; denominator: number | null; suppressed: boolean }[] }

t.test('red team (two dimensions requested apart): by=department and by=officeLocation are cuts of one protected table, so a cohort in both is shown alike', async (t) => {
  // On this tenant, suppressing the two dimensions as separate tables released the leavers' '(not in directory)'
  // communication cell in one and suppressed it in the other.
  const stack = await startStack({ simulator: { seed: 11, users: 500, refreshDate: '2026-11-20' } });
  t.teardown(() => stack.close());
  const get = async (by: string) => JSON.parse((await stack.get(`/org-score?period=D30&by=${by}`, KEYS.vendor)).body.toString()) as { organization: ScoreCohort; cohorts: ScoreCohort[] };
  const department = await get('department');
  const office = await get('officeLocation');
  t.same(office.organization, department.organization, 'the organisation row is the same release');
  const twin = (body: { cohorts: ScoreCohort[] }) => {
    const found = body.cohorts.find((c) => c.cohort[0] === '(not in directory)');
    return found === undefined ? undefined : { ...found, dimension: undefined };
  };
  t.ok(twin(department) !== undefined, 'leavers form a cohort outside the directory');
  t.same(twin(office), twin(department), 'the same people get the same cell, suppressed or released, in both');
});

t.test("red team (exact where the policy promises noise): a noisy policy's per-department score carries the release's noise, identical on every call", async (t) => {
  const exact = await startStack({ simulator: { users: 400 } });
  const truth = JSON.parse((await exact.get('/org-score?period=D30&by=department', KEYS.vendor)).body.toString()) as { organization: ScoreCohort; cohorts: ScoreCohort[] };
  await exact.close();
  const stack = await startStack({ simulator: { users: 400 }, proxy: { policiesDir: await noisyVendorPolicies() } });
  t.teardown(() => stack.close());
  const first = await stack.get('/org-score?period=D30&by=department', KEYS.vendor);
  t.equal(first.status, 200);
  const noisy = JSON.parse(first.body.toString()) as { organization: ScoreCohort; cohorts: ScoreCohort[] };
  const withoutMargins = (row: ScoreCohort) => ({ ...row, categories: row.categories.map(({ numeratorMargin95: _n, denominatorMargin95: _d, ...c }: ScoreCohort['categories'][number] & { numeratorMargin95?: unknown; denominatorMargin95?: unknown }) => c) });
  t.same(withoutMargins(noisy.organization), truth.organization, 'the organisation score is exact, as the organisation totals of cohorts are');
  t.same(noisy.cohorts.map((c) => c.suppressed), truth.cohorts.map((c) => c.suppressed), 'noise never changes what is suppressed');
  const figures = (body: { cohorts: ScoreCohort[] }) => JSON.stringify(body.cohorts.map((c) => c.categories.map((x) => [x.numerator, x.denominator])));
  t.not(figures(noisy), figures(truth), 'per-department numerators and denominators are not the exact ones');
  t.equal((await stack.get('/org-score?period=D30&by=department', KEYS.vendor)).body.toString(), first.body.toString(), 'sticky: the same release on every call');  // Stated accuracy: every noisy figure with its 95% margin, like cohort figures; the exact organisation row with 0.
  const margins = (c: ScoreCohort['categories'][number]) => [(c as Record<string, unknown>).numeratorMargin95, (c as Record<string, unknown>).denominatorMargin95];
  for (const c of noisy.organization.categories) t.same(margins(c), [0, 0], `organisation ${c.id}: exact, margin 0`);
  for (const cohort of noisy.cohorts) for (const c of cohort.categories) {
    const [n, d] = margins(c);
    if (c.suppressed) t.same([n, d], [null, null], 'a suppressed figure has no margin');
    else t.ok(typeof n === 'number' && n > 0 && n === d, `${cohort.cohort[0]} ${c.id}: margin ±${String(n)}`);
  }
  for (const c of truth.organization.categories) t.notOk('numeratorMargin95' in c, 'an exact score has no margin fields');
  const page = (await stack.get('/', KEYS.vendor)).body.toString();
  t.match(page, /id="margins"/, 'the dashboard says group figures carry noise with their margins');
  t.match(page, /each &plusmn;\d+/, 'and shows each margin');
  const exactPage = await startStack({ simulator: { users: 400 } });
  t.teardown(() => exactPage.close());
  const shipped = (await exactPage.get('/', KEYS.vendor)).body.toString();
  t.match(shipped, /id="cohorts"/, 'the shipped (exact) policy shows departments');
  t.notMatch(shipped, /id="margins"|&plusmn;/, 'and claims no noise or margin');
});
