/** The shipped vendor policy as the tests see it: what one fresh release of a report costs under it. */
import { readFileSync } from 'node:fs';
import { planCohorts } from '../../src/cohort/report-users.js';
import { findReport } from '../../src/catalogue/catalogue.js';
import { validatePolicyText } from '../../src/policy/validate.js';

/** The epsilon one fresh release of `report` costs under policies/vendor-dashboard.yaml (derived from its margin). */
export function vendorReleaseEpsilon(report: string): number {
  const validation = validatePolicyText('policies/vendor-dashboard.yaml', readFileSync('policies/vendor-dashboard.yaml', 'utf8'));
  if (!validation.ok) throw new Error('the shipped vendor policy must validate');
  const { policy } = validation;
  const rule = policy.reports[report];
  if (typeof rule !== 'object' || !('cohort' in rule)) throw new Error(`the vendor policy has no cohort rule for ${report}`);
  return planCohorts(findReport(report)!, rule, policy.k, policy.kC).noise!.epsilon;
}
