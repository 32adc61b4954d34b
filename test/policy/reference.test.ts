import t from 'tap';
import { readFile } from 'node:fs/promises';
import { policyReference } from '../../src/policy/reference.js';
import { POLICY_SCHEMA } from '../../src/policy/schema.js';
import { runCli } from '../helpers/cli.js';

t.test('item 7: policies/REFERENCE.md is current with the schema (regenerate with `policy reference`)', async (t) => {
  const committed = await readFile('policies/REFERENCE.md', 'utf8');
  t.equal(committed, policyReference(), 'run: node --import tsx src/cli.ts policy reference > policies/REFERENCE.md');
});

t.test('item 7: every setting of the schema is in the reference with a meaning, and defaults are the engine\'s', async (t) => {
  const text = policyReference();
  const rule = POLICY_SCHEMA.properties.reports.additionalProperties.anyOf;
  const settings = [
    ...Object.keys(POLICY_SCHEMA.properties),
    ...Object.keys(rule[1].properties),
    'cohort', ...Object.keys(rule[2].properties.cohort.properties).map((k) => `cohort.${k}`),
  ];
  for (const setting of settings) t.match(text, new RegExp(`^\\| \`${setting.replace('.', '\\.')}\` \\| [^|]+ \\| [^|]+ \\| [^|]{10,}`, 'm'), setting);
  t.match(text, /^\| `k` \| integer >= 2, <= 1000 \| `5` \|/m, 'k defaults to 5 (DEFAULT_K)');
  t.match(text, /^\| `kOrg` \| [^|]+ \| `10` \|/m);
  t.match(text, /^\| `dates` \| true or false \| `false` \|/m, 'single dates are off by default');
});

t.test('item 7: `policy reference` prints the same document', async (t) => {
  const run = await runCli(['policy', 'reference']);
  t.equal(run.code, 0);
  t.equal(run.out, policyReference());
});
