/**
 * Red team (privacy.md's threat model: consumers "may vary the request: report, period, date" and may collude): a
 * single day's cohorts beside periods are the organisation's only (policy/decide.ts dayNestsInPeriods), but only
 * where the *same report's* cohorts are released for a period. A day nests in the periods of the org score's
 * categories too: Content collaboration counts the people who viewed, edited or shared files in OneDrive or
 * SharePoint over the period, and whoever had OneDrive file activity yesterday (viewed, edited, synced or shared:
 * graph-reports.md "Active users") did over the last 7 days. Where nobody syncs, a day's OneDrive active people
 * per department are at most the department's qualifying people over 7 days; its users (the people licensed for
 * OneDrive) are the category's counted people. So a day's OneDrive cohorts by department (another tool's policy:
 * single days, no standard period) cap the score's hidden D7 Content collaboration cells.
 *
 * The tenant (k = k_c = 5, k_org = 10): DeptA 15 people, 3 without files over 7 days and 5 yesterday; DeptB 20
 * people, 4 and 5; DeptC 30 and 12 outside the directory, all working with files, nobody syncing. The D7 score by
 * department hides Content collaboration DeptA and DeptB (3 and 4 not qualifying, G2) and releases the
 * organisation (7). Yesterday's OneDrive cohorts release every department (5 inactive each). Joined: DeptA's
 * non-qualifying people over 7 days are 2..5.
 * Fixed: a day of a report the score reads, where the score may be read by a dimension, is the organisation's
 * only (policy/decide.ts dayNestsInPeriods). Across a reload that withdraws the score's policy, not (todo, the
 * second test; date-period-reload.test.ts's finding): the D7 score kept from the set before stands beside the day.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { narrowedAcross, type Observed } from '../helpers/independent-attacker.js';
import { KEYS, startProxyFor } from '../helpers/proxy-stack.js';
import { directoryOf, tenantReports, type Person } from '../helpers/random-tenant.js';
import { rewriteColumn } from './helpers.js';
import { nestingTenant } from './nesting-tenant.js';

t.setTimeout(180_000);

const todo = (finding: string) => (process.env.GPP_REDTEAM_TODO === 'run' ? false : finding);

const ONEDRIVE = 'getOneDriveActivityUserDetail';
const person = (files: boolean): Person => ({ idle: false, mail: true, files, mobile: true, video: true });
/** The nesting tenant with `withoutA` of DeptA's and `withoutB` of DeptB's people without files over the window. */
const tenant = (withoutA: number, withoutB: number) => nestingTenant(withoutA, withoutB, (without) => person(!without));
const D7 = tenant(3, 4);
const DAY = tenant(5, 5);

/** The score's consumer: the score by department over the last 7 days (its cohorts: e-mail). */
const SCORE_POLICY = `name: score-weekly
description: The org score by department over the last 7 days (red-team fixture).
consumers: [no-policy]
k: 5
kC: 5
kOrg: 10
periods: [D7]
formats: [csv, json]
permissions: [score]
reports:
  getEmailActivityUserDetail:
    cohort:
      by: [organization, department]
`;
/** Another tool: OneDrive cohorts by department for single days only (ALL: no standard period; OneDrive has none). */
const DAYS_POLICY = `name: onedrive-days
description: OneDrive cohorts by department for single days (red-team fixture).
consumers: [onboarding]
k: 5
kC: 5
periods: [ALL]
dates: true
formats: [csv, json]
reports:
  ${ONEDRIVE}:
    cohort:
      by: [organization, department]
`;

const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
/** Nobody syncs: OneDrive activity is then file views, edits and shares, as Content collaboration counts them. */
const noSync = (csv: Buffer) => rewriteColumn(csv.toString('utf8'), 'Synced File Count', () => '0');

type Category = { id: string; numerator: number | null; denominator: number | null };
type Score = { organization: { categories: Category[] }; cohorts: { cohort: string[]; categories: Category[] }[] };

/**
 * The D7 score by department as the stranger reads it and yesterday's OneDrive cohorts as the onboarding tool reads
 * them, with the score's policy withdrawn between the two where `withdrawn`; the joined attack's narrowed cells.
 */
