/**
 * The org score service: computes org scores from suppressed cohort tables of the score's source reports,
 * caches each result, and records the organisation's score in the history. The app builds one and hands it to
 * the /org-score route and the dashboard.
 */
import type { DirectoryLookup, SnapshotSource, LeasedSnapshot } from '../cohort/sources.js';
import { Directory, type DirectoryAttribute } from '../cohort/directory.js';
import type { SuppressionCounts } from '../cohort/suppress.js';
import type { Period } from '../catalogue/catalogue.js';
import type { ScoreHistoryStore } from '../store/store.js';
import { scoreRows, type ScoreRow } from './org-score.js';
import { ScoreFacts, SCORE_SOURCE_REPORTS, scoreTables } from './score-facts.js';

/** Where the service reads reports and the directory (graph/ implements both), and where it records history. */
export interface OrgScoreSources {
  readonly snapshots: SnapshotSource;
  readonly directory: DirectoryLookup;
  readonly history?: ScoreHistoryStore;
}

/** The organisation has fewer than k_org people in the score's reports, so no score is released. */
export class OrganizationTooSmallError extends Error {
  readonly code = 'OrganizationTooSmall';
  constructor(readonly kOrg: number) {
    super(`The organisation has fewer than ${kOrg} people in these reports (the policy's k_org), so no score is released.`);
    this.name = 'OrganizationTooSmallError';
  }
}

export type ScoreWindow = { readonly period: Period } | { readonly date: string };

/** A computed score: its rows (organisation first, then cohorts), suppression counts and the reports' date. */
export interface ScoreResult {
  readonly rows: ScoreRow[];
  readonly counts: SuppressionCounts;
  readonly refreshDate: string | null;
}

/** Identity numbers for snapshot and directory objects, so a cache key can name exactly which ones it used. */
const identities = new WeakMap<object, number>();
let nextIdentity = 0;
const identityOf = (o: object) => identities.get(o) ?? (identities.set(o, ++nextIdentity), nextIdentity);
const MAX_CACHED_SCORES = 32;

/**
 * Computes org scores (from suppressed tables only) and records the organisation's in the history. A score
 * depends only on its source snapshots, the directory, `by` and the k's, so it is computed once per such
 * combination (the dashboard and /org-score would otherwise re-read seven reports on every request).
 */
export class OrgScores {
  private readonly results = new Map<string, Promise<ScoreResult>>();

  constructor(private readonly options: OrgScoreSources) {}

  async compute(window: ScoreWindow, by: readonly DirectoryAttribute[], kOrg: number, kC: number): Promise<ScoreResult & { cached: boolean }> {
    const directory = by.length > 0 ? await this.options.directory.current() : NO_DIRECTORY;
    const snapshots: LeasedSnapshot[] = [];
    try {
      // The eight reports are fetched side by side (Graph throttles per report); every lease taken is released.
      const leases = await Promise.allSettled(SCORE_SOURCE_REPORTS.map((report) => this.options.snapshots.lease({ version: 'v1.0', report, ...window }, 'csv')));
      for (const lease of leases) if (lease.status === 'fulfilled') snapshots.push(lease.value);
      const failed = leases.find((lease) => lease.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      const key = [...snapshots.map(identityOf), identityOf(directory), by.join(','), kOrg, kC, JSON.stringify(window)].join(' ');
      let pending = this.results.get(key);
      const cached = pending !== undefined;
      if (pending === undefined) {
        pending = this.computeFresh(snapshots, window, directory, by, kOrg, kC);
        pending.catch(() => this.results.delete(key));
        this.results.set(key, pending);
        if (this.results.size > MAX_CACHED_SCORES) this.results.delete(this.results.keys().next().value!);
      }
      return { ...(await pending), cached };
    } finally {
      for (const snapshot of snapshots) snapshot.release();
    }
  }

  private async computeFresh(snapshots: readonly LeasedSnapshot[], window: ScoreWindow, directory: Directory, by: readonly DirectoryAttribute[], kOrg: number, kC: number): Promise<ScoreResult> {
    const facts = new ScoreFacts();
    for (const [i, report] of SCORE_SOURCE_REPORTS.entries()) await facts.addReport(report, snapshots[i]!.csv());
    if (facts.organizationSize < kOrg) {
      throw new OrganizationTooSmallError(kOrg);
    }
    const tables = scoreTables(facts, directory, by, kOrg, kC);
    const rows = scoreRows(tables);
    const counts: SuppressionCounts = { primary: 0, complement: 0, secondary: 0, lpVerified: true };
    for (const t of tables) {
      counts.primary += t.counts.primary;
      counts.complement += t.counts.complement;
      counts.secondary += t.counts.secondary;
      counts.lpVerified &&= t.counts.lpVerified;
    }
    const organization = rows.find((r) => r.dimension === 'organization')!;
    if (this.options.history !== undefined && facts.refreshDate !== null && 'period' in window) {
      await this.options.history.record({
        refreshDate: facts.refreshDate, period: window.period, percentage: organization.total.percentage, points: organization.total.points,
        max: organization.total.max, categories: Object.fromEntries(organization.categories.map((c) => [c.id, c.points])),
      });
    }
    return { rows, counts, refreshDate: facts.refreshDate };
  }
}

const NO_DIRECTORY = new Directory([]);
