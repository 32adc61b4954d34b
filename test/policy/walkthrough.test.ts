/**
 * README's walk-through, step by step, with the policy file taken from README itself: an officer adds a tool,
 * checks and previews it, reads the diff, adds a test case, and the change goes live on a running proxy only
 * once its tests pass and the proxy holds the tool's pseudonym key.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { ConsumerKeys } from '../../src/server/consumer-keys.js';
import { parseKeyring } from '../../src/sanitize/pseudonyms.js';
import { runCli } from '../helpers/cli.js';
import { KEYS, startStack } from '../helpers/proxy-stack.js';

// Each case starts the CLI as its own process (about 1-3 s each on a busy 2-core machine): the file as a whole
// needs more than tap's default 120 s there, though no single case is slow.
t.setTimeout(360_000);

const STORAGE_KEY = 'gpp_test-storage-tool-key-00000000000000000000000000';

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const until = Date.now() + 15_000;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test("README's walk-through: add a tool, check, preview, diff, test, and activation gated by tests and keys", async (t) => {
  const readme = await readFile('README.md', 'utf8');
  const policy = /```yaml\n# storage-planning\.yaml\n([\s\S]*?)```/.exec(readme)?.[1];
  t.ok(policy, 'README holds the policy file');
  const work = await mkdtemp(join(tmpdir(), 'gpp-walkthrough-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));
  const next = join(work, 'policies-next');
  await cp('policies', next, { recursive: true });
  await writeFile(join(next, 'storage-planning.yaml'), `# storage-planning.yaml\n${policy!}`);

  const check = await runCli(['policy', 'check', next, '--keys', 'licence-tool,storage-tool']);
  t.equal(check.code, 0, check.err);
  t.notMatch(check.err, /storage-planning\.yaml:\d+:\d+: warning/, 'with all three released columns declared, the lint is satisfied');
  const draft = (await readFile(join(next, 'storage-planning.yaml'), 'utf8')).replace('quasiIdentifiers: [Storage Allocated (Byte), Storage Used (Byte), Last Activity Date]', 'quasiIdentifiers: [Storage Allocated (Byte)]');
  const draftDir = join(work, 'draft');
  await cp(next, draftDir, { recursive: true });
  await writeFile(join(draftDir, 'storage-planning.yaml'), draft);
  const warned = await runCli(['policy', 'check', draftDir]);
  t.equal(warned.err.match(/: warning: /g)?.length, 1, 'the shipped policies add no warning of their own (README: the vendor policy is exact)');
  t.match(warned.err, /storage-planning\.yaml:15:7: warning: 'Last Activity Date' \(generalised to a month\) is released but is not a declared quasi-identifier; with the quasi-identifiers \(Storage Allocated \(Byte\)\) it singles out 0\.4% of released rows \(1 of 250\)/, 'the first draft warns as README shows');

  const preview = await runCli(['policy', 'preview', next]);
  t.match(preview.out, /storage-tool \(policy storage-planning\)\n {2}getOneDriveUsageAccountDetail D30: rows 250 in, 244 out, 6 withheld\n {4}risk over 3 released columns \(all but the pseudonym\): 6 equivalence classes; unique 0 \(0%\), in classes below k=5 0 \(0%\); prosecutor risk highest 0\.143, average 0\.025/, 'the preview README shows');
  const diff = await runCli(['policy', 'diff', 'policies', next]);
  const heading = /^policies \(version \w+\) -> \/tmp\/policies-next \(version \w+\): .*$/m.exec(readme)?.[0];
  t.equal(diff.out.split('\n')[0], heading?.replace('/tmp/policies-next', next), "the diff's heading, versions included, is README's (a change to the shipped policies changes the live version: update README)");
  t.match(diff.out, /: 2 exposure increases, 0 decreases, 0 other changes\n {2}\+ storage-tool: now governed by policy 'storage-planning' \(1 report released; before: no policy, everything denied\)\n {2}\+ storage-tool getOneDriveUsageAccountDetail: newly released: rows \(Owner Principal Name as a pseudonym, Storage Used \(Byte\) in bands 0\/1000000000\/10000000000\/100000000000, Storage Allocated \(Byte\) in clear, Last Activity Date generalised to the month\)\n$/);

  // The test case, with a simulated fixture, its expected output written by --update and then reviewed.
  const fixture = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/report-fixture.ts', 'getOneDriveUsageAccountDetail', '30', 'csv'], { encoding: 'utf8' });
  t.equal(fixture.status, 0, fixture.stderr);
  await writeFile(join(next, 'tests', 'fixtures', 'onedrive-usage-D30.csv'), fixture.stdout);
  await writeFile(join(next, 'tests', 'storage-tool-onedrive.yaml'), 'description: The storage tool gets pseudonymised OneDrive storage rows, sizes in bands, months of activity.\nconsumer: storage-tool\nreport: getOneDriveUsageAccountDetail\nformat: csv\nperiod: D30\ninput: fixtures/onedrive-usage-D30.csv\nexpect: { output: expected/storage-tool-onedrive-D30.csv }\n');
  const updated = await runCli(['policy', 'test', next, '--update']);
  t.equal(updated.code, 0);
  t.same(updated.out.split('\n').filter((l) => l.startsWith('updated')).map((l) => l.replace(/:.*/, '').replace(/.*\//, '')), ['storage-tool-onedrive.yaml'], "--update reports as updated only the case whose expected output it wrote (the shipped cases' outputs are unchanged)");
  t.match(updated.out, /, 0 failed \(1 expected output rewritten: review it before committing\)\n/);
  const tested = await runCli(['policy', 'test', next]);
  t.equal(tested.code, 0, tested.out);
  t.match(tested.out, /pass {4}.*storage-tool-onedrive\.yaml/);
  t.ok(tested.out.split('\n').filter((l) => /^(pass|FAIL|updated) /.test(l)).every((l) => l.slice(8).startsWith(join(next, 'tests'))), "a directory outside the working directory is shown by its own path, not as '../../tmp/...'");

  // Copies the officer's files into a live directory, as the last step of the walk-through.
  const copyIn = async (live: string) => {
    await mkdir(join(live, 'tests', 'expected'), { recursive: true });
    for (const f of ['tests/fixtures/onedrive-usage-D30.csv', 'tests/expected/storage-tool-onedrive-D30.csv', 'tests/storage-tool-onedrive.yaml', 'storage-planning.yaml']) await cp(join(next, f), join(live, f));
  };
  const keys = ConsumerKeys.of({ 'licence-tool': KEYS.licence, 'storage-tool': STORAGE_KEY });

  // Live proxy without the tool's pseudonym key: copying the files in changes nothing, and says why.
  const live = join(work, 'live');
  await cp('policies', live, { recursive: true });
  const without = await startStack({ proxy: { policiesDir: live, watchPolicies: true, consumerKeys: keys } });
  const before = without.proxy.policies.current.version;
  try {
    await copyIn(live);
    await waitFor(() => without.proxy.policies.lastRejection !== undefined, 'the refusal');
    t.equal(without.proxy.policies.current.version, before, 'the last good set stays');
    const ready = JSON.parse((await without.get('/readyz')).body.toString()) as { policyReload?: { reasons: string[] } };
    t.match(ready.policyReload?.reasons.join('\n'), /storage-planning\.yaml:\d+:\d+: pseudonym key 'storage-tool' is not held by the proxy/);
    t.equal((await without.get("/v1.0/reports/getOneDriveUsageAccountDetail(period='D30')", STORAGE_KEY)).status, 403, 'the tool still gets nothing');
  } finally {
    await without.close(); // closed here, not at teardown: the next proxy starts beside it
  }

  // A proxy that holds the key: the same change goes live on reload, and the log line carries the diff.
  const live2 = join(work, 'live2');
  await cp('policies', live2, { recursive: true });
  const withKey = await startStack({ proxy: { policiesDir: live2, watchPolicies: true, consumerKeys: keys, pseudonymKeys: parseKeyring(`licence-tool=${randomBytes(32).toString('base64')},storage-tool=${randomBytes(32).toString('base64')}`) } });
  t.teardown(() => withKey.close());
  await copyIn(live2);
  await waitFor(() => withKey.proxy.policies.current.version !== before, 'the new set');
  const loaded = withKey.logs.map((l) => JSON.parse(l) as { msg?: string; changes?: string[] }).find((l) => l.msg === 'policy set loaded');
  t.match(loaded?.changes?.join('\n'), /^\+ storage-tool: now governed by policy 'storage-planning'/);
  t.equal((await withKey.get("/v1.0/reports/getOneDriveUsageAccountDetail(period='D30')", STORAGE_KEY)).status, 302, 'the tool is served');
});
