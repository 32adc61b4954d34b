/**
 * The suite runs on the Node that package.json's `engines` names (the pinned `node` dev dependency, which npm
 * scripts put first on PATH), not on whatever Node the machine ships: a test that passed on another runtime
 * would prove nothing about the supported one.
 */
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import t from 'tap';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string }; devDependencies: Record<string, string> };

t.test('the tests run on Node 24, the version engines states and the lock file pins', async (t) => {
  t.equal(pkg.engines.node, '^24.11.0');
  t.equal(process.versions.node.split('.')[0], '24', `tests run on ${process.version}`);
  t.equal(process.versions.node, pkg.devDependencies.node, 'the runtime is the pinned node dev dependency');
});

t.test('a child process started as `node` (as scripts and tests do) is the same Node 24', async (t) => {
  const child = spawnSync('node', ['--version'], { encoding: 'utf8' });
  t.equal(child.stdout.trim(), `v${pkg.devDependencies.node}`);
});
