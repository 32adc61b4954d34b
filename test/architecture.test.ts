/**
 * The architecture is enforced, not only described: the dependency rules (.dependency-cruiser.cjs, which
 * `npm test` runs as `npm run depcheck`) pass on the tree as it is and fail, naming the rule, once a scratch
 * copy of the tree gains a back-edge; docs/architecture.md and the rules place every folder of src/, and the
 * page's table of who may import whom is the rules' own.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFile, cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';

t.setTimeout(180_000);

/** A copy of what the check reads (sources, package and TypeScript settings, the rules); node_modules linked. */
async function scratchCopy(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-architecture-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const entry of ['src', 'package.json', 'tsconfig.json', '.dependency-cruiser.cjs']) await cp(entry, join(dir, entry), { recursive: true });
  await symlink(join(process.cwd(), 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

/** `npm run depcheck` in `cwd`, as `npm test` runs it: its exit code and everything it printed. */
async function depcheck(cwd: string): Promise<{ code: number | null; output: string }> {
  const child = spawn('npm', ['run', 'depcheck'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const [code] = await once(child, 'exit');
  return { code, output };
}

const rule = (name: string, from: string, to: string) => new RegExp(`error ${name}: ${from.replaceAll('.', '\\.')} → ${to.replaceAll('.', '\\.')}`);

t.test('the rules pass on the tree as it is, and a cohort/ file importing server/ fails them, naming the rules', async (t) => {
  const dir = await scratchCopy(t);
  const clean = await depcheck(dir);
  t.equal(clean.code, 0, clean.code === 0 ? 'the unmodified copy passes' : clean.output);
  t.match(clean.output, /no dependency violations found/);

  await appendFile(join(dir, 'src/cohort/aggregate.ts'), "import '../server/app.js';\n");
  const broken = await depcheck(dir);
  t.not(broken.code, 0, 'npm run depcheck (and so npm test) fails');
  t.match(broken.output, rule('cohort-imports-only-below', 'src/cohort/aggregate.ts', 'src/server/app.ts'));
  // err-long wraps the rule's comment; any run of white space stands for a space.
  const comment = 'cohort/ may import errors/, event-loop/, crypto/, catalogue/, store/, sanitize/ and its own files';
  t.match(broken.output, new RegExp(comment.split(' ').join('\\s+')), 'with the rule saying what is allowed');
  t.match(broken.output, rule('only-entry-points-import-server', 'src/cohort/aggregate.ts', 'src/server/app.ts'));
  t.match(broken.output, /error no-folder-cycles: src\/cohort → \s+src\/server →\s+src\/cohort/, 'and the folder cycle it closes');
});

t.test('each architectural rule catches its own back-edge', async (t) => {
  const dir = await scratchCopy(t);
  const add = (file: string, line: string) => appendFile(join(dir, file), `${line}\n`);
  await add('src/sanitize/plan.ts', "import type { GraphClient } from '../graph/client.js';\nexport type Unused = GraphClient;");
  await add('src/catalogue/csv.ts', "import '../sanitize/stats.js';");
  await add('src/store/store.ts', "import type { CohortRow } from '../cohort/render.js';\nexport type UnusedRow = CohortRow;");
  await add('src/policy/decide.ts', "import '../simulator/server.js';");
  await add('src/policy/sample-reports.ts', "import '../simulator/server.js';");
  await add('src/simulator/tenant.ts', "import './server.js';");
  await add('src/simulator/state.ts', "import '../policy/decide.js';");
  await add('src/score/categories.ts', "import 'node:fs';");
  await add('src/policy/schema.ts', "import './load.js';");
  await add('src/catalogue/values.ts', "import 'fast-check';");
  await add('src/graph/client.ts', "import '../release-cache/cache.js';");
  await mkdir(join(dir, 'src/release-cache'));
  await writeFile(join(dir, 'src/release-cache/cache.ts'), "import '../catalogue/csv.js';\n");
  await writeFile(join(dir, 'src/store/unused.ts'), 'export const unused = 1;\n');

  const { code, output } = await depcheck(dir);
  t.not(code, 0);
  t.match(output, rule('sanitize-imports-only-below', 'src/sanitize/plan.ts', 'src/graph/client.ts'), 'a type-only import counts');
  t.match(output, rule('catalogue-imports-only-below', 'src/catalogue/csv.ts', 'src/sanitize/stats.ts'));
  t.match(output, rule('store-imports-only-below', 'src/store/store.ts', 'src/cohort/render.ts'));
  t.match(output, /error no-folder-cycles: src\/(store|cohort) → /, 'a folder cycle through a type');
  t.match(output, rule('policy-imports-only-below', 'src/policy/decide.ts', 'src/simulator/server.ts'));
  t.match(output, rule('policy-samples-only-simulated-data', 'src/policy/sample-reports.ts', 'src/simulator/server.ts'), "the exception covers the simulated data, not the simulator's server");
  t.match(output, rule('simulated-data-is-pure', 'src/simulator/tenant.ts', 'src/simulator/server.ts'));
  t.match(output, rule('simulator-imports-only-catalogue', 'src/simulator/state.ts', 'src/policy/decide.ts'));
  t.match(output, rule('pure-core-does-no-io', 'src/score/categories.ts', 'fs'));
  t.match(output, /error no-circular: src\/policy\/(schema|load)\.ts → /, 'a run-time cycle inside a folder');
  t.match(output, /error not-to-dev-dep: src\/catalogue\/values\.ts → \S*node_modules\/fast-check\//);
  t.match(output, rule('every-folder-has-a-layer', 'src/graph/client.ts', 'src/release-cache/cache.ts'));
  t.match(output, rule('every-folder-has-a-layer', 'src/release-cache/cache.ts', 'src/catalogue/csv.ts'));
  t.match(output, /error no-orphans: src\/store\/unused\.ts/);
});

interface Rule {
  readonly name: string;
  readonly from: { readonly path?: string; readonly pathNot?: string | string[] };
  readonly to: { readonly path?: string; readonly pathNot?: string | string[] };
}
const rules = (createRequire(import.meta.url)('../.dependency-cruiser.cjs') as { forbidden: Rule[] }).forbidden;
const matchesAny = (patterns: string | string[] | undefined, path: string) => [patterns ?? []].flat().some((p) => new RegExp(p).test(path));

t.test('docs/architecture.md and the rules place every folder of src/, and the page states the rules', async (t) => {
  const folders = (await readdir('src', { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const page = await readFile('docs/architecture.md', 'utf8');
  t.match(page, /\]\(\.\.\/\.dependency-cruiser\.cjs\)/, 'the page links the rules');
  const placed = rules.filter((r) => r.name === 'every-folder-has-a-layer' && r.to.path === undefined)[0]!;
  const section = (title: string) => page.slice(page.indexOf(`## ${title}`)).split(/\n## /)[0]!;
  const tableRows = (title: string) => new Map([...section(title).matchAll(/^\| `([a-z-]+)\/` \| (.+) \|$/gm)].map((m) => [m[1]!, m[2]!]));
  const jobs = tableRows('The folders');
  const mayImport = tableRows('Who may import whom');
  t.same([...jobs.keys()].sort(), folders, 'the folders table names exactly the folders of src/');
  for (const folder of folders) {
    t.ok(matchesAny(placed.from.pathNot, `src/${folder}/x.ts`), `the rules place ${folder}/`);
    const own = rules.find((r) => r.name === `${folder}-imports-only-below` || r.name === `${folder}-imports-only-catalogue`);
    t.ok(own, `${folder}/ has a rule of its own`);
    if (own === undefined) continue;
    const allowed = folders.filter((other) => other !== folder && matchesAny(own.to.pathNot, `src/${other}/x.ts`));
    const stated = (mayImport.get(folder) ?? '').split(', ').map((s) => s.replace(/^`|\/`$/g, '')).filter((s) => s !== 'nothing of ours');
    t.same(stated.sort(), allowed.sort(), `the page says what ${folder}/ may import as ${own.name} does`);
  }
});
