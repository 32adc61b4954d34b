/**
 * What a policy set needs from the proxy's configuration, checked when the set is loaded (at start-up and at
 * every reload) instead of failing request by request: each pseudonym key a policy names must be held, and a
 * policy with noisy cohorts needs the noise key and a budget ledger. Problems are placed at file:line:column.
 */
import { checkPseudonymKeys } from '../policy/activation.js';
import type { PolicySet } from '../policy/load.js';
import { toPointer } from '../policy/source.js';
import type { PolicyProblem } from '../policy/validate.js';

export interface HeldSecrets {
  /** Pseudonym key ids in GPP_PSEUDONYM_KEYS. */
  readonly pseudonymKeyIds: ReadonlySet<string>;
  readonly noiseKey: boolean;
  /** Whether a budget ledger (embedded file or Redis) is configured. */
  readonly ledger: boolean;
}

/** The problems of `set` under `held`; empty when every policy can be served as written. */
export function policyRequirementProblems(set: PolicySet, held: HeldSecrets): PolicyProblem[] {
  const problems: PolicyProblem[] = checkPseudonymKeys(set, held.pseudonymKeyIds);
  for (const { policy, source } of set.policies) {
    const at = (path: string, message: string) => problems.push({ file: source.file, position: source.locate(path), path, message });
    for (const [report, rule] of Object.entries(policy.reports)) {
      if (typeof rule !== 'object' || !('cohort' in rule) || rule.cohort.noise === undefined) continue;
      const path = toPointer('reports', report, 'cohort', 'noise');
      if (!held.noiseKey) at(path, `policy '${policy.name}' adds noise to ${report}, but no noise key is configured (GPP_NOISE_KEY or GPP_NOISE_KEY_FILE)`);
      if (!held.ledger) at(path, `policy '${policy.name}' adds noise to ${report}, but no privacy-budget ledger is configured (GPP_BUDGET_LEDGER_FILE or GPP_REDIS_URL)`);
    }
  }
  return problems;
}
