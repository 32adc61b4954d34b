/**
 * Loading the policy directory as one set: every file validated and linted, the set linted as a whole, and a
 * content hash that names the version (audit log, X-Policy-Version). `PolicyStore` hot-reloads the directory:
 * a valid new set replaces the old one atomically; an invalid one is refused and the last good set stays.
 * The directory may be a Kubernetes ConfigMap mount (each file a symlink into `..data/`, swapped atomically).
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { basename, join, sep } from 'node:path';
import { lintPolicy, lintPolicySet } from './lint.js';
import type { PolicyDocument } from './schema.js';
import type { PolicySource } from './source.js';
import { validatePolicyText, type PolicyProblem } from './validate.js';

const POLICY_FILE = /\.(ya?ml|json)$/i;

export interface LoadedPolicy {
  readonly policy: PolicyDocument;
  readonly source: PolicySource;
}

/** An immutable, validated policy set. Requests hold on to the set they started with. */
export interface PolicySet {
  /** sha256 of the set's files (names and bytes), hex; the first 12 characters name the version. */
  readonly hash: string;
  readonly version: string;
  readonly policies: readonly LoadedPolicy[];
  /** The policy governing a consumer, or undefined: a consumer no policy names is denied everything. */
  policyFor(consumerId: string): LoadedPolicy | undefined;
}

/** `unreadable`: the directory itself could not be read whole (empty, or an entry unreadable), as opposed to a readable but invalid set. */
export type PolicySetResult = { ok: true; set: PolicySet } | { ok: false; problems: PolicyProblem[]; unreadable?: string };

/** Builds a set from file contents (name -> text); the directory loader and the tests both use it. */
export function policySetFromFiles(files: ReadonlyMap<string, string>): PolicySetResult {
  const problems: PolicyProblem[] = [];
  const policies: LoadedPolicy[] = [];
  const hash = createHash('sha256');
  for (const file of [...files.keys()].sort()) {
    const text = files.get(file)!;
    // By name, not path: the same files give the same version wherever they are mounted.
    hash.update(`${basename(file)}\u0000${text.length}\u0000${text}`);
    const result = validatePolicyText(file, text);
    if (!result.ok) {
      problems.push(...result.problems);
      continue;
    }
    const lint = lintPolicy(result.policy, result.source);
    if (lint.length > 0) problems.push(...lint);
    else policies.push({ policy: result.policy, source: result.source });
  }
  problems.push(...lintPolicySet(policies));
  if (problems.length > 0) return { ok: false, problems };
  const byConsumer = new Map(policies.flatMap((p) => p.policy.consumers.map((c) => [c, p] as const)));
  const digest = hash.digest('hex');
  const set: PolicySet = {
    hash: digest,
    version: digest.slice(0, 12),
    policies,
    policyFor: (consumerId) => byConsumer.get(consumerId),
  };
  return { ok: true, set: Object.freeze(set) };
}

const readProblem = (file: string, message: string): PolicyProblem => ({ file, position: { line: 1, column: 1 }, path: '', message });

/**
 * Reads the policy files directly in `dir` (subfolders, e.g. test cases, are not policies). Hidden entries
 * (`.` first: editors' files, the kubelet's `..data` and `..<timestamp>` entries) are skipped; symlinks are
 * followed when they resolve inside `dir` (a ConfigMap's `name -> ..data/name`). An entry with a policy name
 * that cannot be read, is not a regular file, or leads outside `dir` is a problem: a set read in part would
 * silently deny (or allow) less than its author wrote.
 */
export async function readPolicyFiles(dir: string): Promise<{ files: Map<string, string>; problems: PolicyProblem[] }> {
  const root = await realpath(dir);
  const entries = await readdir(dir, { withFileTypes: true });
  const files = new Map<string, string>();
  const problems: PolicyProblem[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.') || !POLICY_FILE.test(entry.name)) continue;
    const file = join(dir, entry.name);
    if (entry.isSymbolicLink()) {
      let target: string;
      try {
        target = await realpath(file);
      } catch (error) {
        problems.push(readProblem(file, `the policy file cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}: its link leads nowhere)`));
        continue;
      }
      if (!target.startsWith(root + sep)) {
        problems.push(readProblem(file, 'the policy file is a link to outside the policy directory; only links inside it (a ConfigMap mount) are followed'));
        continue;
      }
    }
    try {
      if (!(await stat(file)).isFile()) {
        problems.push(readProblem(file, 'has a policy file name but is not a regular file'));
        continue;
      }
      files.set(file, await readFile(file, 'utf8'));
    } catch (error) {
      problems.push(readProblem(file, `the policy file cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`));
    }
  }
  return { files, problems };
}

