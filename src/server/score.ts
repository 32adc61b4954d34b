/**
 * `GET /org-score?period=D30[&by=department]`: the organisation's adoption score for consumers whose policy has
 * the `score` permission, computed from suppressed cohort tables of the score's source reports. `by` may name a
 * directory attribute the consumer's policy declares as a cohort dimension; cohorts below k_org are suppressed
 * with the same shape as released ones, and an organisation below k_org is refused.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Period } from '../catalogue/catalogue.js';
import { checkDateWindow, isCalendarDate, utcToday } from '../catalogue/odata.js';
import { ConcealedNamesError, type DirectoryAttribute } from '../cohort/directory.js';
import { scoreGrantFor, windowDenial } from '../policy/decide.js';
import { markRelease } from './release-marks.js';
import type { PolicySet } from '../policy/load.js';
import type { OrgScores, ScoreWindow } from '../score/org-scores.js';
import { grantingPolicy, consumerRequest } from './auth.js';
import type { ConsumerKeys } from './consumer-keys.js';
import { ProxyRefusal, quotedName } from './errors.js';
import { queryParameters } from './query.js';

export interface ScoreRoutesOptions {
  readonly policies: { readonly current: PolicySet };
  readonly keys: ConsumerKeys;
  /** The app's one score service (shared with the dashboard, so one cache and one history). */
  readonly scores: OrgScores;
}

const PERIODS = new Set(['D7', 'D30', 'D90', 'D180']);
const PARAMETERS = new Set(['period', 'date', 'by']);

export async function scoreRoutes(app: FastifyInstance, options: ScoreRoutesOptions): Promise<void> {
  app.get('/org-score', { schema: { tags: ["score"], summary: "The organisation adoption score", description: "Query: period (D7, D30, D90, D180) or date; by (a directory dimension the consumer's policy declares). Needs the score permission. Five categories with numerator, denominator, points and definition (with noise, numeratorMargin95 and denominatorMargin95: 95% margins, 0 for the exact organisation row); refused (422) below k_org.", security: [{ consumerKey: [] }] } }, async (request: FastifyRequest, reply: FastifyReply) => {
    const { consumer, set } = consumerRequest(request, reply, options.keys, options.policies);
    request.audit.kind = 'score';
    const loaded = grantingPolicy(set, consumer, 'score', 'the org score');
    request.audit.policy = loaded.policy.name;
    const params = queryParameters(request.url, PARAMETERS, 'period or date, and by.');
    const period = params.get('period')?.toUpperCase();
    const date = params.get('date');
    if ((period === undefined) === (date === undefined)) throw new ProxyRefusal(400, 'BadRequest', 'Give exactly one of period (D7, D30, D90, D180) or date=YYYY-MM-DD.');
    if (period !== undefined && !PERIODS.has(period)) throw new ProxyRefusal(400, 'BadRequest', 'Invalid period: allowed are D7, D30, D90, D180.');
    if (date !== undefined && !isCalendarDate(date)) throw new ProxyRefusal(400, 'BadRequest', 'Invalid date: use YYYY-MM-DD.');
    const outsideWindow = date === undefined ? undefined : checkDateWindow(date, utcToday());
    if (outsideWindow !== undefined) throw new ProxyRefusal(outsideWindow.status, outsideWindow.code, outsideWindow.message);
    const refusedWindow = windowDenial(loaded.policy, { ...(period !== undefined ? { period } : {}), ...(date !== undefined ? { date } : {}) });
    if (refusedWindow !== undefined) throw new ProxyRefusal(403, 'Forbidden', refusedWindow);
    const grant = scoreGrantFor(loaded, set, { ...(period !== undefined ? { period: period as Period } : {}), ...(date !== undefined ? { date } : {}) });
    const byText = params.get('by');
    let by: DirectoryAttribute | undefined;
    if (byText !== undefined) {
      by = grant.dimensions.find((a) => a.toLowerCase() === byText.trim().toLowerCase());
      if (by === undefined && grant.dayOnly === true) {
        throw new ProxyRefusal(403, 'Forbidden', "A single day's score is released for the organisation only: the score is released for periods too, and a day's groups beside them could be joined to narrow a group a period hides. Ask for a period to see groups.");
      }
      if (by === undefined) {
        throw new ProxyRefusal(400, 'BadRequest', `Unknown cohort dimension for the score: ${quotedName(byText)}; this consumer's policy declares ${grant.dimensions.length === 0 ? 'none' : grant.dimensions.join(', ')}.`);
      }
    }
    const { kOrg } = grant;
    const window: ScoreWindow = period !== undefined ? { period: period as Period } : { date: date! };
    const release = await options.scores.compute(window, grant, consumer);
    // A dimension needs the directory; without it (concealed names) the release holds the organisation only.
    if (by !== undefined && !release.dimensions.includes(by)) {
      if (release.withheld === 'directoryChanged') {
        throw new ProxyRefusal(409, 'CohortsUnavailable', "The directory changed between reads of this score's reports, which Microsoft Graph refreshed on different dates: by a dimension, the score would join some of their data to another directory than their cohorts were. The organisation's score is released; by a dimension again once the reports are refreshed together (usually the next day).");
      }
      throw new ConcealedNamesError();
    }
    request.audit.cohorts = release.counts;
    request.audit.snapshot = release.cached ? 'hit' : 'fetched';
    request.audit.noise = release.budget !== undefined;
    if (release.budget !== undefined) request.audit.budget = { charged: release.budget.charged, spent: release.budget.spent, epsilon: grant.noise?.epsilon ?? 0 };
    if (release.stale) request.audit.stale = true;
    markRelease(reply, release);
    const { rows } = release;
    return reply.header('cache-control', 'no-store').send({
      ...(period !== undefined ? { period } : { date }),
      kOrg,
      organization: rows.find((r) => r.dimension === 'organization'),
      stale: release.stale,
      ...(by !== undefined ? { by, cohorts: rows.filter((r) => r.dimension === by) } : {}),
    });
  });
}
