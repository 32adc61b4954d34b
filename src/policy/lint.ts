/**
 * Semantic checks of valid-shaped policies against the report catalogue: names that do not exist (with a
 * suggestion), identifiers passed in clear without a stated reason, rules that can never apply, and, across a
 * policy set, consumers claimed twice; noise whose margin dwarfs the figures (noise-lint.ts). Every finding is
 * an error: a policy either says exactly what it means or it does not load.
 */
import { ORGANIZATION } from '../cohort/aggregate.js';
import { DIRECTORY_ATTRIBUTES } from '../cohort/directory.js';
import { groupingColumn, LICENCE_CLASS } from '../cohort/report-users.js';
import { REPORTS, findColumn, findReport, type ColumnSpec } from '../catalogue/catalogue.js';
import { noiseProblems } from './noise-lint.js';
import type { ResolvedPolicy } from './schema.js';
import { toPointer, type PolicySource } from './source.js';
import type { PolicyProblem } from './validate.js';

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The closest candidate, when it is close enough to be a likely misspelling. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  const wanted = name.toLowerCase();
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (best === undefined || distance < best.distance) best = { candidate, distance };
  }
  return best !== undefined && best.distance <= Math.max(2, Math.floor(name.length / 4)) ? best.candidate : undefined;
}

const suggestion = (hint: string | undefined) => (hint !== undefined ? ` - did you mean '${hint}'?` : '');

