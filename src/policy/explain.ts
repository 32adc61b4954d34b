/**
 * Plain-language explanation of what one policy does to one report: per column, what a consumer receives and
 * why, and which k applies. Shared by `policy explain` and, later, the disclosure page.
 */
import { findColumn, findReport, type ColumnSpec } from '../graph/catalogue.js';
import { DEFAULT_K, type PolicyDocument } from './schema.js';

type ColumnAction = Extract<NonNullable<PolicyDocument['reports'][string]>, { rows: unknown }>['rows'][string];

function describeAction(action: ColumnAction | undefined, policy: PolicyDocument): string {
  if (action === undefined) return 'dropped: the policy does not name it (columns are dropped unless a rule passes them)';
  if (action === 'drop') return 'dropped: the policy says drop';
  if (action === 'keep') return 'passed unchanged';
  if (action === 'pseudonymize') {
    const key = policy.pseudonyms;
    return `replaced by a keyed pseudonym${key !== undefined ? ` (key '${key.keyId}', epoch ${key.epoch})` : ''}: stable for this consumer, different for every other consumer and key epoch, not reversible by the consumer`;
  }
  const g = action.generalize;
  if (typeof g === 'string') return `generalised to the ${g} (a date becomes the first day of its ${g})`;
  const bands = [...g.bands].sort((a, b) => a - b);
  const ranges = bands.map((lower, i) => (i + 1 < bands.length ? `${lower}-${bands[i + 1]! - 1}` : `${lower} or more`));
  return `put into bands: ${ranges.join(', ')}`;
}

/** Lines explaining `policy` for `reportName`; throws for a report the catalogue does not know. */
export function explainReport(policy: PolicyDocument, reportName: string): string[] {
  const spec = findReport(reportName);
  if (spec === undefined) throw new Error(`unknown report '${reportName}'`);
  const k = policy.k ?? DEFAULT_K.k;
  const kC = policy.kC ?? DEFAULT_K.kC;
  const name = Object.keys(policy.reports).find((r) => findReport(r) === spec);
  const rule = name === undefined ? undefined : policy.reports[name];
  const lines = [`Policy '${policy.name}' for consumers ${policy.consumers.join(', ')}, report ${spec.name}:`];
  if (rule === undefined || rule === 'deny') {
    lines.push(rule === undefined ? '  denied: the policy does not name this report, and unnamed reports are denied' : '  denied: the policy denies this report explicitly');
    return lines;
  }
  const formats = (policy.formats ?? ['csv', 'json']).join(' and ');
  const periods = (policy.periods ?? ['D7', 'D30', 'D90', 'D180']).join(', ');
  lines.push(`  allowed as ${formats}, for periods ${periods}${policy.dates === true ? ' and single dates' : ''}`);
  if ('rows' in rule) {
    const byColumn = new Map<ColumnSpec, ColumnAction>();
    for (const [column, action] of Object.entries(rule.rows)) {
      const col = findColumn(spec, column);
      if (col !== undefined) byColumn.set(col, action);
    }
    const quasi = (rule.quasiIdentifiers ?? []).map((q) => findColumn(spec, q)).filter((c): c is ColumnSpec => c !== undefined);
    lines.push('  one row per person; per column:');
    for (const column of spec.columns) {
      const note = quasi.includes(column) ? ` [quasi-identifier: each combination must occur at least ${k} times]` : '';
      lines.push(`    ${column.header} (${column.role}): ${describeAction(byColumn.get(column), policy)}${note}`);
    }
    if (quasi.length > 0) {
      lines.push(`  k = ${k}: rows whose combination of ${quasi.map((c) => c.header).join(', ')} occurs fewer than ${k} times are withheld (suppressed)`);
    }
    lines.push('  columns Graph adds in future are dropped (and counted in the audit log)');
  } else {
    const { by, metrics = {} } = rule.cohort;
    lines.push(`  no rows: people are counted in groups by ${by.join('; ')}`);
    lines.push(`  k = ${k}: a group of 1 to ${k - 1} people is shown as suppressed, exactly like an empty group; k_c = ${kC}: a group with fewer than ${kC} active people, or with 1 to ${kC - 1} inactive people, is suppressed too (a group where everyone was active is shown: that singles nobody out)`);
    for (const [column, { clip }] of Object.entries(metrics)) {
      lines.push(`    ${findColumn(spec, column)?.header ?? column}: summed per group, each person's value capped at ${clip}`);
    }
    if (rule.cohort.noise !== undefined) {
      const budget = policy.privacyBudget?.epsilonPerYear;
      lines.push(`  noise: groups below the whole organisation carry sticky random noise (epsilon ${rule.cohort.noise.epsilon} per fresh release${budget !== undefined ? `, at most ${budget} per year for each consumer` : ''}); organisation totals are exact`);
    }
    lines.push('  every other column is not released');
  }
  return lines;
}
