/**
 * Red team (hostile or buggy upstream): cohort counts are row counts, not distinct people.
 * src/cohort/report-users.ts merged a user's rows only when they follow each other and their UPNs are the
 * same string. Four people whose rows appear three times each, apart (or in another letter case), made a
 * cohort of "12 users": released under k = 5 although the cohort has 4 people (G1). Now a user who comes back
 * after other users' rows makes the report inconsistent: nothing is released from it (502), and rows of one
 * user that follow each other merge whatever their letter case.
 */
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { startGraphDouble } from '../helpers/graph-double.js';
import { KEYS, startProxyFor } from '../helpers/proxy-stack.js';
import { quoteCsvField } from '../../src/catalogue/csv.js';
import { findReport } from '../../src/catalogue/catalogue.js';
import { activityColumns } from '../../src/cohort/report-users.js';
import { records, simulatedReports } from './helpers.js';

const POLICIES = fileURLToPath(new URL('../fixtures/real-graph/policies', import.meta.url));
const REPORT = 'getTeamsUserActivityUserDetail';
type CohortJson = { value: { dimension: string; cohort: string[]; users: number | null; activeUsers: number | null; suppressed: boolean }[] };

t.test('a 4-person department is released as 12 users when each person has 3 non-adjacent rows', async (t) => {
  const { csv, directory } = await simulatedReports(40, [REPORT]);
  const rows = records(csv[REPORT]!);
  const header = Object.keys(rows[0]!);
  const activity = activityColumns(findReport(REPORT)!).map((c) => c.header);
  const setActive = (r: Record<string, string>, active: boolean) => {
    for (const h of activity) r[h] = r[h] === 'Yes' || r[h] === 'No' ? 'No' : '0';
    if (active) r['Team Chat Message Count'] = '7';
  };
  // Rows 0-3: the 'Tiny' department (4 people: 2 active, 2 not). Rows 4-29: 'Big' (10 inactive). Rows 30-39:
  // outside the directory (5 inactive). Every cohort then has >= kC active and >= kC inactive rows.
  rows.forEach((r, i) => setActive(r, i < 2 || (i >= 4 && i < 20) || (i >= 30 && i < 35)));
  const tiny = new Set(rows.slice(0, 4).map((r) => r['User Principal Name']!));
  const inDirectory = new Set(rows.slice(0, 30).map((r) => r['User Principal Name']!));
  const users = (directory as { value: Record<string, unknown>[] }).value.filter((u) => inDirectory.has(u.userPrincipalName as string));
  for (const u of users) u.department = tiny.has(u.userPrincipalName as string) ? 'Tiny' : 'Big';
  const crafted = { value: users };
  // Each Tiny person's row twice more, apart from each other, once in upper case.
  const again = (upper: boolean) => rows.slice(0, 4).map((r): Record<string, string> => ({ ...r, 'User Principal Name': upper ? r['User Principal Name']!.toUpperCase() : r['User Principal Name']! }));
  const ordered = [...rows.slice(0, 4), ...rows.slice(4, 20), ...again(false), ...rows.slice(20), ...again(true)];
  const body = Buffer.from(`\uFEFF${[header, ...ordered.map((r) => header.map((h) => r[h]!))].map((r) => r.map(quoteCsvField).join(',')).join('\r\n')}\r\n`, 'utf8');

  const double = await startGraphDouble({ reports: { [REPORT]: body }, directory: crafted });
  const proxy = await startProxyFor(double, { proxy: { policiesDir: POLICIES, snapshotTtlSeconds: 0 } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const res = await proxy.get(`/cohorts/${REPORT}?period=D30`, KEYS.vendor);
  t.equal(res.status, 502, 'a report that names a user again after other users is refused whole');
  t.notMatch(res.body.toString('utf8'), /contoso|"users"/i, 'no figure and no name is released');
  t.ok(proxy.logs.some((l) => l.includes('InconsistentReport')), 'the audit line names the cause');
});

t.test("a user's rows that follow each other are one person, whatever their letter case", async (t) => {
  const { csv, directory } = await simulatedReports(60, [REPORT]);
  const rows = records(csv[REPORT]!);
  const header = Object.keys(rows[0]!);
  // Every row twice in a row, the second in upper case (as a nested report would list one user's rows).
  const doubled = rows.flatMap((r) => [r, { ...r, 'User Principal Name': r['User Principal Name']!.toUpperCase() }]);
  const body = Buffer.from(`\uFEFF${[header, ...doubled.map((r) => header.map((h) => r[h]!))].map((r) => r.map(quoteCsvField).join(',')).join('\r\n')}\r\n`, 'utf8');
  const double = await startGraphDouble({ reports: { [REPORT]: body }, directory });
  const proxy = await startProxyFor(double, { proxy: { policiesDir: POLICIES, snapshotTtlSeconds: 0 } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const res = await proxy.get(`/cohorts/${REPORT}?period=D30`, KEYS.vendor);
  t.equal(res.status, 200);
  const org = (JSON.parse(res.body.toString('utf8')) as CohortJson).value.find((r) => r.dimension === 'organization')!;
  t.equal(org.users, rows.length, `${rows.length} people`);
});
