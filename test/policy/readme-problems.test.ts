/**
 * README's example of `policy check` problems, through the real CLI: a policy with `k: 1` and two misspelt
 * columns is reported by its shape first, then, once `k` is corrected, by its names. README showed the two kinds
 * together, which no run prints.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../helpers/cli.js';

t.setTimeout(120_000);

const policy = (k: number) => `name: vendor
description: The vendor's e-mail report, with two misspelt columns.
consumers: [vendor-tool]
k: ${k}
periods: [D30]
reports:
  getEmailActivityUserDetail:
    rows:
      userPrincipleName: pseudonymize
      Send Count: keep
      Recieve Count: keep
`;

t.test("README's problem examples are what policy check prints, run by run", async (t) => {
  const readme = await readFile('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('Problems read, for example'));
  const blocks = [...section.matchAll(/```\n([\s\S]*?)```/g)].slice(0, 2).map((m) => m[1]!);
  t.equal(blocks.length, 2, 'README shows two runs');
  const dir = await mkdtemp(join(tmpdir(), 'gpp-readme-problems-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [k, expected] of [[1, blocks[0]!], [2, blocks[1]!]] as const) {
    await writeFile(join(dir, 'vendor.yaml'), policy(k));
    const run = await runCli(['policy', 'check', dir]);
    t.equal(run.code, 1, `k: ${k}: the set does not load`);
    const problems = run.err.split('\n').filter((l) => l.startsWith(dir)).map((l) => l.replace(dir, 'policies')).join('\n');
    t.equal(`${problems}\n`, expected, `k: ${k}: the problems README shows`);
  }
});
