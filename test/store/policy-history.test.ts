/**
 * The policy history on both stores (embedded file, real redis-server): activations are appended as a hash
 * chain, survive reopening, are not repeated for the same set, and `verifyHistory` finds an edited, removed
 * or reordered entry.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { diffPolicySets, diffSummary } from '../../src/policy/diff.js';
import { recordActivation, verifyHistory } from '../../src/policy/history.js';
import { policySetFromFiles, type PolicySet } from '../../src/policy/load.js';
import { PolicyHistoryFile } from '../../src/store/policy-history.js';
import { RedisStore } from '../../src/store/redis-store.js';
import { redisAvailable, startRedis } from '../helpers/redis.js';

const POLICY = 'name: p\ndescription: A tool.\nconsumers: [tool]\nreports:\n  getEmailActivityCounts:\n    rows: { Send: keep }\n';
function setOf(text: string): PolicySet {
  const result = policySetFromFiles(new Map([['dir/p.yaml', text]]));
  if (!result.ok) throw new Error('invalid');
  return result.set;
}
const v1 = setOf(POLICY);
const v2 = setOf(POLICY.replace('Send: keep', 'Send: keep, Receive: keep'));
const v3 = setOf(POLICY.replace('A tool.', 'A tool, reworded.'));

interface Kind {
  readonly name: string;
  readonly skip: string | false;
  setup(): Promise<{ open(): Promise<{ history: PolicyHistoryFile | RedisStore['policyHistory']; close(): Promise<void> }>; tamper(edit: (lines: string[]) => string[]): Promise<void>; teardown(): Promise<void> }>;
}

const KINDS: Kind[] = [
  {
    name: 'embedded',
    skip: false,
    async setup() {
      const file = join(await mkdtemp(join(tmpdir(), 'gpp-policy-history-')), 'policy-history.jsonl');
      return {
        async open() {
          const history = await PolicyHistoryFile.open(file);
          return { history, close: () => history.close() };
        },
        async tamper(edit) {
          const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
          await writeFile(file, edit(lines).map((l) => `${l}\n`).join(''));
        },
        teardown: async () => {},
      };
    },
  },
  {
    name: 'redis',
    skip: redisAvailable ? false : 'redis-server is not installed (.ci/run installs it)',
    async setup() {
      const redis = await startRedis();
      return {
        async open() {
          const store = await RedisStore.connect(redis.url, 'test');
          return { history: store.policyHistory, close: () => store.close() };
        },
        async tamper(edit) {
          const store = await RedisStore.connect(redis.url, 'test');
          const lines = edit(await store.redis.lrange('test:policy-history', 0, -1));
          await store.redis.del('test:policy-history');
          if (lines.length > 0) await store.redis.rpush('test:policy-history', ...lines);
          await store.close();
        },
        teardown: () => redis.stop(),
      };
    },
  },
];

for (const kind of KINDS) {
  t.test(`${kind.name} store: the policy history`, { skip: kind.skip }, async (t) => {
    const { open, tamper, teardown } = await kind.setup();
    t.teardown(teardown);
    const first = await open();
    const e1 = await recordActivation(first.history, v1, undefined, new Date('2026-11-30T10:00:00Z'));
    t.match(e1, { seq: 1, version: v1.version, setHash: v1.hash, previous: '0'.repeat(64), at: '2026-11-30T10:00:00.000Z' });
    t.same(e1.files, [{ name: 'p.yaml', sha256: v1.files[0]!.sha256 }], "each file's hash, named relative to the directory");
    const again = await recordActivation(first.history, v1, undefined);
    t.equal(again.hash, e1.hash, 'the same set again (a restart) is not a new entry');
    const e2 = await recordActivation(first.history, v2, diffSummary(diffPolicySets(v1, v2)), new Date('2026-11-30T11:00:00Z'));
    t.match(e2, { seq: 2, previous: e1.hash, changes: { more: 1, lines: ["+ tool getEmailActivityCounts: 'Receive' in clear (was not released)"] } });
    await first.close();

    const reopened = await open();
    const e3 = await recordActivation(reopened.history, v3, diffSummary(diffPolicySets(v2, v3)));
    t.equal(e3.seq, 3, 'the chain continues after reopening');
    const lines = await reopened.history.lines();
    t.equal(lines.length, 3);
    t.ok(verifyHistory(lines).ok, 'an untouched history verifies');
    await reopened.close();

    await tamper((l) => [l[0]!, l[1]!.replace('"more":1', '"more":0'), l[2]!]);
    const edited = await open();
    const afterEdit = verifyHistory(await edited.history.lines());
    await edited.close();
    t.notOk(afterEdit.ok, 'an edited entry is found');
    t.match(afterEdit.problems.join('\n'), /line 2: entry #2 \(version [0-9a-f]{12}\) was edited/);

    await tamper((l) => [l[0]!, l[1]!.replace('"more":0', '"more":1'), l[2]!]);
    const restored = await open();
    t.ok(verifyHistory(await restored.history.lines()).ok, 'restoring the bytes restores the chain (the hash is of the content)');
    await restored.close();

    await tamper((l) => [l[0]!, l[2]!]);
    const removed = await open();
    const afterRemoval = verifyHistory(await removed.history.lines());
    t.notOk(afterRemoval.ok, 'a removed entry is found');
    t.match(afterRemoval.problems.join('\n'), /line 2: entry #3 where #2 belongs/);
    await removed.close();
  });
}

t.test('embedded: a torn last line (a crash mid-write) is cut off; the next entry starts on its own line', async (t) => {
  const file = join(await mkdtemp(join(tmpdir(), 'gpp-policy-history-')), 'h.jsonl');
  const history = await PolicyHistoryFile.open(file);
  await recordActivation(history, v1, undefined);
  await history.close();
  await writeFile(file, `${await readFile(file, 'utf8')}{"seq":2,"vers`);
  const reopened = await PolicyHistoryFile.open(file);
  const e2 = await recordActivation(reopened, v2, undefined);
  await reopened.close();
  t.equal(e2.seq, 2);
  t.ok(verifyHistory((await readFile(file, 'utf8')).split('\n').filter((l) => l !== '')).ok);
});
