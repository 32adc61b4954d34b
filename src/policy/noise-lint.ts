/**
 * Checks of cohort noise against the figures it protects (privacy.md, "Utility is part of the guarantee": a
 * setting whose margin dwarfs the figures it protects is a lint error, not a release). The smallest group shown
 * has k people, so a 95% margin for counts of k or more could show it as nothing at all: an error. A margin
 * over half of k is a warning (`policy check` prints it): the smallest groups are shown within more than +-50%.
 * With noise, clips are whole numbers, so that a noisy sum moves in whole steps only (a fractional part would
 * tell sums apart whatever the noise).
 */
import type { NoiseSetting } from '../cohort/accuracy.js';
import { CohortPlanError, planCohorts } from '../cohort/report-users.js';
import { findReport } from '../catalogue/catalogue.js';
import type { PolicySet } from './load.js';
import type { ResolvedPolicy } from './schema.js';
import { toPointer, type PolicySource } from './source.js';
import type { PolicyProblem } from './validate.js';

interface NoisyRule {
  readonly reportName: string;
  readonly path: string;
  readonly margin: number;
  readonly epsilon: number;
}

const statesOne = (noise: NoiseSetting | undefined): boolean => noise !== undefined && (noise.epsilon === undefined) !== (noise.margin95 === undefined);

/** The noisy cohort rules of a policy that plan, with their count margin (rules that do not plan are lint's). */
function noisyRules(policy: ResolvedPolicy): NoisyRule[] {
  const out: NoisyRule[] = [];
  for (const [reportName, rule] of Object.entries(policy.reports)) {
    const spec = findReport(reportName);
    if (spec === undefined || typeof rule !== 'object' || !('cohort' in rule) || !statesOne(rule.cohort.noise)) continue;
    try {
      const noise = planCohorts(spec, rule, policy.k, policy.kC).noise!;
      out.push({ reportName, path: toPointer('reports', reportName, 'cohort', 'noise'), margin: noise.margins95.users, epsilon: noise.epsilon });
    } catch (error) {
      if (!(error instanceof CohortPlanError)) throw error;
    }
  }
  return out;
}

/** Errors: a count margin of k or more, a clip that is no whole number under noise. */
export function noiseProblems(policy: ResolvedPolicy, source: PolicySource): PolicyProblem[] {
  const k = policy.k;
  const problems: PolicyProblem[] = [];
  const report = (path: string, message: string) => problems.push({ file: source.file, position: source.locate(path, 'key'), path, message });
  for (const rule of noisyRules(policy)) {
    if (rule.margin >= k) {
      report(rule.path, `the noise's 95% margin for counts is ±${rule.margin} people, as large as the smallest group shown (k = ${k}): its figures would be noise; ask for a smaller margin95 (or a larger epsilon, now ${round3(rule.epsilon)}), or fewer dimensions and sums`);
    }
  }
  for (const [reportName, rule] of Object.entries(policy.reports)) {
    if (typeof rule !== 'object' || !('cohort' in rule) || rule.cohort.noise === undefined) continue;
    if (!statesOne(rule.cohort.noise)) report(toPointer('reports', reportName, 'cohort', 'noise'), 'noise states exactly one of epsilon (what a release costs) and margin95 (the accuracy counts need)');
    for (const [name, { clip }] of Object.entries(rule.cohort.metrics ?? {})) {
      if (!Number.isInteger(clip)) report(toPointer('reports', reportName, 'cohort', 'metrics', name, 'clip'), `with noise, a clip is a whole number (${clip} is not): a noisy sum must move in whole steps`);
    }
  }
  return problems;
}

/** Warnings for `policy check`: count margins over half of k. */
export function noiseWarnings(set: PolicySet): PolicyProblem[] {
  const warnings: PolicyProblem[] = [];
  for (const { policy, source } of set.policies) {
    const k = policy.k;
    for (const rule of noisyRules(policy)) {
      if (2 * rule.margin <= k) continue;
      warnings.push({
        file: source.file, position: source.locate(rule.path, 'key'), path: rule.path,
        message: `warning: ${rule.reportName}: the noise's 95% margin for counts is ±${rule.margin} people, over half the smallest group shown (k = ${k}): small groups are shown within more than ±50%; policy explain shows every margin`,
      });
    }
  }
  return warnings;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
