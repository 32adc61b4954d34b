/**
 * One release behind every surface (issue 15, item 4): for the same consumer, report, period and snapshot, the
 * report URL (JSON, and the CSV download), /cohorts and `policy test` show the same figures and the same
 * suppression, byte for byte where the format is the same.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { bearer, fetchCsv, getJson } from '../helpers/graph-client.js';
import { KEYS, proxyCsv, startStack } from '../helpers/proxy-stack.js';
import { noisyVendorPolicies, twoPeriodVendorPolicies } from '../helpers/vendor-policy.js';
import { DIRECTORY_ATTRIBUTES } from '../../src/cohort/directory.js';
import { loadPolicySet } from '../../src/policy/load.js';
import { runPolicyTests, TEST_NOISE_KEY } from '../../src/policy/test-cases.js';

// The two-period case starts the sanitize CLI as a process (slow on a busy machine, as in build.test.ts).
t.setTimeout(360_000);

const TEAMS = "getTeamsUserActivityUserDetail(period='D30')";

for (const variant of ['shipped (exact)', 'noisy example', 'two-period (D7 and D30: one table)'] as const) t.test(`every surface reads one release: report URL JSON and CSV, /cohorts JSON and CSV, and policy test agree byte for byte, under the ${variant} vendor policy`, async (t) => {
  const periods = variant.startsWith('two-period');
  const policies = variant === 'noisy example' ? await noisyVendorPolicies() : periods ? await twoPeriodVendorPolicies() : 'policies';
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
  if (periods) await writeFile(join(dir, 'tests', 'fixtures', 'sim-teams-d7.csv'), await fetchCsv(stack.sim, `/v1.0/reports/${TEAMS.replace('D30', 'D7')}`, headers));
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
    'format: csv', 'period: D30', 'input: fixtures/sim-teams.csv', 'directory: fixtures/sim-directory.json', 'expect: { output: expected/sim-teams.csv }',
    ...(periods ? ['periodInputs: { D7: fixtures/sim-teams-d7.csv }'] : []), '',
  ].join('\n'));
  const loaded = await loadPolicySet(dir);
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('\n'));
  const run = await runPolicyTests(dir, loaded.set, { update: true });
  t.same(run.problems, []);
  t.equal(await readFile(join(dir, 'tests', 'expected', 'sim-teams.csv'), 'utf8'), download.text, "policy test's output is the proxy's answer, byte for byte");
  t.equal(download.text.split('\r\n')[0]!.includes('Margin95'), variant === 'noisy example', variant === 'noisy example' ? 'noisy figures with their margins' : 'exact figures, no margins');
  if (!periods) return;
  // The D7 table suppressed with D30's: a cohort is shown in both or in neither.
  const shown = (text: string) => text.split('\r\n').slice(1).filter((line) => line !== '').map((line) => line.split(',')).map((f) => `${f[1]}/${f[2]} ${f[3] !== ''}`);
  const d7 = await proxyCsv(stack, `/v1.0/reports/${TEAMS.replace('D30', 'D7')}`, KEYS.vendor);
  t.same(shown(d7.text), shown(download.text), 'D7 and D30 hide the same cohorts');
  // The sanitize CLI, in its own process, with the D7 export beside the D30 one: the proxy's answer too.
  const cli = (extra: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'sanitize', '--consumer', 'adoption-dashboard', '--policies', dir,
    '--input', join(dir, 'tests', 'fixtures', 'sim-teams.csv'), '--directory', join(dir, 'tests', 'fixtures', 'sim-directory.json'), '--output', join(dir, 'released.csv'), ...extra], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  const refused = cli([]);
  t.equal(refused.status, 1, 'without the D7 export: refused');
  t.match(refused.stderr, /suppressed as one table .*--period-input D7=<file>; nothing was written/);
  const released = cli(['--period-input', `D7=${join(dir, 'tests', 'fixtures', 'sim-teams-d7.csv')}`]);
  t.equal(released.status, 0, released.stderr);
  t.equal(await readFile(join(dir, 'released.csv'), 'utf8'), download.text, "sanitize's output is the proxy's answer, byte for byte");
});
