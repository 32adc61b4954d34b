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
import { diffPolicySets, diffSummary, type DiffSummary } from './diff.js';
import { setWideChanges } from './table-changes.js';
import { lintPolicy, lintPolicySet } from './lint.js';
import type { ResolvedPolicy } from './schema.js';
import type { PolicySource } from './source.js';
import { formatProblem, validatePolicyText, type PolicyProblem } from './validate.js';
import { ProductError } from '../errors/catalogue.js';

const POLICY_FILE = /\.(ya?ml|json)$/i;

export interface LoadedPolicy {
  /** The policy with every default filled in (resolvePolicy). */
  readonly policy: ResolvedPolicy;
  readonly source: PolicySource;
  /**
   * sha256 (hex) of this policy's own file (name relative to the directory, and bytes): what a consumer's
   * cursors and download links are bound to, so editing another tool's policy leaves them valid.
   */
  readonly hash: string;
}

/** One file of a set: its name relative to the policy directory and the sha256 (hex) of its bytes. */
export interface PolicyFileHash {
  readonly name: string;
  readonly sha256: string;
}

/** An immutable, validated policy set. Requests hold on to the set they started with. */
export interface PolicySet {
  /**
   * sha256 (hex) over the set's files: each file's name relative to the directory and its bytes, so the same
   * files give the same version however the directory is spelt or wherever it sits. The first 12 characters
   * name the version.
   */
  readonly hash: string;
  readonly version: string;
  readonly policies: readonly LoadedPolicy[];
  /** Every policy file of the set, sorted by name. */
  readonly files: readonly PolicyFileHash[];
  /** The policy governing a consumer, or undefined: a consumer no policy names is denied everything. */
  policyFor(consumerId: string): LoadedPolicy | undefined;
}

/** `unreadable`: the directory itself could not be read whole (empty, or an entry unreadable), as opposed to a readable but invalid set. */
export type PolicySetResult = { ok: true; set: PolicySet } | { ok: false; problems: PolicyProblem[]; unreadable?: string };

/** sha256 (hex) of a file's name (relative to its directory) and bytes, length-prefixed so no two pairs collide. */
function fileDigest(name: string, text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  return createHash('sha256').update(`${name}\u0000${bytes.length}\u0000`).update(bytes).digest('hex');
}

/**
 * Builds a set from file contents (path -> text); the directory loader and the tests both use it. Paths are
 * kept for messages (file:line:column); the hashes use only the file name, since policies sit directly in
 * the directory.
 */
