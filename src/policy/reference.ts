/**
 * The policy reference (policies/REFERENCE.md), generated from the one policy schema: every setting with its
 * type, default, meaning and an example, so the document cannot drift from what the validator accepts (the
 * test suite compares the committed file with this output).
 */
import { stringify } from 'yaml';
import { POLICY_SCHEMA } from './schema.js';

/** The parts of a JSON Schema node the reference reads. */
interface SchemaNode {
  readonly type?: string;
  readonly description?: string;
  readonly default?: unknown;
  readonly examples?: readonly unknown[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly minItems?: number;
  readonly items?: SchemaNode;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: SchemaNode | boolean;
  readonly anyOf?: readonly SchemaNode[];
}

const flow = (value: unknown) => stringify(value, { collectionStyle: 'flow', lineWidth: 0 }).trim();
const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** A node's type in a few words, e.g. `integer 2..1000`, `list of 'csv' \| 'json'`. */
export function typeText(node: SchemaNode, depth = 0): string {
  if (node.anyOf !== undefined) return node.anyOf.map((n) => typeText(n, depth)).join(' or ');
  if (node.const !== undefined) return `'${String(node.const)}'`;
  if (node.enum !== undefined) return node.enum.map((v) => `'${String(v)}'`).join(' or ');
  switch (node.type) {
    case 'string':
      if (node.pattern !== undefined) return 'name (a-z, 0-9, . _ -; at most 64)';
      return node.minLength !== undefined && node.minLength > 1 ? `text (at least ${node.minLength} characters)` : 'text';
    case 'integer':
    case 'number': {
      const low = node.exclusiveMinimum !== undefined ? `> ${node.exclusiveMinimum}` : node.minimum !== undefined ? `>= ${node.minimum}` : '';
      const high = node.maximum !== undefined ? `<= ${node.maximum}` : '';
      return [node.type, [low, high].filter((x) => x !== '').join(', ')].filter((x) => x !== '').join(' ');
    }
    case 'boolean':
      return 'true or false';
    case 'array':
      return `list of ${node.items !== undefined ? typeText(node.items, depth + 1) : 'values'}${node.minItems !== undefined ? ` (at least ${node.minItems})` : ''}`;
    case 'object': {
      if (node.properties?.rows !== undefined) return 'a rows rule (below)';
      if (node.properties?.cohort !== undefined) return 'a cohort rule (below)';
      if (node.properties !== undefined) {
        return `{ ${Object.entries(node.properties).map(([k, v]) => `${k}${node.required?.includes(k) === true ? '' : '?'}: ${typeText(v, depth + 1)}`).join(', ')} }`;
      }
      if (typeof node.additionalProperties === 'object') return `map of name to ${node.additionalProperties.description !== undefined ? 'a column action (below)' : typeText(node.additionalProperties, depth + 1)}`;
      return 'object';
    }
    default:
      return 'value';
  }
}

interface Row {
  readonly setting: string;
  readonly node: SchemaNode;
  readonly required: boolean;
}

/** The settings of an object node, one row each, nested objects' own settings after them. */
function rowsOf(node: SchemaNode, prefix: string): Row[] {
  const rows: Row[] = [];
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const setting = `${prefix}${name}`;
    rows.push({ setting, node: child, required: node.required?.includes(name) === true });
    if (child.type === 'object' && child.properties !== undefined && child.description !== undefined && Object.values(child.properties).some((p) => p.description !== undefined)) {
      rows.push(...rowsOf(child, `${setting}.`));
    }
  }
  return rows;
}

function table(rows: readonly Row[]): string {
  const lines = ['| Setting | Type | Default | Meaning | Example |', '| --- | --- | --- | --- | --- |'];
  for (const { setting, node, required } of rows) {
    const fallback = node.default !== undefined ? `\`${flow(node.default)}\`` : required ? 'required' : 'not set';
    const example = node.examples?.[0] !== undefined ? `\`${setting.split('.').pop()!}: ${flow(node.examples[0])}\`` : '';
    lines.push(`| \`${setting}\` | ${cell(typeText(node))} | ${cell(fallback)} | ${cell(node.description ?? '')} | ${cell(example)} |`);
  }
  return lines.join('\n');
}

/** policies/REFERENCE.md, as markdown. */
export function policyReference(): string {
  const schema = POLICY_SCHEMA as unknown as SchemaNode;
  const rule = (schema.properties!.reports!.additionalProperties as SchemaNode).anyOf!;
  const rows = rule[1]!;
  const cohort = rule[2]!;
  const columnAction = (rows.properties!.rows!.additionalProperties as SchemaNode);
  return `# Policy reference

Generated from the policy schema (\`src/policy/schema.ts\`, the one source of the validator and the types) by
\`node --import tsx src/cli.ts policy reference > policies/REFERENCE.md\`; the test suite fails when this file
is not current. How policies are checked, tested, previewed and activated: see README.md and policies/README.md.

A policy file is YAML or JSON. Anything not named is denied: a consumer without a policy, a report a policy
does not name, a column a rule does not name. Unknown settings are errors, placed at file:line:column.

## The policy file

${schema.description ?? ''}

${table(rowsOf(schema, ''))}

## A report rule: \`reports.<report>\`

${(schema.properties!.reports!.description ?? '')} A rule is one of:

- \`deny\`: the report is not released (the same as not naming it; useful to say so explicitly).
- **rows**: ${rows.description ?? ''}
- **cohort**: ${cohort.description ?? ''}

### Rows rule

${table(rowsOf(rows, ''))}

A column action (\`rows.<column>\`): ${columnAction.description ?? ''} Type: ${cell(typeText(columnAction))}.

### Cohort rule

${table(rowsOf(cohort, ''))}

## Exact or noisy cohorts: the shipped vendor policy and its noisy example

A cohort rule without \`noise\` releases exact figures, protected by suppression alone (k, kC and the
complementary suppression that keeps hidden groups from being worked out); its disclosure says the figures are
exact and what comparing two releases can reveal. The shipped \`vendor-dashboard.yaml\` does this, with a fresh
release once a week (\`freshReleases: weekly\`): comparing two weeks shows how a group changed, for example by
one person who joined or left, mixed with everyone else's change that week, and nothing within a week.

\`policies/examples/vendor-dashboard-noisy.yaml\` is the same dashboard with \`noise: { margin95: 5 }\` on every
report. It is an example, not loaded: the proxy and \`policy check\` read only the files directly in the policy
folder (subfolders such as \`tests/\` and \`examples/\` are not policies). To use it, copy it over
\`vendor-dashboard.yaml\`. Its cost, honestly: 4 noisy releases it may read (three reports for D30, and the
score), each made afresh 53 times a year at the epsilon its ±5 margin derives, add up to a yearly privacy loss
of **epsilon ${EXAMPLE_NOISY_EPSILON_PER_YEAR} per person** (its \`privacyBudget\` is 913). That is far above
10, and \`policy check policies/examples\` warns so: at that accuracy and refresh rate the noise blurs the
figures but is not a meaningful differential-privacy guarantee. A smaller epsilon would bury the figures (a
margin of k people or more is refused), which is why the shipped policy is exact.
`;
}

/** The noisy example's yearly epsilon per person, as `policy check policies/examples` prints it (a test checks it). */
export const EXAMPLE_NOISY_EPSILON_PER_YEAR = 912.75;
