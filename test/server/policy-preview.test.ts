/**
 * `GET /policy/preview` on a running proxy: only for a consumer whose policy grants 'preview'; measures the
 * snapshots the proxy holds (never asking Graph), and its figures agree with what the proxy actually serves.
 */
import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import t from 'tap';
import type { PolicyPreview, RowsPreview } from '../../src/policy/preview.js';
import { ConsumerKeys } from '../../src/server/consumer-keys.js';
import { KEYS, proxyCsv, startStack } from '../helpers/proxy-stack.js';

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