/** Reads and checks the set in `dir`; an empty or partially readable directory is not a valid set. */
export async function loadPolicySet(dir: string): Promise<PolicySetResult> {
  const { files, problems } = await readPolicyFiles(dir);
  if (files.size === 0 && problems.length === 0) problems.push(readProblem(dir, 'no policy files (*.yaml, *.yml, *.json) in the policy directory; an empty set would deny every tool, so it is refused'));
  if (problems.length > 0) {
    const rest = policySetFromFiles(files);
    return { ok: false, problems: [...problems, ...(rest.ok ? [] : rest.problems)], unreadable: `${problems[0]!.file}: ${problems[0]!.message}` };
  }
  return policySetFromFiles(files);
}

export type PolicyReloadEvent =
  | { kind: 'loaded'; version: string; policies: number }
  | { kind: 'rejected'; problems: PolicyProblem[]; keptVersion: string };

/**
 * The live policy set of a running proxy. `current` is swapped in one assignment, so a request that read it
 * keeps a consistent set to the end; a rejected reload leaves it untouched (never looser, never half-loaded).
 */
export class PolicyStore {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> = Promise.resolve();
  private readProblem: string | undefined;

  private constructor(
    readonly dir: string,
    private currentSet: PolicySet,
    private readonly onReload: (event: PolicyReloadEvent) => void,
    private readonly requirements: (set: PolicySet) => PolicyProblem[],
  ) {}

  /**
   * Loads the directory; refuses to start on an invalid set (there is no last good set to keep yet).
   * `requirements` adds the problems of a set the running proxy cannot serve (e.g. a pseudonym key it does not
   * hold); they refuse a set at start-up and at reload alike.
   */
  static async open(dir: string, onReload: (event: PolicyReloadEvent) => void = () => {}, requirements: (set: PolicySet) => PolicyProblem[] = () => []): Promise<PolicyStore> {
    const result = withRequirements(await loadPolicySet(dir), requirements);
    if (!result.ok) throw new PolicyLoadError(result.problems);
    return new PolicyStore(dir, result.set, onReload, requirements);
  }

  get current(): PolicySet {
    return this.currentSet;
  }

  /**
   * Why the directory does not read as a whole set now (empty, or an entry unreadable), if so: the last good
   * set keeps serving, but readiness fails, since the mount the operator relies on is broken. A readable set
   * that is merely invalid is refused without this (the operator's change is logged and counted instead).
   */
  get problem(): string | undefined {
    return this.readProblem;
  }

  /** Re-reads the directory now; resolves once the outcome (swap or refusal) is settled. */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(async () => {
      let result: PolicySetResult;
      try {
        result = withRequirements(await loadPolicySet(this.dir), this.requirements);
      } catch (error) {
        const problem = { file: this.dir, position: { line: 1, column: 1 }, path: '', message: `cannot read policies: ${(error as Error).message}` };
        result = { ok: false, problems: [problem], unreadable: `${this.dir}: cannot read the policy directory` };
      }
      this.readProblem = result.ok ? undefined : result.unreadable;
      if (result.ok) {
        if (result.set.hash === this.currentSet.hash) return;
        this.currentSet = result.set;
        this.onReload({ kind: 'loaded', version: result.set.version, policies: result.set.policies.length });
      } else {
        this.onReload({ kind: 'rejected', problems: result.problems, keptVersion: this.currentSet.version });
      }
    });
    return this.reloading;
  }

  /** Watches the directory and reloads shortly after changes settle (editors write files in several steps). */
  watch(debounceMs = 200): void {
    if (this.watcher !== undefined) return;
    this.watcher = watch(this.dir, () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.reload(), debounceMs);
    });
  }

  async close(): Promise<void> {
    this.watcher?.close();
    this.watcher = undefined;
    clearTimeout(this.timer);
    await this.reloading;
  }
}

function withRequirements(result: PolicySetResult, requirements: (set: PolicySet) => PolicyProblem[]): PolicySetResult {
  if (!result.ok) return result;
  const problems = requirements(result.set);
  return problems.length === 0 ? result : { ok: false, problems };
}

export class PolicyLoadError extends Error {
  readonly code = 'PolicyLoadError';
  constructor(readonly problems: readonly PolicyProblem[]) {
    super(`the policy set is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'})`);
  }
}
