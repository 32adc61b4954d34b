/**
 * Whether a policy set may go live: it validates and lints, it names only pseudonym keys the proxy holds, and
 * every test case in `<dir>/tests` passes against it. The proxy's start and hot reload, and `policy check
 * --keys`, decide through here, so a set that fails any of these never serves a request.
 */
import type { PolicyProblem } from './validate.js';
import { loadPolicySet, type PolicySet, type PolicySetResult } from './load.js';
import { toPointer } from './source.js';
import { runPolicyTests } from './test-cases.js';

/** Problems for every policy that names a pseudonym key id not in `held` (placed at the key id). */
export function checkPseudonymKeys(set: PolicySet, held: ReadonlySet<string>): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  for (const { policy, source } of set.policies) {
    const keyId = policy.pseudonyms?.keyId;
    if (keyId === undefined || held.has(keyId)) continue;
    const path = toPointer('pseudonyms', 'keyId');
    const holds = held.size === 0 ? 'it holds none' : `it holds: ${[...held].sort().join(', ')}`;
    problems.push({ file: source.file, position: source.locate(path), path, message: `pseudonym key '${keyId}' is not held by the proxy (${holds}); add it to GPP_PSEUDONYM_KEYS or name a key it holds` });
  }
  return problems;
}

export interface ActivationOptions {
  /**
   * What the running proxy needs of a set (the pseudonym keys it names, a noise key for noisy cohorts, ...), as
   * problems; checked before the tests, which cannot pass without the keys. Absent: not checked (tooling).
   */
  readonly requirements?: (set: PolicySet) => PolicyProblem[];
  /** Run `<dir>/tests` and refuse the set if a case fails (default true). */
  readonly requireTests?: boolean;
}

/**
 * Loads `dir` as a candidate for going live. Failed test cases come back as problems placed at their case
 * file, with the first line of why, so the log line and /readyz can say exactly what blocked the set.
 */
export async function activationCandidate(dir: string, options: ActivationOptions = {}): Promise<PolicySetResult> {
  const loaded = await loadPolicySet(dir);
  if (!loaded.ok) return loaded;
  const problems = options.requirements?.(loaded.set) ?? [];
  if (problems.length > 0) return { ok: false, problems };
  if (options.requireTests === false) return loaded;
  const run = await runPolicyTests(dir, loaded.set);
  const failed = run.results.filter((r) => !r.passed).map((r): PolicyProblem => ({
    file: r.file, position: { line: 1, column: 1 }, path: '',
    message: `policy test failed: ${r.description} (${(r.detail ?? '').split('\n')[0]})`,
  }));
  const all = [...run.problems, ...failed];
  return all.length > 0 ? { ok: false, problems: all } : loaded;
}
