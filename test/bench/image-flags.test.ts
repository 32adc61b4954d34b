/**
 * The benchmarks measure the proxy under the image's V8 flags, read from the Dockerfile (bench/image-flags.ts):
 * the flags read are the Dockerfile's and the ones OPERATIONS.md sizes the pod with, and a Dockerfile without
 * the line is an error, not a run under Node's defaults.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { imageFlagMb, imageNodeFlags, imageStart } from '../../bench/image-flags.js';

t.test("the image's flags, as the Dockerfile sets them and OPERATIONS.md states them", async (t) => {
  const flags = imageNodeFlags();
  t.ok(flags.length > 0);
  t.ok(imageFlagMb(flags, 'max-old-space-size')! > 0, `a heap cap: ${flags.join(' ')}`);
  t.equal(imageFlagMb(flags, 'no-such-flag'), undefined);
  const operations = await readFile('deploy/OPERATIONS.md', 'utf8');
  const { nodeOptions, entrypoint } = imageStart();
  t.ok(operations.includes(`NODE_OPTIONS="${nodeOptions}"`), 'OPERATIONS.md sizes the pod with the same NODE_OPTIONS');
  for (const flag of entrypoint) t.ok(operations.includes(flag), `OPERATIONS.md states the entrypoint's ${flag}`);
  t.same(flags, [...nodeOptions.split(' '), ...entrypoint], 'the flags are both, NODE_OPTIONS first');
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

t.test("the entrypoint's flags are read from its JSON form, up to the script; another form is refused", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-image-flags-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'Dockerfile');
  const options = 'FROM node:24-slim\nENV NODE_OPTIONS="--max-old-space-size=256 --max-semi-space-size=8"\n';
  await writeFile(file, `${options}ENTRYPOINT ["node", "--heap-growing-percent=50", "--no-opt", "dist/cli.js", "--not-a-node-flag"]\nCMD ["serve"]\n`);
  t.same(imageNodeFlags(file), ['--max-old-space-size=256', '--max-semi-space-size=8', '--heap-growing-percent=50', '--no-opt']);
  t.same(imageStart(file), { nodeOptions: '--max-old-space-size=256 --max-semi-space-size=8', entrypoint: ['--heap-growing-percent=50', '--no-opt'] });
  await writeFile(file, `${options}ENTRYPOINT ["node", "--no-opt", "dist/cli.js"]\nENTRYPOINT ["tini", "--", "/usr/local/bin/node", "--heap-growing-percent=20", "dist/cli.js"]\n`);
  t.same(imageStart(file).entrypoint, ['--heap-growing-percent=20'], 'the last ENTRYPOINT, node found by its name');
  await writeFile(file, `${options}ENTRYPOINT ["/app/proxy", "--fast"]\n`);
  t.throws(() => imageNodeFlags(file), { message: /ENTRYPOINT does not start node/ }, 'an entrypoint without node is refused');
  await writeFile(file, options);
  t.same(imageStart(file).entrypoint, [], 'no ENTRYPOINT: no flags of its own');
  await writeFile(file, `${options}ENTRYPOINT node --heap-growing-percent=50 dist/cli.js\n`);
  t.throws(() => imageNodeFlags(file), { message: /ENTRYPOINT is not in JSON form/ }, 'the shell form is refused, not read as no flags');
});
