/**
 * `GET /cohorts/{report}?period=D30&by=department&format=json|csv`: cohort output for dashboards, for
 * consumers whose policy releases the report as cohorts. Parameters are strict (each once, nothing else),
 * names compare case-insensitively, and the output depends only on what is selected, so equivalent requests
 * give identical bytes (G13). Only Graph's periods and dates are accepted (G14).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findReport, type Period } from '../catalogue/catalogue.js';
import { checkServed, isCalendarDate, quotedIdentifier, utcToday, type ReportCall } from '../catalogue/odata.js';
import { cohortCsv } from '../cohort/render.js';
import type { CohortReleases } from '../cohort/cohort-releases.js';
import { cohortGrantFor, dayNestsInPeriods } from '../policy/decide.js';
import type { PolicySet } from '../policy/load.js';
import { auditCohorts } from './audit.js';
import { markRelease } from './release-marks.js';
import { allowedDecision, consumerRequest } from './auth.js';
import { ProxyRefusal, quotedName } from './errors.js';
import { queryParameters } from './query.js';
import type { ConsumerKeys } from './consumer-keys.js';

const PARAMETERS = new Set(['period', 'date', 'by', 'format']);
const normalise = (name: string) => name.trim().replace(/\s+/g, ' ').toLowerCase();

export interface CohortRoutesOptions {
  readonly policies: { readonly current: PolicySet };
  readonly keys: ConsumerKeys;
  /** The app's one cohort release service (shared with the report URL, so one computation per release). */
  readonly cohorts: CohortReleases;
}

export async function cohortRoutes(app: FastifyInstance, options: CohortRoutesOptions): Promise<void> {
  app.get('/cohorts/:report', { schema: { tags: ["cohorts"], summary: "Cohort aggregates of a per-user report, for dashboards", description: "Query: period (D7, D30, D90, D180) or date (YYYY-MM-DD); by (comma-separated declared dimensions); format (json or csv). Only for consumers whose policy releases the report as cohorts. Small cohorts come back suppressed, with the same fields.", security: [{ consumerKey: [] }] } }, async (request: FastifyRequest, reply: FastifyReply) => {
    const { consumer, set } = consumerRequest(request, reply, options.keys, options.policies);
    const { report: name } = request.params as { report: string };
    const report = findReport(name);
    if (report === undefined) throw new ProxyRefusal(404, 'NotFound', quotedIdentifier(name) !== undefined ? `No report named ${quotedIdentifier(name)}.` : 'No such report (its name is not echoed).');
    const params = queryParameters(request.url, PARAMETERS, 'period or date, by, format.');
    const period = params.get('period')?.toUpperCase();
    const date = params.get('date');
    if ((period === undefined) === (date === undefined)) throw new ProxyRefusal(400, 'BadRequest', `Give exactly one of period (${report.periods.join(', ')}) or date=YYYY-MM-DD.`);
    if (period !== undefined && !(report.periods as readonly string[]).includes(period)) throw new ProxyRefusal(400, 'BadRequest', `Invalid period: allowed are ${report.periods.join(', ')}.`);
    if (date !== undefined && (report.parameters !== 'periodOrDate' || !isCalendarDate(date))) throw new ProxyRefusal(400, 'BadRequest', `Invalid date: ${report.name} takes ${report.parameters === 'periodOrDate' ? 'a date YYYY-MM-DD' : 'a period only'}.`);
    const format = (params.get('format') ?? 'json').toLowerCase();
    if (format !== 'json' && format !== 'csv') throw new ProxyRefusal(400, 'BadRequest', "Invalid format: use 'json' or 'csv'.");
    const call: ReportCall = {
      version: report.versions.includes('v1.0') ? 'v1.0' : 'beta', report,
      ...(period !== undefined ? { period: period as Period } : {}), ...(date !== undefined ? { date } : {}),
    };
    Object.assign(request.audit, { report: report.name, apiVersion: call.version, format, ...(period !== undefined ? { period } : { date }) });
    // Cohorts are built from the CSV report: Graph's date window applies.
    const unserved = checkServed(call, 'csv', utcToday());
    if (unserved !== undefined) throw new ProxyRefusal(unserved.status, unserved.code, unserved.message);
    const decision = allowedDecision(set.policyFor(consumer), call, format);
    request.audit.policy = decision.policy.policy.name;
    if (decision.kind !== 'cohort') throw new ProxyRefusal(403, 'Forbidden', `The policy for this consumer releases ${report.name} as rows, not cohorts; use the report's own URL.`);
    const release = await options.cohorts.release(call, cohortGrantFor(decision, call, set), set.hash, consumer);
    auditCohorts(request, release);
    const declared = release.plan.dimensions.map((d) => d.name);
    let only: string[] | undefined;
    const by = params.get('by');
    if (by !== undefined) {
      const wanted = new Set(by.split(',').map(normalise));
      only = declared.filter((d) => wanted.has(normalise(d)));
      if (only.length !== wanted.size) {
        if (date !== undefined && dayNestsInPeriods(set, report)) {
          throw new ProxyRefusal(403, 'Forbidden', `A single day's cohorts of ${report.name} are released for the organisation only: its periods are released too, and a day's groups beside them could be joined to narrow a group a period hides. Ask for a period to see groups.`);
        }
        const known = new Set(declared.map(normalise));
        const unknown = by.split(',').filter((name) => !known.has(normalise(name))).map(quotedName);
        throw new ProxyRefusal(400, 'BadRequest', `Unknown cohort dimension in by: ${unknown.join(', ')}; the policy declares ${declared.join(', ')} (give several separated by commas).`);
      }
    }
    const rows = release.rows(only);
    reply.header('cache-control', 'no-store');
    markRelease(reply, release);
    if (format === 'csv') return reply.type('text/csv; charset=utf-8').send(cohortCsv(rows, release.plan));
    return reply.type('application/json').send({ report: report.name, ...(period !== undefined ? { period } : { date }), dimensions: only ?? declared, stale: release.stale, value: rows });
  });
}
