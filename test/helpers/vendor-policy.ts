/**
 * The vendor dashboard's policies as the tests see them: the shipped one is exact (suppression only); its noisy
 * example (policies/examples/vendor-dashboard-noisy.yaml, not loaded by default) keeps noise, margins, the
 * budget and the stale marker tested.
 */
import { readFileSync } from 'node:fs';
import { copyFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planCohorts } from '../../src/cohort/report-users.js';
import { findReport } from '../../src/catalogue/catalogue.js';
import { validatePolicyText } from '../../src/policy/validate.js';

/** The noisy example of the vendor policy (the same consumer, k, kC, dimensions and clips, with noise). */
export const NOISY_VENDOR_POLICY = 'policies/examples/vendor-dashboard-noisy.yaml';
/** Its policy name (in audit lines, budget answers and the disclosure). */
export const NOISY_VENDOR_POLICY_NAME = 'vendor-dashboard-noisy';

/** The epsilon one fresh release of `report` costs under the noisy example (derived from its margin). */
export function noisyVendorReleaseEpsilon(report: string): number {
  const validation = validatePolicyText(NOISY_VENDOR_POLICY, readFileSync(NOISY_VENDOR_POLICY, 'utf8'));
  if (!validation.ok) throw new Error('the noisy vendor example must validate');
  const { policy } = validation;
  const rule = policy.reports[report];
  if (typeof rule !== 'object' || !('cohort' in rule)) throw new Error(`the noisy vendor example has no cohort rule for ${report}`);
  return planCohorts(findReport(report)!, rule, policy.k, policy.kC).noise!.epsilon;
}

/**
 * A copy of the shipped policies with the vendor policy replaced by its noisy example, without the shipped test
 * cases (their expected outputs are the exact policy's) and the examples folder: the directory's path.
 */
export async function noisyVendorPolicies(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-vendor-noisy-'));
  await cp('policies', dir, { recursive: true, filter: (source) => !/[/\\](tests|examples)([/\\]|$)/.test(source) });
  await rm(join(dir, 'vendor-dashboard.yaml'));
  await copyFile(NOISY_VENDOR_POLICY, join(dir, 'vendor-dashboard-noisy.yaml'));
  return dir;
}

/**
 * A copy of the shipped policies whose vendor policy reads D7 as well as D30 (its cohorts and score), without the
 * shipped test cases (their expected outputs are of D30 alone): the report's periods are then one table.
 */
export async function twoPeriodVendorPolicies(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-vendor-periods-'));
  await cp('policies', dir, { recursive: true, filter: (source) => !/[/\\](tests|examples)([/\\]|$)/.test(source) });
  const file = join(dir, 'vendor-dashboard.yaml');
  const text = await readFile(file, 'utf8');
  if (!text.includes('periods: [D30]')) throw new Error('the shipped vendor policy no longer reads periods: [D30]');
  await writeFile(file, text.replace('periods: [D30]', 'periods: [D7, D30]'));
  return dir;
}
