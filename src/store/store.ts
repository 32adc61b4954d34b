/**
 * Shared state behind one small interface, with two implementations: embedded (append-only files, one
 * replica, nothing to run) and Redis (several replicas behave as one: one budget ledger charged atomically,
 * one score history). What must survive restarts lives here: the privacy-budget ledger and the score history.
 */
import type { Charge } from './budget-ledger.js';
import type { PolicyHistoryStore } from './policy-history.js';
import type { ScorePoint } from './score-history.js';

export interface BudgetStore {
  /** Charges `epsilon` for `release` unless it was paid for already; refuses past `limit` (G6, G7). */
  charge(consumer: string, release: string, epsilon: number, limit: number, now?: Date): Promise<Charge>;
  spent(consumer: string, year?: number): Promise<number>;
}

export interface ScoreHistoryStore {
  /** Records a point (one per refresh date and period); a repeat does not grow the store. */
  record(point: ScorePoint): Promise<void>;
  /** The last six months of one period's points, oldest first. */
  series(period: string, now?: Date): Promise<ScorePoint[]>;
}

export interface Store {
  readonly kind: 'embedded' | 'redis';
  readonly budget: BudgetStore;
  readonly history: ScoreHistoryStore;
  /** The hash-chained log of activated policy sets (src/policy/history.ts). */
  readonly policyHistory: PolicyHistoryStore;
  /** Whether the store answers (readiness). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export const HISTORY_DAYS = 183;

/** The cut-off date of the history shown at `now`. */
export function historySince(now: Date): string {
  return new Date(now.getTime() - HISTORY_DAYS * 86_400_000).toISOString().slice(0, 10);
}
