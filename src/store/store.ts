/**
 * Shared state behind one small interface, with two implementations: embedded (append-only files, one
 * replica, nothing to run) and Redis (several replicas behave as one: one budget ledger charged atomically,
 * one score history). What must survive restarts lives here: the privacy-budget ledger, the score history, the
 * release book (each slot's release of its epoch, and what each consumer was last served) and each Graph
 * refresh's suppression patterns (what the refresh's releases hid and showed: cohort/tables-made.ts).
 */
import type { StoredRelease } from './records.js';

export type { StoredRelease } from './records.js';

/**
 * The outcome of a budget charge: paid (or already paid for: `charged` false), or refused past a limit, the
 * consumer's own (`refusedBy: 'consumer'`) or the organisation's (`'organisation'`; `limit` is the one that refused).
 * `spent` is the consumer's share this year, `organisationSpent` the organisation's total.
 */
export type Charge =
  | { readonly ok: true; readonly charged: boolean; readonly spent: number; readonly organisationSpent: number }
  | { readonly ok: false; readonly spent: number; readonly limit: number; readonly organisationSpent: number; readonly refusedBy: 'consumer' | 'organisation' };

/** One noisy measure to pay for (src/cohort/release.ts NoisyMeasure): an organisation-wide id and its epsilon. */
export interface MeasureCharge {
  readonly id: string;
  readonly epsilon: number;
}

/** The yearly limits a charge must fit: the consumer's share, and (if set) the organisation's total. */
export interface BudgetLimits {
  readonly consumer: number;
  readonly organisation?: number;
}

/** One point of the org score's history. */
export interface ScorePoint {
  readonly refreshDate: string;
  readonly period: string;
  readonly percentage: number | null;
  readonly points: number | null;
  readonly max: number;
  /** Category id -> points (null: suppressed). */
  readonly categories: Readonly<Record<string, number | null>>;
}

/** Where the policy history's lines live; what a line holds is src/policy/history.ts's. */
export interface PolicyHistoryStore {
  /** Every stored line, oldest first, exactly as stored (a verifier must see edits byte for byte). */
  lines(): Promise<string[]>;
  /**
   * Appends `line` if the last stored line's `hash` field is `previous` (or the store is empty and
   * `previous` is `genesis`); false when another writer appended first (read again and decide again).
   */
  append(line: string, previous: string, genesis: string): Promise<boolean>;
}

/**
 * The privacy-budget ledger, per organisation (G6, G7): a noisy measure costs its epsilon once for the
 * organisation (what a person is exposed to across all tools), and each consumer that reads it is recorded with
 * its share.
 */
export interface BudgetStore {
  /**
   * Records `consumer`'s share of `release` (an organisation-wide id: the same for every consumer that reads it)
   * unless it has it already; refuses when the consumer's share would pass `limit` (its yearly budget). One
   * measure of `chargeMeasures`, with no organisation limit.
   */
  charge(consumer: string, release: string, epsilon: number, limit: number, now?: Date): Promise<Charge>;
  /**
   * Pays for a release's noisy measures at once, all or none: the consumer's share grows by the measures it has not
   * read yet, the organisation's total by the measures nobody has (a measure costs the organisation once, whoever
   * reads it). Refused when the consumer's share would pass `limits.consumer`, or when measures new to the
   * organisation would take its total past `limits.organisation` (one already paid for is never refused on that).
   */
  chargeMeasures(consumer: string, measures: readonly MeasureCharge[], limits: BudgetLimits, now?: Date): Promise<Charge>;
  /** The consumer's share this year: the epsilon of the releases it has read. */
  spent(consumer: string, year?: number): Promise<number>;
  /** The organisation's privacy loss this year: the epsilon of every distinct release, whoever read it. */
  organisationSpent(year?: number): Promise<number>;
}

export interface ScoreHistoryStore {
  /** Records a point (one per refresh date and period); a repeat does not grow the store. */
  record(point: ScorePoint): Promise<void>;
  /** The last six months of one period's points, oldest first. */
  series(period: string, now?: Date): Promise<ScorePoint[]>;
}

/**
 * The release book's memory (src/cohort/release-book.ts): each slot's release of its latest epoch, served
 * unchanged within the epoch by every instance, and the last release each consumer was served of a slot (what it
 * gets, stale, once its budget is spent). Kept for `RELEASE_RETENTION_DAYS` after their epoch.
 */
