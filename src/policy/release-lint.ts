/**
 * The release lint of row rules: a released column that is not a declared quasi-identifier but still tells
 * rows apart (a date, even generalised; a rare value) is a warning that names it and the share of released
 * rows it singles out, measured by sanitising a sample report exactly as the proxy would. A rule silences it
 * for a column only by saying why that column identifies no one (`notIdentifying`).
 */
import { findColumn, findReport, type Period, type ReportSpec } from '../catalogue/catalogue.js';
import { rowsPlanFor } from './decide.js';
import type { LoadedPolicy, PolicySet } from './load.js';
import { classSizes, percent, releasedTable } from './release-risk.js';
import type { SampleReports } from './sample-reports.js';
import { toPointer } from './source.js';
import { testKeyring } from './test-cases.js';
import type { PolicyProblem } from './validate.js';

/** The period a lint or preview samples: the policy's first allowed one the report offers, else D30. */
export function samplePeriod(policy: LoadedPolicy['policy'], report: ReportSpec): Period {
  const allowed = policy.periods.filter((p) => report.periods.includes(p));
  return allowed.includes('D30') ? 'D30' : (allowed[0] ?? 'D30');
}

/** Warnings (same shape as problems, placed at the column's name) for every policy of a set. */
export async function lintRowReleases(set: PolicySet, sample: SampleReports): Promise<PolicyProblem[]> {
  const warnings: PolicyProblem[] = [];
  const keyring = testKeyring(set);
  for (const loaded of set.policies) {
    const { policy, source } = loaded;
    for (const [reportName, rule] of Object.entries(policy.reports)) {
      const spec = findReport(reportName);
      if (spec === undefined || typeof rule !== 'object' || !('rows' in rule) || spec.shape === 'counts') continue;
      const plan = rowsPlanFor({ kind: 'rows', policy: loaded, rule }, spec, policy.consumers[0]!, keyring);
      const table = await releasedTable(sample.csv(spec, samplePeriod(policy, spec)), plan);
      const quasi = plan.released.filter((r) => r.quasi).map((r) => table.header.indexOf(r.column.header));
      const reasons = new Set(Object.keys(rule.notIdentifying ?? {}).map((name) => findColumn(spec, name)));
      for (const released of plan.released) {
        const { column, action } = released;
        if (released.quasi || action === 'pseudonymize' || column.role === 'meta' || reasons.has(column)) continue;
        if (column.role === 'identifier' && rule.allowClearIdentifiers !== undefined) continue; // identifying by stated intent
        const sizes = classSizes(table.rows, [...quasi, table.header.indexOf(column.header)]);
        const unique = sizes.filter((s) => s === 1).length;
        if (column.kind !== 'date' && unique === 0) continue;
        const name = Object.keys(rule.rows).find((n) => findColumn(spec, n) === column) ?? column.header;
        const form = typeof action === 'object' ? (typeof action.generalize === 'string' ? ` (generalised to a ${action.generalize})` : ' (in bands)') : '';
        const withQuasi = quasi.length === 0 ? 'on its own' : `with the quasi-identifiers (${plan.released.filter((r) => r.quasi).map((r) => r.column.header).join(', ')})`;
        const path = toPointer('reports', reportName, 'rows', name);
        warnings.push({
          file: source.file, position: source.locate(path, 'key'), path,
          message: `warning: '${column.header}'${form} is released but is not a declared quasi-identifier; ${withQuasi} it singles out ${percent(sizes.length === 0 ? 0 : unique / sizes.length)} of released rows (${unique} of ${sizes.length}) in a simulated tenant of ${sample.tenant.size} people; add it to quasiIdentifiers, drop it, or say under notIdentifying why it identifies no one`,
        });
      }
    }
  }
  return warnings;
}
