/**
 * Red team (privacy.md's threat model: consumers "may vary the request: report, period"): a report's cohorts
 * released for several standard periods are one table (policy/decide.ts jointCohortPlan `periods`), but "ALL (the
 * Microsoft 365 apps report's own window) is not one of the nested standard periods", so it is suppressed alone.
 * ALL is the Copilot usage report's window over the whole history Graph keeps (catalogue/odata.ts periodDays: 180
 * days; the simulator builds it so), and whoever used Copilot in the last 30 days used it within that history:
 * per cell, D30's active people are at most ALL's, so ALL's inactive people are at most D30's. The attack
 * test/redteam/period-nesting.test.ts made on D7 and D30 works on D30 and ALL.
 *
 * The tenant (k = k_c = 5): DeptA 15 Copilot users, 3 without Copilot activity in the whole history and 5 over
 * the last 30 days; DeptB 20 users, 4 and 5; DeptC 30 and 12 outside the directory, all active. ALL hides DeptA
 * and DeptB (3 and 4 inactive, G2) and releases the organisation (7); D30 releases every cell (5 inactive each).
 * Joined: DeptA's people without Copilot activity in the whole history are 2..5.
 *
 * Graph serves the report at /v1.0/copilot/reports (catalogue root); the double serves /v1.0/reports, so a small
 * front in this file forwards the one to the other.
 * Fixed: ALL is the longest period of the group (policy/decide.ts NESTED_PERIODS).
 */
import { createServer } from 'node:http';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { quoteCsvField } from '../../src/catalogue/csv.js';
import { startGraphDouble } from '../helpers/graph-double.js';
import { narrowedAcross, type Observed } from '../helpers/independent-attacker.js';
import { KEYS, startProxyFor } from '../helpers/proxy-stack.js';

t.setTimeout(120_000);

const COPILOT = 'getMicrosoft365CopilotUsageUserDetail';
const APPS = ['Microsoft Teams Copilot', 'Word Copilot', 'Excel Copilot', 'PowerPoint Copilot', 'Outlook Copilot', 'OneNote Copilot', 'Loop Copilot', 'Copilot Chat'];
const HEAD = ['Report Refresh Date', 'Report Period', 'User Principal Name', 'Display Name', 'Last Activity Date', ...APPS.map((a) => `${a} Last Activity Date`)];
/** DeptA (OfficeP) 15, DeptB (OfficeQ) 20, DeptC (OfficeR) 30 people; 12 outside the directory. */
const PLACES = [['DeptA', 'OfficeP', 15], ['DeptB', 'OfficeQ', 20], ['DeptC', 'OfficeR', 30]] as const;
const DIRECTORY = { value: PLACES.flatMap(([department, officeLocation, n]) => Array.from({ length: n }, (_, i) => ({ userPrincipalName: `${department.toLowerCase()}${i}@contoso.onmicrosoft.com`, department, officeLocation }))) };

/** The report for a window: per department, the first `inactive` people without any Copilot date. */
function copilotCsv(periodDays: number, inactive: Record<string, number>): Buffer {
  const people = [...DIRECTORY.value.map((p) => ({ upn: p.userPrincipalName, idle: Number(p.userPrincipalName.match(/\d+/)![0]) < (inactive[p.department] ?? 0) })), ...Array.from({ length: 12 }, (_, i) => ({ upn: `leaver${i}@contoso.onmicrosoft.com`, idle: false }))];
  const rows = people.map(({ upn, idle }, i) => ['2026-11-29', String(periodDays), upn, `Person ${i}`, idle ? '' : '2026-11-20', ...APPS.map((_, j) => (!idle && j === 7 ? '2026-11-20' : ''))]);
  return Buffer.from(`\uFEFF${[HEAD, ...rows].map((r) => r.map(quoteCsvField).join(',')).join('\r\n')}\r\n`, 'utf8');
}