/** Lints one policy; `source` places each problem in the file. */
export function lintPolicy(policy: ResolvedPolicy, source: PolicySource): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const report = (path: string, message: string, target: 'key' | 'value' = 'key') =>
    problems.push({ file: source.file, position: source.locate(path, target), path, message });
  /** Where the first pseudonymised column is named (the setting that needs a pseudonym key). */
  let pseudonymised: string | undefined;

  for (const [reportName, rule] of Object.entries(policy.reports)) {
    const spec = findReport(reportName);
    const at = toPointer('reports', reportName);
    if (spec === undefined) {
      report(at, `unknown report '${reportName}'${suggestion(closest(reportName, REPORTS.map((r) => r.name)))}`);
      continue;
    }
    if (spec.name !== reportName) report(at, `write the report name as '${spec.name}'`);
    if (rule === 'deny') continue;
    const column = (name: string, path: string): ColumnSpec | undefined => {
      const found = findColumn(spec, name);
      if (found === undefined) {
        const names = spec.columns.flatMap((c) => [c.header, c.json]);
        report(path, `unknown column '${name}' in report ${spec.name}${suggestion(closest(name, names))}`);
      }
      return found;
    };
    if ('rows' in rule) {
      if (spec.shape === 'entityDetail' && spec.peopleColumn === undefined) {
        report(at, `${spec.name} has no count of the people behind each row, so a row about one person cannot be told from one about many; it cannot be released per row (use the site counts reports)`);
      }
      const named = new Map<ColumnSpec, string>();
      for (const [name, action] of Object.entries(rule.rows)) {
        const path = toPointer('reports', reportName, 'rows', name);
        const col = column(name, path);
        if (col === undefined) continue;
        const earlier = named.get(col);
        if (earlier !== undefined) report(path, `column '${name}' is already named as '${earlier}' in this report`);
        named.set(col, name);
        if (action === 'keep' && col.role === 'identifier' && rule.allowClearIdentifiers === undefined) {
          report(path, `'${col.header}' identifies people, groups or sites and may not be kept in clear; pseudonymize or drop it, or state a reason under allowClearIdentifiers`, 'value');
        }
        if (action === 'pseudonymize') {
          pseudonymised ??= path;
          if (col.role !== 'identifier') report(path, `only identifier columns can be pseudonymized; '${col.header}' is a ${col.role} column`, 'value');
        }
        if (typeof action === 'object') {
          const g = action.generalize;
          if (typeof g === 'string' && col.kind !== 'date') report(path, `'${col.header}' is not a date, so it cannot be generalized to a ${g}`, 'value');
          if (typeof g === 'object' && col.kind !== 'int') report(path, `'${col.header}' is not a number, so it cannot be put into bands`, 'value');
        }
      }
      for (const [i, name] of rule.quasiIdentifiers.entries()) {
        const path = toPointer('reports', reportName, 'quasiIdentifiers', String(i));
        const col = column(name, path);
        const action = col === undefined ? undefined : rule.rows[named.get(col) ?? ''];
        if (col !== undefined && (action === undefined || action === 'drop')) {
          report(path, `quasi-identifier '${name}' is not released by this rule (it is ${action === 'drop' ? 'dropped' : 'not named under rows'}), so the check can never apply`, 'value');
        }
      }
      for (const name of Object.keys(rule.notIdentifying ?? {})) {
        const path = toPointer('reports', reportName, 'notIdentifying', name);
        const col = column(name, path);
        const action = col === undefined ? undefined : rule.rows[named.get(col) ?? ''];
        if (col !== undefined && (action === undefined || action === 'drop')) report(path, `'${name}' is not released by this rule, so there is nothing to explain`);
        else if (col !== undefined && rule.quasiIdentifiers.some((q) => findColumn(spec, q) === col)) report(path, `'${name}' is a declared quasi-identifier; it cannot also be not identifying`);
      }
      if (rule.allowClearIdentifiers !== undefined && ![...named].some(([c]) => c.role === 'identifier' && rule.rows[named.get(c)!] === 'keep')) {
        report(toPointer('reports', reportName, 'allowClearIdentifiers'), 'allowClearIdentifiers is set but no identifier column is kept in clear');
      }
    } else {
      if (spec.shape !== 'userDetail') report(at, `cohort rules apply to per-user reports; ${spec.name} is a ${spec.shape === 'counts' ? 'counts' : 'team/group/site'} report`);
      else if (!spec.columns.some((c) => c.json === 'userPrincipalName')) report(at, `cohorts count people by their User Principal Name, which ${spec.name} does not have`);
      for (const [i, dimension] of rule.cohort.by.entries()) {
        for (const part of dimension.split(/\s+x\s+/)) {
          const known = part === ORGANIZATION || (DIRECTORY_ATTRIBUTES as readonly string[]).includes(part) || groupingColumn(spec, part) !== undefined || (part === LICENCE_CLASS && spec.columns.some((c) => c.kind === 'products'));
          if (!known) {
            const candidates = [ORGANIZATION, ...(spec.columns.some((c) => c.kind === 'products') ? [LICENCE_CLASS] : []), ...DIRECTORY_ATTRIBUTES, ...spec.columns.filter((c) => groupingColumn(spec, c.json) !== undefined).map((c) => c.json)];
            const column = findColumn(spec, part);
            const hint = closest(part, candidates);
            // No near miss: name what a dimension can be, so the officer can fix it from the message alone.
            const why = column !== undefined ? ` ('${column.header}' is not a yes/no column: cohorts are keyed by the directory or by yes/no columns, so the set of cohorts never depends on the data)` : hint !== undefined ? suggestion(hint) : `; a dimension is one of ${candidates.join(', ')}, or a cross of them such as 'department x officeLocation'`;
            report(toPointer('reports', reportName, 'cohort', 'by', String(i)), `unknown cohort dimension '${part}'${why}`, 'value');
          }
        }
      }
      for (const name of Object.keys(rule.cohort.metrics ?? {})) {
        const path = toPointer('reports', reportName, 'cohort', 'metrics', name);
        const col = column(name, path);
        if (col !== undefined && col.role !== 'metric') report(path, `'${col.header}' is not a metric, so it cannot be summed`);
      }
    }
  }
  problems.push(...noiseProblems(policy, source));
  const noisy = Object.entries(policy.reports).find(([, rule]) => typeof rule === 'object' && 'cohort' in rule && rule.cohort.noise !== undefined);
  if (noisy !== undefined && policy.privacyBudget === undefined) {
    // Placed at the first noisy rule's noise, the setting that needs the budget.
    report(toPointer('reports', noisy[0], 'cohort', 'noise'), 'cohorts are released with noise but no privacy budget is set; add privacyBudget: { epsilonPerYear: ... } at the top level of the policy (the most epsilon its consumer may spend a year; policy check prints what polling everything needs)');
  }
  if (pseudonymised !== undefined && policy.pseudonyms === undefined) {
    report(pseudonymised, 'columns are pseudonymized but no pseudonym key is named; add pseudonyms: { keyId: ..., epoch: 1 } at the top level of the policy (keyId: a key id the proxy holds in GPP_PSEUDONYM_KEYS)', 'value');
  }
  return problems;
}

/** Checks across a policy set: each consumer and each policy name belongs to exactly one policy. */
export function lintPolicySet(policies: readonly { policy: ResolvedPolicy; source: PolicySource }[]): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const consumers = new Map<string, string>();
  const names = new Map<string, string>();
  for (const { policy, source } of policies) {
    const earlierName = names.get(policy.name);
    if (earlierName !== undefined) {
      problems.push({ file: source.file, position: source.locate('/name'), path: '/name', message: `policy name '${policy.name}' is already used in ${earlierName}` });
    }
    names.set(policy.name, source.file);
    policy.consumers.forEach((consumer, i) => {
      const earlier = consumers.get(consumer);
      if (earlier !== undefined) {
        problems.push({ file: source.file, position: source.locate(`/consumers/${i}`), path: `/consumers/${i}`, message: `consumer '${consumer}' is already governed by ${earlier}; a consumer has exactly one policy` });
      }
      consumers.set(consumer, `${source.file} (policy '${policy.name}')`);
    });
  }
  return problems;
}
