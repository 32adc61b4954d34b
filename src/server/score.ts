/**
 * `GET /org-score?period=D30[&by=department]`: the organisation's adoption score for consumers whose policy has
 * the `score` permission, computed from suppressed cohort tables of the score's source reports. `by` may name a
 * directory attribute the consumer's policy declares as a cohort dimension; cohorts below k_org are suppressed
 * with the same shape as released ones, and an organisation below k_org is refused.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DIRECTORY_ATTRIBUTES, type DirectoryAttribute } from '../cohort/directory.js';
import { ScoreFacts, SCORE_SOURCE_REPORTS, scoreTables } from '../score/score-facts.js';
import type { SuppressionCounts } from '../cohort/suppress.js';
import { Directory } from '../cohort/directory.js';
import type { Period } from '../catalogue/catalogue.js';
import type { DirectorySource } from '../graph/directory-source.js';
import { checkDateWindow, isCalendarDate, printable, utcToday } from '../catalogue/odata.js';
import type { ReportSnapshot, SnapshotCache } from '../graph/snapshots.js';
import type { PolicySet } from '../policy/load.js';
import { DEFAULT_K } from '../policy/schema.js';
import { scoreRows, type ScoreRow } from '../score/org-score.js';
import type { ScoreHistoryStore } from '../store/store.js';
import type { ConsumerKeys } from './consumer-keys.js';
import { grantingPolicy, requireConsumer } from './auth.js';
import { ProxyRefusal } from './errors.js';
import { windowDenial } from '../policy/decide.js';

export interface ScoreRoutesOptions {
  readonly policies: { readonly current: PolicySet };
  readonly keys: ConsumerKeys;
  readonly snapshots: SnapshotCache;
  readonly directory: DirectorySource;
  readonly history?: ScoreHistoryStore;
}

const PERIODS = new Set(['D7', 'D30', 'D90', 'D180']);
const PARAMETERS = new Set(['period', 'date', 'by']);

export type ScoreWindow = { readonly period: Period } | { readonly date: string };

/** Computes org scores (from suppressed tables only) and records the organisation's in the history. */
interface ScoreResult {
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

  constructor(private readonly options: ScoreRoutesOptions) {}

  async compute(window: ScoreWindow, by: readonly DirectoryAttribute[], kOrg: number, kC: number): Promise<ScoreResult & { cached: boolean }> {
    const directory = by.length > 0 ? await this.options.directory.current() : NO_DIRECTORY;
    const snapshots: ReportSnapshot[] = [];
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

  private async computeFresh(snapshots: readonly ReportSnapshot[], window: ScoreWindow, directory: Directory, by: readonly DirectoryAttribute[], kOrg: number, kC: number): Promise<ScoreResult> {
    const facts = new ScoreFacts();
    for (const [i, report] of SCORE_SOURCE_REPORTS.entries()) await facts.addReport(report, snapshots[i]!.csv());
    if (facts.organizationSize < kOrg) {
      throw new ProxyRefusal(422, 'OrganizationTooSmall', `The organisation has fewer than ${kOrg} people in these reports (the policy's k_org), so no score is released.`);
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

export async function scoreRoutes(app: FastifyInstance, options: ScoreRoutesOptions): Promise<void> {
  const scores = new OrgScores(options);
  app.get('/org-score', { schema: { tags: ["score"], summary: "The organisation adoption score", description: "Query: period (D7, D30, D90, D180) or date; by (a directory dimension the consumer's policy declares). Needs the score permission. Five categories with numerator, denominator, points and definition; refused (422) below k_org.", security: [{ consumerKey: [] }] } }, async (request: FastifyRequest, reply: FastifyReply) => {
    const consumer = requireConsumer(request, options.keys);
    const set = options.policies.current;
    Object.assign(request.audit, { consumer, policyVersion: set.version, kind: 'score' });
    reply.header('x-policy-version', set.version);
    const loaded = grantingPolicy(set, consumer, 'score', 'the org score');
    request.audit.policy = loaded.policy.name;
    const params = new Map<string, string>();
    for (const [key, value] of new URLSearchParams(request.url.split(/\?(.*)/s)[1] ?? '')) {
      const k = key.toLowerCase();
      if (!PARAMETERS.has(k)) throw new ProxyRefusal(400, 'BadRequest', `Unknown parameter '${printable(key)}': use period or date, and by.`);
      if (params.has(k)) throw new ProxyRefusal(400, 'BadRequest', `Parameter '${k}' is given twice.`);
      params.set(k, value);
    }
    const period = params.get('period')?.toUpperCase();
    const date = params.get('date');
    if ((period === undefined) === (date === undefined)) throw new ProxyRefusal(400, 'BadRequest', 'Give exactly one of period (D7, D30, D90, D180) or date=YYYY-MM-DD.');
    if (period !== undefined && !PERIODS.has(period)) throw new ProxyRefusal(400, 'BadRequest', 'Invalid period: allowed are D7, D30, D90, D180.');
    if (date !== undefined && !isCalendarDate(date)) throw new ProxyRefusal(400, 'BadRequest', 'Invalid date: use YYYY-MM-DD.');
    const outsideWindow = date === undefined ? undefined : checkDateWindow(date, utcToday());
    if (outsideWindow !== undefined) throw new ProxyRefusal(outsideWindow.status, outsideWindow.code, outsideWindow.message);
    const refusedWindow = windowDenial(loaded.policy, { ...(period !== undefined ? { period } : {}), ...(date !== undefined ? { date } : {}) });
    if (refusedWindow !== undefined) throw new ProxyRefusal(403, 'Forbidden', refusedWindow);
    const declared = new Set(Object.values(loaded.policy.reports).flatMap((rule) => (typeof rule === 'object' && 'cohort' in rule ? rule.cohort.by : [])));
    const byText = params.get('by');
    let by: DirectoryAttribute[] = [];
    if (byText !== undefined) {
      const attribute = DIRECTORY_ATTRIBUTES.find((a) => a.toLowerCase() === byText.trim().toLowerCase());
      if (attribute === undefined || !declared.has(attribute)) {
        const allowed = DIRECTORY_ATTRIBUTES.filter((a) => declared.has(a));
        throw new ProxyRefusal(400, 'BadRequest', `Unknown cohort dimension for the score: this consumer's policy declares ${allowed.length === 0 ? 'none' : allowed.join(', ')}.`);
      }
      by = [attribute];
    }
    const kOrg = loaded.policy.kOrg ?? DEFAULT_K.kOrg;
    const kC = loaded.policy.kC ?? DEFAULT_K.kC;
    const window: ScoreWindow = period !== undefined ? { period: period as Period } : { date: date! };
    const { rows, counts, cached } = await scores.compute(window, by, kOrg, kC);
    request.audit.cohorts = counts;
    request.audit.snapshot = cached ? 'hit' : 'fetched';
    return reply.header('cache-control', 'no-store').send({
      ...(period !== undefined ? { period } : { date }),
      kOrg,
      organization: rows.find((r) => r.dimension === 'organization'),
      ...(by.length > 0 ? { by: by[0], cohorts: rows.filter((r) => r.dimension !== 'organization') } : {}),
    });
  });
}