export interface ReleaseStore {
  /** The slot's release of its latest epoch, if one is kept. */
  current(slot: string): Promise<StoredRelease | undefined>;
  /**
   * Makes `release` its slot's release unless the slot already has one of the same or a later epoch, and returns
   * the slot's release then: the first release of an epoch wins, on every replica.
   */
  commit(release: StoredRelease): Promise<StoredRelease>;
  /** The last release `consumer` was served of `slot`, if kept. */
  lastServed(consumer: string, slot: string): Promise<StoredRelease | undefined>;
  /** Records that `consumer` was served `release` (a committed release). */
  served(consumer: string, release: StoredRelease): Promise<void>;
}

/**
 * How long a release is kept after its epoch: over a budget year (a consumer whose budget is spent is served its
 * last release until 1 January), and bounded, so the store does not grow with every day's slots.
 */
export const RELEASE_RETENTION_DAYS = 400;

/** Whether a release of `epoch` is past retention at `now` ('-': an empty report's epoch, kept while its slot is). */
export function releaseExpired(epoch: string, now: Date): boolean {
  return epoch !== '-' && Date.parse(`${epoch}T00:00:00Z`) < now.getTime() - RELEASE_RETENTION_DAYS * 86_400_000;
}

/** One report's releases of one Graph refresh, whose patterns are kept together (cohort/tables-made.ts PatternAt). */
export interface RefreshAt {
  /** The report's name. */
  readonly source: string;
  /** The report's refresh date, YYYY-MM-DD. */
  readonly refreshDate: string;
}

/**
 * One table's pattern within a refresh (cohort/tables-made.ts TablesMade.withinPatterns): the 32-bit hashes of the
 * cells its releases hid and the 53-bit hashes of those they showed, each ascending and without repeats.
 */
export interface StoredPattern {
  /** The period ('D30') or a single day's date. */
  readonly window: string;
  /** '' for the report's own table; a companion's name. */
  readonly table: string;
  readonly hidden: Uint32Array;
  readonly shown: Float64Array;
}

/**
 * The patterns of each refresh's releases, shared by every replica and kept over a restart, so a release of the
 * refresh is suppressed within what any replica's releases hid and showed. Patterns only grow within a refresh:
 * `merge` is a union (commutative, idempotent). Kept until `PATTERN_RETENTION_DAYS` after the refresh date.
 */
export interface RefreshPatternStore {
  /** Every table's pattern of the refresh (none kept: []); a stored entry that does not parse throws StoreCorruptError. */
  load(at: RefreshAt): Promise<StoredPattern[]>;
  /** Unites `patterns` (hashes to add; repeats allowed) with the refresh's kept ones. */
  merge(at: RefreshAt, patterns: readonly StoredPattern[]): Promise<void>;
  /**
   * Runs `run` while no other release of the refresh, on any replica sharing the store, is between its `load` and
   * its `merge` (embedded: within this process, which the file lock keeps the only one; Redis: a lock held at most
   * redis-store.ts PATTERN_LOCK_MS, waited for at most PATTERN_LOCK_WAIT_MS, then an Error naming the refresh).
   */
  exclusive<T>(at: RefreshAt, run: () => Promise<T>): Promise<T>;
  /**
   * The key the patterns' cell hashes are keyed with (cohort/tables-made.ts): 32 random bytes, made by the first
   * replica to ask and kept with the patterns, so every replica and a restarted process hash a cell alike whatever
   * secret is rotated, and nobody outside the store can choose directory names whose cells collide. A stored key
   * that is not 32 bytes of base64 throws StoreCorruptError.
   */
  hashKey(): Promise<Uint8Array>;
}

/**
 * How long a refresh's patterns are kept after its refresh date: Graph serves a report's data of the last 28 days,
 * and a refresh is served until the next one; a week more for a refresh Graph is late to replace.
 */
export const PATTERN_RETENTION_DAYS = 35;

/** Whether the patterns of a refresh of `refreshDate` are past retention at `now`. */
export function patternsExpired(refreshDate: string, now: Date): boolean {
  return Date.parse(`${refreshDate}T00:00:00Z`) < now.getTime() - PATTERN_RETENTION_DAYS * 86_400_000;
}

export interface Store {
  readonly kind: 'embedded' | 'redis';
  readonly budget: BudgetStore;
  readonly history: ScoreHistoryStore;
  /** The hash-chained log of activated policy sets (src/policy/history.ts). */
  readonly policyHistory: PolicyHistoryStore;
  /** The release book's releases (what makes a release survive a restart and hold across replicas). */
  readonly releases: ReleaseStore;
  /** Each refresh's suppression patterns (what makes them hold across replicas and a restart). */
  readonly refreshPatterns: RefreshPatternStore;
  /** Whether the store answers (readiness). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export const HISTORY_DAYS = 183;

/** The cut-off date of the history shown at `now`. */
export function historySince(now: Date): string {
  return new Date(now.getTime() - HISTORY_DAYS * 86_400_000).toISOString().slice(0, 10);
}
