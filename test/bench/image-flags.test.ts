/**
 * The benchmarks measure the proxy under the image's V8 flags, read from the Dockerfile (bench/image-flags.ts):
 * the flags read are the Dockerfile's and the ones OPERATIONS.md sizes the pod with, and a Dockerfile without
 * the line is an error, not a run under Node's defaults.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { imageFlagMb, imageNodeFlags } from '../../bench/image-flags.js';

t.test("the image's flags, as the Dockerfile sets them and OPERATIONS.md states them", async (t) => {
  const flags = imageNodeFlags();
  t.ok(flags.length > 0);
  t.ok(imageFlagMb(flags, 'max-old-space-size')! > 0, `a heap cap: ${flags.join(' ')}`);
  t.equal(imageFlagMb(flags, 'no-such-flag'), undefined);
  const operations = await readFile('deploy/OPERATIONS.md', 'utf8');
  t.ok(operations.includes(`NODE_OPTIONS="${flags.join(' ')}"`), 'OPERATIONS.md sizes the pod with the same flags');
});

t.test('a Dockerfile without NODE_OPTIONS is refused, naming the file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-image-flags-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'Dockerfile');
  await writeFile(file, 'FROM node:24-slim\nENV NODE_ENV=production\n');
  t.throws(() => imageNodeFlags(file), { message: new RegExp(`${file.replaceAll('/', '\\/')} has no ENV NODE_OPTIONS`) });
  await writeFile(file, 'FROM node:24-slim\nENV NODE_OPTIONS="--max-old-space-size=256"\n');
  t.same(imageNodeFlags(file), ['--max-old-space-size=256']);
  t.equal(imageFlagMb(imageNodeFlags(file), 'max-old-space-size'), 256);
});
