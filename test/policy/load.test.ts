import t, { type Test } from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyStore, loadPolicySet, type PolicyReloadEvent } from '../../src/policy/load.js';

const VENDOR = 'name: vendor\ndescription: Vendor dashboard.\nconsumers: [acme]\nreports:\n  getEmailActivityCounts: deny\n';
const LOOSER = 'name: vendor\ndescription: Vendor dashboard.\nconsumers: [acme]\nreports:\n  getEmailActivityUserDetail:\n    rows:\n      sendCount: keep\n';
const BROKEN = 'name: vendor\ndescription: Vendor dashboard.\nconsumers: [acme]\nreports:\n  getEmailActivityUserDetail:\n    rows:\n      User Principal Name: keep\n';

async function policyDir(t: Test, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'policies-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

t.test('a directory loads as one set with a content hash; unknown consumers get no policy', async (t) => {
  const dir = await policyDir(t, { 'vendor.yaml': VENDOR, 'deny.json': '{"name":"deny","description":"Nothing.","consumers":["other"],"reports":{}}', 'README.md': '# not a policy' });
  const result = await loadPolicySet(dir);
  t.ok(result.ok);
  if (!result.ok) return;
  t.equal(result.set.policies.length, 2);
  t.match(result.set.hash, /^[0-9a-f]{64}$/);
  t.equal(result.set.version, result.set.hash.slice(0, 12));
  t.equal(result.set.policyFor('acme')?.policy.name, 'vendor');
  t.equal(result.set.policyFor('stranger'), undefined);
  const again = await loadPolicySet(dir);
  t.equal(again.ok && again.set.hash, result.set.hash, 'the same files give the same version');
});

t.test('one bad file makes the whole set invalid, with every problem listed', async (t) => {
  const dir = await policyDir(t, { 'vendor.yaml': BROKEN, 'other.yaml': 'name: other\nconsumers: [x]\nreports: {}\n' });
  const result = await loadPolicySet(dir);
  t.notOk(result.ok);
  if (!result.ok) {
    t.equal(result.problems.length, 2);
    t.match(result.problems.map((p) => p.message).join('\n'), /missing 'description'[\s\S]*identifies people|identifies people[\s\S]*missing 'description'/);
  }
});

t.test('hot reload: a valid change swaps atomically; an invalid one is refused and the last good set stays', async (t) => {
  const dir = await policyDir(t, { 'vendor.yaml': VENDOR });
  const events: PolicyReloadEvent[] = [];
  const store = await PolicyStore.open(dir, (e) => void events.push(e));
  t.teardown(() => store.close());
  store.watch(50);
  const first = store.current;
  const inFlight = store.current; // what a request that started now holds

  await writeFile(join(dir, 'vendor.yaml'), BROKEN);
  await waitFor(() => events.length >= 1);
  t.equal(events[0]?.kind, 'rejected');
  t.equal(store.current, first, 'the last good set stays after an invalid edit');
  t.equal(store.current.policyFor('acme')?.policy.reports.getEmailActivityCounts, 'deny', 'never looser than the last good set');

  await writeFile(join(dir, 'vendor.yaml'), LOOSER);
  await waitFor(() => events.some((e) => e.kind === 'loaded'));
  t.not(store.current.hash, first.hash, 'the new valid set is live');
  t.ok('getEmailActivityUserDetail' in store.current.policyFor('acme')!.policy.reports);
  t.equal(inFlight.policyFor('acme')?.policy.reports.getEmailActivityCounts, 'deny', 'an in-flight request keeps the set it started with');
});

t.test('the store refuses to start on an invalid set', async (t) => {
  const dir = await policyDir(t, { 'vendor.yaml': BROKEN });
  await t.rejects(PolicyStore.open(dir), { code: 'PolicyLoadError' });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out waiting for a reload');
    await new Promise((r) => setTimeout(r, 20));
  }
}

t.test('item 6: the version names content: file names relative to the directory and their bytes, not the path spelling', async (t) => {
  const dir = await policyDir(t, { 'vendor.yaml': VENDOR });
  const plain = await loadPolicySet(dir);
  const spelt = await loadPolicySet(`${dir}/./`);
  const { cp } = await import('node:fs/promises');
  const copy = await mkdtemp(join(tmpdir(), 'policies-copy-'));
  t.teardown(() => rm(copy, { recursive: true, force: true }));
  await cp(dir, copy, { recursive: true });
  const elsewhere = await loadPolicySet(copy);
  t.ok(plain.ok && spelt.ok && elsewhere.ok);
  if (!plain.ok || !spelt.ok || !elsewhere.ok) return;
  t.equal(spelt.set.hash, plain.set.hash, 'dir and dir/./ give one version');
  t.equal(elsewhere.set.hash, plain.set.hash, 'the same files in another directory give the same version');
  await writeFile(join(copy, 'vendor.yaml'), `${VENDOR}# a comment\n`);
  const edited = await loadPolicySet(copy);
  t.ok(edited.ok && edited.set.hash !== plain.set.hash, 'a byte changed is another version');
  t.same(plain.set.files.map((f) => f.name), ['vendor.yaml'], 'files are named relative to the directory');
  t.match(plain.set.files[0]!.sha256, /^[0-9a-f]{64}$/);
  t.match(plain.set.policyFor('acme')!.hash, /^[0-9a-f]{64}$/, 'each policy has a hash of its own file');
});
