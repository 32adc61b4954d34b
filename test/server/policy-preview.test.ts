/**
 * `GET /policy/preview` on a running proxy: only for a consumer whose policy grants 'preview'; measures the
 * snapshots the proxy holds (never asking Graph), and its figures agree with what the proxy actually serves.
 */
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import t from 'tap';
import type { CohortPreview, PolicyPreview, RowsPreview } from '../../src/policy/preview.js';
import { ConsumerKeys } from '../../src/server/consumer-keys.js';
import { KEYS, proxyCsv, shippedPoliciesWithoutCases, startStack } from '../helpers/proxy-stack.js';

const OPERATOR_KEY = 'gpp_test-privacy-operator-key-0000000000000000000000';

t.test("GET /policy/preview: an operator with the 'preview' permission sees what the live set releases of the held snapshots", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-preview-'));
  await cp('policies', dir, { recursive: true });
  await writeFile(join(dir, 'operations.yaml'), "name: operations\ndescription: The privacy office's console reads the policy preview, and no report.\nconsumers: [privacy-office]\npermissions: [preview]\nreports: {}\n");
  const stack = await startStack({ proxy: { policiesDir: dir, consumerKeys: ConsumerKeys.of({ 'licence-tool': KEYS.licence, 'privacy-office': OPERATOR_KEY }) } });
  t.teardown(() => stack.close());

  t.equal((await stack.get('/policy/preview')).status, 401, 'a key is needed');
  t.equal((await stack.get('/policy/preview', KEYS.licence)).status, 403, 'a tool without the permission is refused');

  const before = JSON.parse((await stack.get('/policy/preview', OPERATOR_KEY)).body.toString()) as PolicyPreview;
  t.equal(before.data, 'the report snapshots this proxy holds');
  t.match(before.consumers.find((c) => c.consumer === 'licence-tool')!.reports[0], { kind: 'unavailable', report: 'getOffice365ActiveUserDetail', period: 'D30' });
  t.same(Object.values(stack.sim.stats.downloads).reduce((a, b) => a + b, 0), 0, 'the preview did not ask Graph for anything');

  const served = await proxyCsv(stack, "/v1.0/reports/getOffice365ActiveUserDetail(period='D30')", KEYS.licence);
  t.equal(served.status, 200);
  const rows = parse(served.text.slice(1), { columns: true }) as Record<string, string>[];
  const downloads = Object.values(stack.sim.stats.downloads).reduce((a, b) => a + b, 0);

  const response = await stack.get('/policy/preview', OPERATOR_KEY);
  t.equal(response.headers['x-policy-version'], stack.proxy.policies.current.version);
  const after = JSON.parse(response.body.toString()) as PolicyPreview;
  const licence = after.consumers.find((c) => c.consumer === 'licence-tool')!.reports[0] as RowsPreview;
  t.equal(licence.kind, 'rows');
  t.equal(licence.rowsIn, stack.sim.tenant.size, 'measured on the held snapshot');
  t.equal(licence.rowsOut, rows.length, 'the preview releases exactly the rows the proxy served');
  t.equal(licence.risk!.uniqueRows, 0, 'and none of them is unique on its released columns');
  t.equal(Object.values(stack.sim.stats.downloads).reduce((a, b) => a + b, 0), downloads, 'still no request to Graph');
  t.notOk(response.body.toString().includes('@'), 'counts only: no identifier in the answer');
  t.match(after.consumers.find((c) => c.consumer === 'adoption-dashboard')!.reports[0], { kind: 'unavailable' }, 'cohorts need their snapshot and the directory held');
});

t.test("GET /policy/preview: a cohort release's figures are the proxy's, made within the organisation's table (periods and the score's Meetings with it)", async (t) => {
  // The vendor's Teams cohorts for D7 and D30 (one table: the periods nest) beside the score's Meetings (one table
  // with them: the vendor policy grants the score). Before, the preview suppressed the policy's own table alone
  // for D30 only: 9 of 22 cells released on this tenant, where the proxy serves 5 and hides 4 more for the link.
  const dir = await shippedPoliciesWithoutCases('gpp-preview-cohorts-');
  const file = join(dir, 'vendor-dashboard.yaml');
  await writeFile(file, (await readFile(file, 'utf8')).replace(/^periods: \[D30\]$/m, 'periods: [D7, D30]'));
  await writeFile(join(dir, 'operations.yaml'), "name: operations\ndescription: The privacy office's console reads the policy preview, and no report.\nconsumers: [privacy-office]\npermissions: [preview]\nreports: {}\n");
  const stack = await startStack({ proxy: { policiesDir: dir, consumerKeys: ConsumerKeys.of({ 'adoption-dashboard': KEYS.vendor, 'privacy-office': OPERATOR_KEY }) }, simulator: { seed: 1, users: 250 } });
  t.teardown(() => stack.close());

  const served = new Map<string, { released: number; suppressed: number }>();
  for (const period of ['D7', 'D30']) {
    const response = await stack.get(`/cohorts/getTeamsUserActivityUserDetail?period=${period}&by=organization,department,officeLocation&format=json`, KEYS.vendor);
    t.equal(response.status, 200, `${period} served`);
    const cells = (JSON.parse(response.body.toString()) as { value: { suppressed: boolean }[] }).value;
    served.set(period, { released: cells.filter((c) => !c.suppressed).length, suppressed: cells.filter((c) => c.suppressed).length });
  }
  const preview = JSON.parse((await stack.get('/policy/preview', OPERATOR_KEY)).body.toString()) as PolicyPreview;
  const teams = preview.consumers.find((c) => c.consumer === 'adoption-dashboard')!.reports.filter((r) => r.report === 'getTeamsUserActivityUserDetail') as CohortPreview[];
  t.same(teams.map((r) => r.period), ['D7', 'D30'], 'every period the policy releases is previewed');
  for (const r of teams) {
    const { released, suppressed } = served.get(r.period)!;
    t.equal(r.cells, released + suppressed, `${r.period}: the cells the proxy serves`);
    t.equal(r.released, released, `${r.period}: the preview releases exactly the cells the proxy released`);
    t.equal(r.suppressed.primary + r.suppressed.complement + r.suppressed.secondary, suppressed, `${r.period}: and suppresses the rest`);
  }
});
