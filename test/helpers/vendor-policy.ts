/** The shipped vendor policy as the tests see it: what one fresh release of a report costs under it. */
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/**
 * A copy of the shipped policies with the vendor policy's noise removed (exact figures, suppression only) and
 * without the shipped test cases (their expected outputs are noisy): the directory's path.
 */
export async function noiselessVendorPolicies(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-vendor-exact-'));
  await cp('policies', dir, { recursive: true, filter: (source) => !/[/\\]tests([/\\]|$)/.test(source) });
  const file = join(dir, 'vendor-dashboard.yaml');
  await writeFile(file, (await readFile(file, 'utf8')).replaceAll(/ {6}noise: \{[^}]*\}\n/g, ''));
  return dir;
}
