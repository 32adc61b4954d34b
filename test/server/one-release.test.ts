/**
 * One release behind every surface (issue 15, item 4): for the same consumer, report, period and snapshot, the
 * report URL (JSON, and the CSV download), /cohorts and `policy test` show the same figures and the same
 * suppression, byte for byte where the format is the same.
 */
import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { bearer, fetchCsv, getJson } from '../helpers/graph-client.js';
import { KEYS, proxyCsv, startStack } from '../helpers/proxy-stack.js';
import { noisyVendorPolicies } from '../helpers/vendor-policy.js';
import { DIRECTORY_ATTRIBUTES } from '../../src/cohort/directory.js';
import { loadPolicySet } from '../../src/policy/load.js';
import { runPolicyTests, TEST_NOISE_KEY } from '../../src/policy/test-cases.js';

const TEAMS = "getTeamsUserActivityUserDetail(period='D30')";

for (const variant of ['shipped (exact)', 'noisy example'] as const) t.test(`every surface reads one release: report URL JSON and CSV, /cohorts JSON and CSV, and policy test agree byte for byte, under the ${variant} vendor policy`, async (t) => {
  const policies = variant === 'noisy example' ? await noisyVendorPolicies() : 'policies';
  // The proxy under policy test's public noise key, so the test run can reproduce its noise.
  const stack = await startStack({ simulator: { users: 250 }, proxy: { noiseKey: TEST_NOISE_KEY, policiesDir: policies } });
  t.teardown(() => stack.close());
  const url = JSON.parse((await stack.get(`/beta/reports/${TEAMS}?$format=application/json`, KEYS.vendor)).body.toString()) as { value: unknown[] };
  const cohorts = JSON.parse((await stack.get('/cohorts/getTeamsUserActivityUserDetail?period=D30', KEYS.vendor)).body.toString()) as { value: unknown[] };
  t.same(cohorts.value, url.value, 'the report URL and /cohorts: the same rows');
  const download = await proxyCsv(stack, `/v1.0/reports/${TEAMS}`, KEYS.vendor);
  const cohortsCsv = await stack.get('/cohorts/getTeamsUserActivityUserDetail?period=D30&format=csv', KEYS.vendor);
  t.equal(download.text, cohortsCsv.body.toString(), 'the CSV download and /cohorts CSV: the same bytes');

  // The same snapshot and directory as policy test fixtures, run through `policy test --update`.
  const headers = await bearer(stack.sim);
  const dir = await mkdtemp(join(tmpdir(), 'gpp-one-release-'));
  await cp(policies, dir, { recursive: true });
  await mkdir(join(dir, 'tests', 'fixtures'), { recursive: true });
  await mkdir(join(dir, 'tests', 'expected'), { recursive: true });
  await writeFile(join(dir, 'tests', 'fixtures', 'sim-teams.csv'), await fetchCsv(stack.sim, `/v1.0/reports/${TEAMS}`, headers));
  const users: unknown[] = [];
  let next: string | undefined = `${stack.sim.graphUrl}/v1.0/users?$select=userPrincipalName,${DIRECTORY_ATTRIBUTES.join(',')}&$top=999`;
  while (next !== undefined) {
    const page = await getJson(next, headers);
    users.push(...(page.body.value as unknown[]));
    next = page.body['@odata.nextLink'];
  }
  await writeFile(join(dir, 'tests', 'fixtures', 'sim-directory.json'), JSON.stringify({ value: users }));
  await writeFile(join(dir, 'tests', 'sim-case.yaml'), [
    'description: The proxy answer for the simulated tenant', 'consumer: adoption-dashboard', 'report: getTeamsUserActivityUserDetail',
    'format: csv', 'period: D30', 'input: fixtures/sim-teams.csv', 'directory: fixtures/sim-directory.json', 'expect: { output: expected/sim-teams.csv }', '',
  ].join('\n'));
  const loaded = await loadPolicySet(dir);
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('\n'));
  const run = await runPolicyTests(dir, loaded.set, { update: true });
  t.same(run.problems, []);
  t.equal(await readFile(join(dir, 'tests', 'expected', 'sim-teams.csv'), 'utf8'), download.text, "policy test's output is the proxy's answer, byte for byte");
  t.equal(download.text.split('\r\n')[0]!.includes('Margin95'), variant === 'noisy example', variant === 'noisy example' ? 'noisy figures with their margins' : 'exact figures, no margins');
});