const POLICY = `name: copilot-periods
description: Exact Copilot cohorts by department over the last 30 days and the whole history (red-team fixture).
consumers: [no-policy]
k: 5
kC: 5
periods: [D30, ALL]
formats: [csv, json]
reports:
  ${COPILOT}:
    cohort:
      by: [organization, department]
`;

t.test('Copilot cohorts for D30 and ALL, suppressed apart: joined by their nesting, a hidden ALL cell\'s inactive people are narrowed', async (t) => {
  const double = await startGraphDouble({
    reports: { [`${COPILOT}(period='D30')`]: copilotCsv(30, { DeptA: 5, DeptB: 5 }), [`${COPILOT}(period='ALL')`]: copilotCsv(180, { DeptA: 3, DeptB: 4 }) },
    directory: DIRECTORY,
  });
  // Graph's v1.0 Copilot path, forwarded to the double's reports path (redirects and bodies as they are).
  const front = createServer((req, res) => {
    void (async () => {
      const path = req.url!.replace('/v1.0/copilot/reports/', '/v1.0/reports/');
      const upstream = await fetch(`${double.graphUrl}${path}`, { headers: { authorization: req.headers.authorization ?? '' }, redirect: 'manual' });
      const headers: Record<string, string> = {};
      for (const name of ['content-type', 'location']) {
        const value = upstream.headers.get(name);
        if (value !== null) headers[name] = value;
      }
      res.writeHead(upstream.status, headers);
      res.end(Buffer.from(await upstream.arrayBuffer()));
    })();
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const address = front.address();
  const graphUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-copilot-all-'));
  await writeFile(join(dir, 'copilot-periods.yaml'), POLICY);
  const proxy = await startProxyFor({ ...double, graphUrl }, { proxy: { policiesDir: dir } });
  t.teardown(async () => {
    await proxy.close();
    await new Promise((resolve) => front.close(resolve));
    await double.close();
  });
  const read = async (period: string): Promise<Observed> => {
    const res = await proxy.get(`/cohorts/${COPILOT}?period=${period}&format=json`, KEYS.stranger);
    t.equal(res.status, 200, `${period} released`);
    if (res.status !== 200) t.comment(res.body.toString());
    const rows = (JSON.parse(res.body.toString()) as { value: { dimension: string; cohort: string[]; users: number | null; activeUsers: number | null }[] }).value;
    t.comment(`${period}: ${rows.map((r) => `${r.cohort.join('|')} ${r.users}/${r.activeUsers}`).join('; ')}`);
    return new Map(rows.map((r) => [`${r.dimension}/${r.cohort.join('|')}`, r.users === null ? null : { users: r.users, active: r.activeUsers! }]));
  };
  const [all, d30] = [await read('ALL'), await read('D30')];
  t.equal(all.get('department/DeptA'), null, 'ALL hides DeptA (3 of 15 inactive)');
  const structure = { departments: ['DeptA', 'DeptB', 'DeptC'], offices: ['OfficeP', 'OfficeQ', 'OfficeR'], occupied: new Set(['DeptA|OfficeP', 'DeptB|OfficeQ', 'DeptC|OfficeR']) };
  t.same(narrowedAcross(structure, [{ name: 'ALL', observed: all, k: 5 }], [], 5, false), [], 'ALL alone narrows nothing');
  // Copilot users are listed in every window; active over 30 days => active in the whole history.
  const nested = narrowedAcross(structure, [{ name: 'ALL', observed: all, k: 5 }, { name: 'D30', observed: d30, k: 5 }], [
    { smaller: { table: 'D30', measure: 'active' }, larger: { table: 'ALL', measure: 'active' } },
    { smaller: { table: 'D30', measure: 'users' }, larger: { table: 'ALL', measure: 'users' } },
    { smaller: { table: 'ALL', measure: 'users' }, larger: { table: 'D30', measure: 'users' } },
  ], 5, false);
  t.same(nested, [], `G2/G3: ALL cells narrowed by D30: ${JSON.stringify(nested)}`);
});
