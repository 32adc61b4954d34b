/**
 * The period lint of cohort rules: a report whose cohorts the set releases for single days (`dates: true`) and
 * for periods. Periods are suppressed as one table (policy/decide.ts jointCohortPlan: they nest, whoever was
 * active over 7 days was over 30), but single days are not grouped with them: a day's active people are among
 * the last 7 days', so a day released beside a period can narrow a group either hides (privacy.md G2, G3; the
 * red team's period-nesting attack, test/redteam/period-nesting.test.ts, with a day for D7). A warning, not an
 * error: a tool may need single days, and the compliance officer decides with the risk stated.
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
    const periods = [...new Set(cohortRules.filter((r) => r.report === report).flatMap((r) => r.policy.periods))].filter((p) => p !== 'ALL');
    if (periods.length === 0) continue;
    const path = toPointer('reports', name);
    warnings.push({
      file: source.file, position: source.locate(path, 'key'), path,
      message: `warning: ${report.name}: its cohorts are released for single days (dates: true) and for ${periods.join(', ')}; a day's active people are among the last 7 days', and single days are not suppressed as one table with the periods, so comparing a day with a period can narrow a group either hides. Set dates: false, or release single days only where no policy releases this report's cohorts for a period`,
    });
  }
  return warnings;
}