async function scoreThenDay(t: Test, withdrawn: boolean) {
  const reports: Record<string, Buffer> = {};
  for (const [name, csv] of Object.entries(await tenantReports(D7))) {
    const text = (name === ONEDRIVE ? noSync(csv) : csv).toString('utf8');
    reports[`${name}(period='D7')`] = text.includes('Report Period') ? rewriteColumn(text, 'Report Period', () => '7') : Buffer.from(text);
  }
  reports[`${ONEDRIVE}(date=${yesterday})`] = rewriteColumn(noSync((await tenantReports(DAY))[ONEDRIVE]!).toString('utf8'), 'Report Period', () => '1');
  const double = await startGraphDouble({ reports, directory: directoryOf(D7) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-score-day-'));
  await writeFile(join(dir, 'score-weekly.yaml'), SCORE_POLICY);
  await writeFile(join(dir, 'onedrive-days.yaml'), DAYS_POLICY);
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const res = await proxy.get('/org-score?period=D7&by=department', KEYS.stranger);
  t.equal(res.status, 200, 'D7 score released');
  const body = JSON.parse(res.body.toString()) as Score;
  const of = (categories: Category[]) => {
    const c = categories.find((x) => x.id === 'contentCollaboration')!;
    return c.numerator === null || c.denominator === null ? null : { users: c.denominator, active: c.numerator };
  };
  const score: Observed = new Map([['organization/all', of(body.organization.categories)], ...body.cohorts.map((r) => [`department/${r.cohort.join('|')}`, of(r.categories)] as [string, ReturnType<typeof of>])]);
  t.comment(`D7 Content collaboration: ${[...score].map(([k, v]) => `${k} ${v === null ? 'hidden' : `${v.active}/${v.users}`}`).join('; ')}`);
  if (withdrawn) {
    const before = proxy.proxy.policies.current.version;
    await rm(join(dir, 'score-weekly.yaml'));
    await proxy.proxy.policies.reload();
    t.not(proxy.proxy.policies.current.version, before, 'the set without the score is live');
  }
  const cohorts = await proxy.get(`/cohorts/${ONEDRIVE}?date=${yesterday}&format=json`, KEYS.onboarding);
  t.equal(cohorts.status, 200, 'yesterday\'s OneDrive cohorts released');
  const rows = (JSON.parse(cohorts.body.toString()) as { value: { dimension: string; cohort: string[]; users: number | null; activeUsers: number | null }[] }).value;
  t.comment(`${yesterday} OneDrive: ${rows.map((r) => `${r.cohort.join('|')} ${r.users}/${r.activeUsers}`).join('; ')}`);
  const day: Observed = new Map(rows.map((r) => [`${r.dimension}/${r.cohort.join('|')}`, r.users === null ? null : { users: r.users, active: r.activeUsers! }]));
  t.equal(score.get('department/DeptA'), null, 'the score hides Content collaboration DeptA (3 of 15 without files)');
  const structure = { departments: ['DeptA', 'DeptB', 'DeptC'], offices: ['OfficeP', 'OfficeQ', 'OfficeR'], occupied: new Set(['DeptA|OfficeP', 'DeptB|OfficeQ', 'DeptC|OfficeR']) };
  t.same(narrowedAcross(structure, [{ name: 'D7', observed: score, k: 10 }], [], 5, false), [], 'the score alone narrows nothing');
  // Yesterday's OneDrive file activity => files over 7 days; licensed for OneDrive: in the report, counted by the category.
  return narrowedAcross(structure, [{ name: 'D7', observed: score, k: 10 }, { name: 'day', observed: day, k: 5 }], [
    { smaller: { table: 'day', measure: 'active' }, larger: { table: 'D7', measure: 'active' } },
    { smaller: { table: 'day', measure: 'users' }, larger: { table: 'D7', measure: 'users' } },
    { smaller: { table: 'D7', measure: 'users' }, larger: { table: 'day', measure: 'users' } },
  ], 5, false).filter((n) => n.measure !== 'users');
}

t.test('the D7 score by department and yesterday\'s OneDrive cohorts by department: a hidden Content collaboration cell\'s non-qualifying people are narrowed', async (t) => {
  const nested = await scoreThenDay(t, false);
  t.same(nested, [], `G2/G3: D7 score cells narrowed by yesterday's cohorts: ${JSON.stringify(nested)}`);
});

t.test('the D7 score kept; a reload withdraws the score\'s policy: yesterday\'s OneDrive cohorts by department narrow no hidden Content collaboration cell', { todo: todo("yesterday's OneDrive cohorts by department, released once no policy reads the score by a dimension, beside the D7 score kept from the set before: DeptA's and DeptB's non-qualifying people over 7 days read 2..5 (policy/decide.ts dayNestsInPeriods reads the live set only; the nesting outlives the refresh: date-period-reload.test.ts)") }, async (t) => {
  const nested = await scoreThenDay(t, true);
  t.same(nested, [], `G2/G3: D7 score cells kept from the set before narrowed by yesterday's cohorts: ${JSON.stringify(nested)}`);
});