export function policySetFromFiles(files: ReadonlyMap<string, string>): PolicySetResult {
  const problems: PolicyProblem[] = [];
  const policies: LoadedPolicy[] = [];
  /** Every policy that validates, lint problems or not: the checks across the set apply to them all, so one run lists every problem. */
  const validated: Pick<LoadedPolicy, 'policy' | 'source'>[] = [];
  const hashes: PolicyFileHash[] = [];
  const byName = [...files.keys()].map((path) => ({ path, name: basename(path) })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const { path: file, name } of byName) {
    const text = files.get(file)!;
    const sha256 = fileDigest(name, text);
    hashes.push({ name, sha256: createHash('sha256').update(text, 'utf8').digest('hex') });
    const result = validatePolicyText(file, text);
    if (!result.ok) {
      problems.push(...result.problems);
      continue;
    }
    validated.push({ policy: result.policy, source: result.source });
    const lint = lintPolicy(result.policy, result.source);
    if (lint.length > 0) problems.push(...lint);
    else policies.push({ policy: result.policy, source: result.source, hash: sha256 });
  }
  problems.push(...lintPolicySet(validated));
  if (problems.length > 0) return { ok: false, problems };
  const byConsumer = new Map(policies.flatMap((p) => p.policy.consumers.map((c) => [c, p] as const)));
  const hash = createHash('sha256');
  for (const f of hashes) hash.update(`${f.name}\u0000${f.sha256}\n`);
  const digest = hash.digest('hex');
  const set: PolicySet = {
    hash: digest,
    version: digest.slice(0, 12),
    policies,
    files: hashes,
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
  /** `changes`: what the new set exposes more, less or otherwise than the one it replaced (policy diff). */
  | { kind: 'loaded'; version: string; previousVersion: string; policies: number; changes: DiffSummary; set: PolicySet }
  | { kind: 'rejected'; problems: PolicyProblem[]; keptVersion: string };

/** Why the last reload was refused (cleared by the next set that goes live); shown by /readyz. */
export interface PolicyRejection {
  readonly at: Date;
  readonly keptVersion: string;
  /** file:line:column: message, one per problem or failed test case. */
  readonly reasons: readonly string[];
}

/**
 * How a set is loaded for going live: `load` is given the directory and returns the candidate (the default
 * only validates; the proxy passes `activationCandidate`, which also checks keys and runs the policy tests).
 */
export interface PolicyStoreOptions {
  readonly load?: (dir: string) => Promise<PolicySetResult>;
}

/**
 * The live policy set of a running proxy. `current` is swapped in one assignment, so a request that read it
 * keeps a consistent set to the end; a rejected reload leaves it untouched (never looser, never half-loaded).
 */
export class PolicyStore {
  private watcher: FSWatcher | undefined;
  private testsWatcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> = Promise.resolve();
  private readProblem: string | undefined;
  private rejection: PolicyRejection | undefined;

  private constructor(
    readonly dir: string,
    private currentSet: PolicySet,
    private readonly onReload: (event: PolicyReloadEvent) => void | Promise<void>,
    private readonly load: (dir: string) => Promise<PolicySetResult>,
  ) {}

  /**
   * Loads the directory; refuses to start on a set that does not pass `options.load` (there is no last good
   * set to keep yet); the same check refuses a set at every reload. Throws PolicyLoadError listing every
   * problem.
   */
  static async open(dir: string, onReload: (event: PolicyReloadEvent) => void | Promise<void> = () => {}, options: PolicyStoreOptions = {}): Promise<PolicyStore> {
    const load = options.load ?? loadPolicySet;
    const result = await load(dir);
    if (!result.ok) throw new PolicyLoadError(result.problems);
    return new PolicyStore(dir, result.set, onReload, load);
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

  /** Why the last reload was refused, while the set it kept is still live; undefined otherwise. */
  get lastRejection(): PolicyRejection | undefined {
    return this.rejection;
  }

  /** Re-reads the directory now; resolves once the outcome (swap or refusal) is settled. */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(async () => {
      let result: PolicySetResult;
      try {
        result = await this.load(this.dir);
      } catch (error) {
        const problem = { file: this.dir, position: { line: 1, column: 1 }, path: '', message: `cannot read policies: ${(error as Error).message}` };
        result = { ok: false, problems: [problem], unreadable: `${this.dir}: cannot read the policy directory` };
      }
      this.readProblem = result.ok ? undefined : result.unreadable;
      if (result.ok) {
        if (result.set.hash === this.currentSet.hash) {
          this.rejection = undefined;
          return;
        }
        const previous = this.currentSet;
        this.rejection = undefined;
        this.currentSet = result.set;
        await this.onReload({ kind: 'loaded', version: result.set.version, previousVersion: previous.version, policies: result.set.policies.length, changes: diffSummary([...diffPolicySets(previous, result.set), ...setWideChanges(previous, result.set)]), set: result.set });
      } else {
        this.rejection = { at: new Date(), keptVersion: this.currentSet.version, reasons: result.problems.map(formatProblem) };
        await this.onReload({ kind: 'rejected', problems: result.problems, keptVersion: this.currentSet.version });
      }
    });
    return this.reloading;
  }

  /** Watches the directory and reloads shortly after changes settle (editors write files in several steps). */
  watch(debounceMs = 200): void {
    if (this.watcher !== undefined) return;
    const changed = () => {
      this.watchTests(changed);
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.reload(), debounceMs);
    };
    this.watcher = watch(this.dir, changed);
    this.watchTests(changed);
  }

  /**
   * Test cases gate activation, so a change under `<dir>/tests` (an expected output reviewed and updated)
   * is a reason to try the set again. Attached once the folder exists.
   */
  private watchTests(changed: () => void): void {
    if (this.testsWatcher !== undefined) return;
    try {
      this.testsWatcher = watch(join(this.dir, 'tests'), { recursive: true }, changed);
      this.testsWatcher.on('error', () => {
        this.testsWatcher?.close();
        this.testsWatcher = undefined;
      });
    } catch {
      // No tests folder (yet): nothing to watch.
    }
  }

  async close(): Promise<void> {
    this.watcher?.close();
    this.watcher = undefined;
    this.testsWatcher?.close();
    this.testsWatcher = undefined;
    clearTimeout(this.timer);
    await this.reloading;
  }
}

export class PolicyLoadError extends ProductError<'PolicyLoadError'> {
  readonly code = 'PolicyLoadError';
  constructor(readonly problems: readonly PolicyProblem[]) {
    super(`the policy set is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'})`);
  }
}
