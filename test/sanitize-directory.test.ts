/**
 * `sanitize --directory` through the real CLI: a /users file that would join silently wrong is refused, naming
 * the fix. Graph's /users leaves out `department` (and the other cohort attributes) unless `$select` names them,
 * and pages at 999 users; before this check such a file put everyone in department `(none)`, or everyone past the
 * first page in `(not in directory)`, and the release went out (exit 0).
 */
import { spawnSync } from 'node:child_process';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from './helpers/cli.js';

t.setTimeout(240_000);

const dir = await mkdtemp(join(tmpdir(), 'gpp-sanitize-directory-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

function fixture(args: string[]): string {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/report-fixture.ts', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`report-fixture ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}

const teams = join(dir, 'teams.csv');
await writeFile(teams, fixture(['getTeamsUserActivityUserDetail', '30', 'csv', '250']));
const users = (JSON.parse(fixture(['directory', '250'])) as { value: Record<string, unknown>[] }).value;

async function release(name: string, directory: unknown) {
  const file = join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(directory));
  const output = join(dir, `${name}.csv`);
  const run = await runCli(['sanitize', '--consumer', 'adoption-dashboard', '--input', teams, '--output', output, '--directory', file]);
  const written = await access(output).then(() => true, () => false);
  return { ...run, written };
}

t.test("users without 'department' (Graph's default /users select) are refused, naming $select", async (t) => {
  const run = await release('no-department', { value: users.map(({ department: _, ...rest }) => rest) });
  t.equal(run.code, 1, run.err);
  t.match(run.err, /users have no 'department', which this release groups by \(Graph's \/users returns it only when asked\): fetch \/v1\.0\/users\?\$select=userPrincipalName,department,officeLocation/);
  t.notOk(run.written, 'nothing is written');
});

t.test('one page of several (@odata.nextLink) is refused', async (t) => {
  const run = await release('one-page', { value: users.slice(0, 100), '@odata.nextLink': 'https://graph.microsoft.com/v1.0/users?$skiptoken=x' });
  t.equal(run.code, 1, run.err);
  t.match(run.err, /is one page of Graph's \/users \(it has @odata\.nextLink\): follow the links/);
  t.notOk(run.written, 'nothing is written');
});

t.test('a selected property left empty (null, as Graph writes it) is a user without a department, and the release goes out', async (t) => {
  const run = await release('null-department', { value: users.map((u, i) => (i === 0 ? { ...u, department: null } : u)) });
  t.equal(run.code, 0, run.err);
  t.ok(run.written, 'the release is written');
});

t.test('--help says which exit codes sanitize uses, the usage mistake and the missing directory included', async (t) => {
  const help = await runCli(['--help']);
  t.match(help.out.replace(/\s+/g, ' '), /exits 3 when the policy or the budget refuses, 2 on a usage mistake, 1 when the input cannot be read or lacks what the release needs \(a directory, other periods, the noise key\)/);
  const usage = await runCli(['sanitize', '--consumer', 'adoption-dashboard']);
  t.equal(usage.code, 2, 'a usage mistake exits 2');
});
