import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadPolicySet, type PolicySet } from '../../src/policy/load.js';
import { lineDiff, runPolicyTests } from '../../src/policy/test-cases.js';

async function copyOfShipped(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-policy-test-'));
  await cp('policies', dir, { recursive: true });
  return dir;
}

async function setOf(dir: string): Promise<PolicySet> {
  const loaded = await loadPolicySet(dir);
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('\n'));
  return loaded.set;
}

t.test('the shipped policies pass their own test cases (policy test exits 0)', async (t) => {
  const run = await runPolicyTests('policies', await setOf('policies'));
  t.same(run.problems, []);
  t.ok(run.results.length >= 7);
  t.same(run.results.filter((r) => !r.passed).map((r) => r.detail), []);
  t.ok(run.results.some((r) => r.file.endsWith('licence-tool-active-users-csv.yaml')), 'an output case is among them');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'policy', 'test'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const [code] = await once(child, 'exit');
  t.equal(code, 0, out);
  t.match(out, /\d+ cases, 0 failed/);
});

t.test('a policy made looser fails its cases, with a readable line diff', async (t) => {
  const dir = await copyOfShipped();
  const file = join(dir, 'licence-management.yaml');
  const text = await readFile(file, 'utf8');
  // Release the month of deletion as well: the expected output does not have that column.
  await writeFile(file, text.replace('      Is Deleted: keep\n', '      Is Deleted: keep\n      Deleted Date: { generalize: month }\n'));
  const run = await runPolicyTests(dir, await setOf(dir));
  const csvCase = run.results.find((r) => r.file.endsWith('licence-tool-active-users-csv.yaml'))!;
  t.equal(csvCase.passed, false);
  t.match(csvCase.detail, /output differs from the expected file \('-' expected, '\+' actual/);
  t.match(csvCase.detail, /^ {2}- {4}1 \| <BOM>User Principal Name,Is Deleted,Deleted Date|^ {2}\+ {4}1 \| <BOM>User Principal Name,Is Deleted,Deleted Date/m);
  t.match(csvCase.detail, /<CR>/, 'line ends are made visible');
});

t.test('a case expecting denial fails when a policy starts releasing the report', async (t) => {
  const dir = await copyOfShipped();
  const file = join(dir, 'licence-management.yaml');
  await writeFile(file, (await readFile(file, 'utf8')).replace('periods: [D30, D90]', 'periods: [D7, D30, D90]'));
  const run = await runPolicyTests(dir, await setOf(dir));
  const weekly = run.results.find((r) => r.file.endsWith('licence-tool-no-weekly-detail.yaml'))!;
  t.equal(weekly.passed, false);
  t.match(weekly.detail, /expected the request to be denied, but the policy releases rows/);
});

t.test('case files are validated with file:line:column problems; --update rewrites expected outputs', async (t) => {
  const dir = await copyOfShipped();
  await writeFile(join(dir, 'tests', 'broken.yaml'), 'description: broken\nconsumer: licence-tool\nreport: getOffice365ActiveUserDetail\nformat: xml\nexpect: denied\n');
  await writeFile(join(dir, 'tests', 'unknown-report.yaml'), 'description: typo\nconsumer: licence-tool\nreport: getOffice365ActiveUserDetial\nformat: csv\nexpect: denied\n');
  const run = await runPolicyTests(dir, await setOf(dir));
  t.match(run.problems.map((p) => `${p.file.split('/').pop()}:${p.position.line}:${p.position.column}: ${p.message}`), [
    /^broken\.yaml:4:9: 'format' is "xml"; allowed: csv, json$/,
    /^unknown-report\.yaml:3:9: unknown report 'getOffice365ActiveUserDetial'$/,
  ]);
  const expected = join(dir, 'tests', 'expected', 'licence-tool-active-users-D30.csv');
  await writeFile(expected, 'stale\n');
  const updated = await runPolicyTests(dir, await setOf(dir), { update: true });
  t.ok(updated.results.some((r) => r.updated === true));
  t.equal(await readFile(expected, 'utf8'), await readFile('policies/tests/expected/licence-tool-active-users-D30.csv', 'utf8'));
});

t.test('lineDiff shows only changed lines, numbered, and counts what it leaves out', async (t) => {
  t.equal(lineDiff('a\nb\nc\n', 'a\nx\nc\n'), "output differs from the expected file ('-' expected, '+' actual, with line numbers):\n  +    2 | x\n  -    2 | b");
  const many = lineDiff(Array.from({ length: 30 }, (_, i) => `e${i}`).join('\n'), Array.from({ length: 30 }, (_, i) => `a${i}`).join('\n'), 4);
  t.match(many, /\.\.\. and 56 more changed lines$/);
});

t.test("another tool's policy for the same report changes the vendor's cohorts, and the failed case says why", async (t) => {
  const dir = await copyOfShipped();
  // A second tool reading Teams cohorts by office at k 12 and k_c 7: the vendor's cells are now suppressed at
  // those sizes too (the Bangalore office, 44 people of whom 6 inactive, is released at k_c 5, not at 7).
  await writeFile(join(dir, 'second-tool.yaml'), `name: second-tool
description: A second adoption tool, by office only.
consumers: [second-tool]
k: 12
kC: 7
periods: [D30]
reports:
  getTeamsUserActivityUserDetail:
    cohort:
      by: [organization, officeLocation]
`);
  const run = await runPolicyTests(dir, await setOf(dir));
  const vendor = run.results.find((r) => r.file.endsWith('adoption-dashboard-teams-cohorts.yaml'))!;
  t.equal(vendor.passed, false, 'the vendor sees fewer cells than its expected output');
  t.match(vendor.detail, /suppressed within the organisation's table of getTeamsUserActivityUserDetail \(department, officeLocation, organization at k 12 and k_c 7/);
  t.match(vendor.detail, /policy test --update/);
  await runPolicyTests(dir, await setOf(dir), { update: true });
  const again = await runPolicyTests(dir, await setOf(dir));
  t.same(again.results.filter((r) => !r.passed).map((r) => r.file), [], 'reviewed and updated, the set passes');
});
