/**
 * The tamper-evident policy history: every policy set that went live, as a hash chain. Each entry holds the
 * set's version and hash, each file's sha256, when it went live and what changed (the policy diff summary),
 * and the hash of the entry before it; its own hash covers all of that. Editing an entry breaks its hash;
 * removing or reordering one breaks the sequence and the next entry's link. (Removing the newest entries is
 * seen only against a copy of the newest hash kept elsewhere: `policy history` prints it.)
 */
import { createHash } from 'node:crypto';
import { lineHash } from '../store/policy-history.js';
import type { PolicyHistoryStore } from '../store/store.js';
import type { DiffSummary } from './diff.js';
import type { PolicyFileHash, PolicySet } from './load.js';

/** The `previous` of the first entry. */
export const GENESIS = '0'.repeat(64);

export interface PolicyHistoryEntry {
  /** 1, 2, ... in order of activation. */
  readonly seq: number;
  /** The set's version (12 hex) and full hash (64 hex). */
  readonly version: string;
  readonly setHash: string;
  /** The `hash` of the entry before (GENESIS for the first). */
  readonly previous: string;
  /** When the set went live, ISO 8601 UTC. */
  readonly at: string;
  /** What changed from the set live before (policy diff), exposure increases first. */
  readonly changes: DiffSummary;
  /** Each policy file: name relative to the directory and sha256 of its bytes. */
  readonly files: readonly PolicyFileHash[];
  /** sha256 (hex) over every field above, in a fixed order. */
  readonly hash: string;
}

/** The hash of an entry's content (every field but `hash`), independent of key order in the stored JSON. */
export function entryDigest(e: Omit<PolicyHistoryEntry, 'hash'>): string {
  const canonical = [e.seq, e.version, e.setHash, e.previous, e.at, [e.changes.more, e.changes.less, e.changes.changed, e.changes.lines], e.files.map((f) => [f.name, f.sha256])];
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

/**
 * File-level changes, for a start where the set live before is known only by the last entry's file hashes;
 * `first`: the history is empty, so there is no set before (not a change made while the proxy was stopped).
 */
export function fileChanges(before: readonly PolicyFileHash[], after: readonly PolicyFileHash[], first = false): DiffSummary {
  const was = new Map(before.map((f) => [f.name, f.sha256]));
  const now = new Map(after.map((f) => [f.name, f.sha256]));
  const lines = [
    ...[...now.keys()].filter((n) => !was.has(n)).map((n) => `~ file ${n} added`),
    ...[...was.keys()].filter((n) => !now.has(n)).map((n) => `~ file ${n} removed`),
    ...[...now.keys()].filter((n) => was.has(n) && was.get(n) !== now.get(n)).map((n) => `~ file ${n} changed`),
  ];
  return { more: 0, less: 0, changed: lines.length, lines: lines.length > 0 ? [first ? '~ (the first set in this history: nothing was recorded before it)' : '~ (changed while the proxy was stopped; run policy diff on the two versions for exposure)', ...lines] : lines };
}

export interface HistoryVerification {
  readonly ok: boolean;
  readonly entries: PolicyHistoryEntry[];
  /** One line per break: which entry and what is wrong with it. */
  readonly problems: string[];
}

/** Parses and verifies stored lines: each entry's hash, its sequence number and its link to the one before. */
export function verifyHistory(lines: readonly string[]): HistoryVerification {
  const problems: string[] = [];
  const entries: PolicyHistoryEntry[] = [];
  let previousHash = GENESIS;
  lines.forEach((line, i) => {
    const at = `line ${i + 1}`;
    let entry: PolicyHistoryEntry;
    try {
      entry = JSON.parse(line) as PolicyHistoryEntry;
    } catch {
      problems.push(`${at}: not a readable entry (edited or corrupted)`);
      previousHash = '';
      return;
    }
    if (typeof entry !== 'object' || entry === null || !Array.isArray(entry.files) || typeof entry.changes !== 'object') {
      problems.push(`${at}: not a history entry`);
      previousHash = '';
      return;
    }
    if (entry.seq !== i + 1) problems.push(`${at}: entry #${String(entry.seq)} where #${i + 1} belongs (an entry was removed or reordered)`);
    if (entry.previous !== previousHash) problems.push(`${at}: entry #${String(entry.seq)} does not link to the entry before it (removed, inserted or edited)`);
    if (entryDigest(entry) !== entry.hash) problems.push(`${at}: entry #${String(entry.seq)} (version ${String(entry.version)}) was edited: its content does not match its hash`);
    entries.push(entry);
    previousHash = entry.hash;
  });
  return { ok: problems.length === 0, entries, problems };
}

/**
 * Records `set` as live unless the newest entry already is it (a restart with the same files); returns the
 * entry that says since when it is live. `changes` is the diff from the set live before in this process, if
 * any; otherwise file-level changes against the newest entry.
 */
export async function recordActivation(store: PolicyHistoryStore, set: PolicySet, changes: DiffSummary | undefined, now = new Date()): Promise<PolicyHistoryEntry> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const lines = await store.lines();
    const { entries } = verifyHistory(lines);
    const newest = lines.length === 0 ? undefined : entries.find((e) => e.hash === lineHash(lines.at(-1)));
    if (newest !== undefined && newest.setHash === set.hash) return newest;
    const last = entries.at(-1);
    // The newest stored line decides the link, even when unreadable: a broken tail stays visible to --verify.
    const previous = lines.length === 0 ? GENESIS : (lineHash(lines.at(-1)) ?? '');
    const body = {
      seq: lines.length + 1, version: set.version, setHash: set.hash, previous, at: now.toISOString(),
      changes: changes ?? fileChanges(last?.files ?? [], set.files, lines.length === 0), files: set.files.map((f) => ({ name: f.name, sha256: f.sha256 })),
    };
    const entry = { ...body, hash: entryDigest(body) };
    if (await store.append(JSON.stringify(entry), previous, GENESIS)) return entry;
  }
  throw new Error('the policy history kept changing under this writer; not recorded');
}
