/**
 * Fuzzing policy files (fast-check): random edits of the shipped policies (characters inserted, deleted or
 * replaced, lines swapped or dropped) either give a valid set or are rejected with problems that each name a
 * file, line and column and say what is wrong; nothing throws. A rejected edit leaves the running set exactly
 * as it was (never looser), and the store keeps serving.
 */
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { policySetFromFiles, PolicyStore } from '../../src/policy/load.js';

const FILES = ['licence-management.yaml', 'vendor-dashboard.yaml', 'default-deny.yaml'];

const edit = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.constantFrom(':', ' ', '\n', '-', '{', '}', '[', ']', '"', "'", '#', 'x', '0', 'keep', 'pseudonymize', '\t', 'k: 1', '  ') }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant('swapLines' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant('dropLine' as const), at: fc.nat() }),
);

type Edit = typeof edit extends fc.Arbitrary<infer T> ? T : never;

function apply(text: string, e: Edit): string {
  switch (e.kind) {
    case 'insert': {
      const at = e.at % (text.length + 1);
      return text.slice(0, at) + e.text + text.slice(at);
    }
    case 'delete': {
      const at = e.at % (text.length + 1);
      return text.slice(0, at) + text.slice(at + e.length);
    }
    case 'swapLines': {
      const lines = text.split('\n');
      const a = e.a % lines.length;
      const b = e.b % lines.length;
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      return lines.join('\n');
    }
    default: {
      const lines = text.split('\n');
      lines.splice(e.at % lines.length, 1);
      return lines.join('\n');
    }
  }
}

t.test('mutated policies: valid, or rejected with placed, readable problems; never a crash', async (t) => {
  const originals = new Map(await Promise.all(FILES.map(async (f) => [f, await readFile(join('policies', f), 'utf8')] as const)));
  let valid = 0;
  let rejected = 0;
  fc.assert(
    fc.property(fc.constantFrom(...FILES), fc.array(edit, { minLength: 1, maxLength: 3 }), (file, edits) => {
      const files = new Map(originals);
      files.set(file, edits.reduce((text, e) => apply(text, e), originals.get(file)!));
      const result = policySetFromFiles(files);
      if (result.ok) {
        valid++;
        return true;
      }
      rejected++;
      return result.problems.length > 0 && result.problems.every((p) => FILES.includes(p.file) && p.position.line >= 1 && p.position.column >= 1 && p.message.length > 5);
    }),
    { numRuns: 400 },
  );
  t.ok(valid > 10 && rejected > 100, `both outcomes occur (valid ${valid}, rejected ${rejected})`);
});

t.test('a running store: a rejected edit keeps the last good set byte for byte', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-policy-fuzz-'));
  await cp('policies', dir, { recursive: true });
  const store = await PolicyStore.open(dir);
  t.teardown(() => store.close());
  const file = join(dir, 'licence-management.yaml');
  const good = await readFile(file, 'utf8');
  const goodHash = store.current.hash;
  const others = new Map(await Promise.all(FILES.filter((f) => f !== 'licence-management.yaml').map(async (f) => [join(dir, f), await readFile(join(dir, f), 'utf8')] as const)));
  let kept = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 2 }), async (edits) => {
      const mutated = edits.reduce((text, e) => apply(text, e), good);
      const valid = policySetFromFiles(new Map([...others, [file, mutated]])).ok;
      await writeFile(file, mutated);
      await store.reload();
      if (!valid) {
        kept++;
        if (store.current.hash !== goodHash) return false;
      }
      await writeFile(file, good);
      await store.reload();
      return store.current.hash === goodHash;
    }),
    { numRuns: 60 },
  );
  t.ok(kept > 10, `rejected edits kept the last good set (${kept} times)`);
});
