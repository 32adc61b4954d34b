/**
 * Policy directories as Kubernetes mounts a ConfigMap: each file is a symlink into `..data/`, itself a symlink
 * to a timestamped directory that the kubelet swaps atomically. Symlinks are followed inside the directory,
 * hidden entries ignored; an empty set, or one with an unreadable or escaping entry, is an error, never "0 policies".
 */
import t, { type Test } from 'tap';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyStore, loadPolicySet } from '../../src/policy/load.js';
import { configMapLayout } from '../helpers/configmap.js';

const VENDOR = 'name: vendor\ndescription: Vendor dashboard.\nconsumers: [acme]\nreports:\n  getEmailActivityCounts: deny\n';
const DENY = 'name: deny\ndescription: Nothing.\nconsumers: [other]\nreports: {}\n';

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-mounted-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test('a ConfigMap layout loads through its symlinks, with the same version as plain files', async (t) => {
  const mounted = await tempDir(t);
  await configMapLayout(mounted, { 'vendor.yaml': VENDOR, 'deny.yaml': DENY });
  const result = await loadPolicySet(mounted);
  t.ok(result.ok, result.ok ? '' : JSON.stringify(result.problems));
  if (!result.ok) return;
  t.same(result.set.policies.map((p) => p.policy.name).sort(), ['deny', 'vendor'], 'both policies, each once (the ..data copies are hidden)');
  const plain = await tempDir(t);
  await writeFile(join(plain, 'vendor.yaml'), VENDOR);
  await writeFile(join(plain, 'deny.yaml'), DENY);
  const plainResult = await loadPolicySet(plain);
  t.equal(plainResult.ok && plainResult.set.version, result.set.version, 'the version names the content, not the directory or the link targets');
});

t.test('hidden entries are ignored: editor and kubelet files next to the policies', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'vendor.yaml'), VENDOR);
  await writeFile(join(dir, '.vendor.yaml.swp.yaml'), 'not: [a policy');
  await mkdir(join(dir, '..2026_11_30'));
  await writeFile(join(dir, '..2026_11_30', 'other.yaml'), 'broken: [');
  const result = await loadPolicySet(dir);
  t.ok(result.ok, result.ok ? '' : JSON.stringify(result.problems));
});

t.test('an empty set is an error, not "0 policies valid"', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'README.md'), '# no policies here');
  const result = await loadPolicySet(dir);
  t.notOk(result.ok);
  if (!result.ok) t.match(result.problems[0]!.message, /no policy files/);
  await t.rejects(PolicyStore.open(dir), { code: 'PolicyLoadError' }, 'the proxy does not start on it');
  const mountedEmpty = await tempDir(t);
  await configMapLayout(mountedEmpty, {});
  t.notOk((await loadPolicySet(mountedEmpty)).ok, 'an empty ConfigMap too');
});

t.test('a partially readable set is an error naming the entry: dangling link, link out of the directory, a directory', async (t) => {
  const outside = await tempDir(t);
  await writeFile(join(outside, 'elsewhere.yaml'), DENY);
  const cases: [string, (dir: string) => Promise<void>, RegExp][] = [
    ['a dangling symlink', (dir) => symlink('..data/gone.yaml', join(dir, 'gone.yaml')), /gone\.yaml.*cannot be read/],
    ['a symlink out of the directory', (dir) => symlink(join(outside, 'elsewhere.yaml'), join(dir, 'elsewhere.yaml')), /elsewhere\.yaml.*outside the policy directory/],
    ['a directory with a policy name', (dir) => mkdir(join(dir, 'folder.yaml')), /folder\.yaml.*not a regular file/],
  ];
  for (const [what, damage, message] of cases) {
    const dir = await tempDir(t);
    await writeFile(join(dir, 'vendor.yaml'), VENDOR);
    await damage(dir);
    const result = await loadPolicySet(dir);
    t.notOk(result.ok, what);
    if (!result.ok) t.match(result.problems.map((p) => `${p.file}: ${p.message}`).join('\n'), message, what);
  }
});

t.test('the atomic swap of ..data is picked up by the watcher; a swap to an empty set keeps the last good one and marks it unready', async (t) => {
  const dir = await tempDir(t);
  await configMapLayout(dir, { 'vendor.yaml': VENDOR });
  const events: string[] = [];
  const store = await PolicyStore.open(dir, (e) => void events.push(e.kind));
  t.teardown(() => store.close());
  store.watch(50);
  const first = store.current.version;
  t.equal(store.problem, undefined, 'ready');
  await configMapLayout(dir, { 'vendor.yaml': VENDOR, 'deny.yaml': DENY });
  const until = Date.now() + 5000;
  while (store.current.version === first && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  t.not(store.current.version, first, 'the new ConfigMap version is live');
  t.same(store.current.policies.map((p) => p.policy.name).sort(), ['deny', 'vendor']);

  // A mount that lost its files (e.g. the ConfigMap was emptied): the last good set stays, and readiness fails.
  const live = store.current.version;
  await configMapLayout(dir, {});
  await store.reload();
  t.equal(store.current.version, live);
  t.match(store.problem, /no policy files/);
  await configMapLayout(dir, { 'vendor.yaml': VENDOR });
  await store.reload();
  t.equal(store.problem, undefined, 'ready again once the set loads');
});
