/**
 * The period lint of cohort rules: a report whose cohorts the set releases for single days (`dates: true`) and
 * for periods. Periods are suppressed as one table (policy/decide.ts jointCohortPlan: they nest, whoever was
 * active over 7 days was over 30), but single days are not grouped with them (days do not nest in one another):
 * a day's cohorts beside periods are the organisation's only (policy/decide.ts dayNestsInPeriods; the red team's
 * attack, test/redteam/date-period-nesting.test.ts). The warning says so, so that no one expects daily groups.
 */
import { findReport } from '../catalogue/catalogue.js';
import type { PolicySet } from './load.js';
import { toPointer } from './source.js';
import type { PolicyProblem } from './validate.js';

/** Warnings for `policy check`, placed at the report of each policy that releases its cohorts for single days. */
export function periodWarnings(set: Pick<PolicySet, 'policies'>): PolicyProblem[] {
  const cohortRules = set.policies.flatMap(({ policy, source }) => Object.entries(policy.reports).flatMap(([name, rule]) => {
    const report = findReport(name);
    return report !== undefined && typeof rule === 'object' && 'cohort' in rule ? [{ policy, source, name, report }] : [];
  }));
  const warnings: PolicyProblem[] = [];
  for (const { policy, source, name, report } of cohortRules) {
    if (!policy.dates || report.parameters !== 'periodOrDate') continue;
    // Any policy's periods count: consumers may collude (privacy.md's threat model).
    const periods = [...new Set(cohortRules.filter((r) => r.report === report).flatMap((r) => r.policy.periods))].filter((p) => report.periods.includes(p));
    if (periods.length === 0) continue;
    const path = toPointer('reports', name);
    warnings.push({
      file: source.file, position: source.locate(path, 'key'), path,
      message: `warning: ${report.name}: its cohorts of single days (dates: true) are released for the organisation only, with no groups: the report's cohorts are released for ${periods.join(', ')} too, and a day's active people are among the last 7 days', so a day's groups beside a period could narrow a group the period hides. Set dates: false if the tool needs no daily totals`,
    });
  }
  return warnings;
}
