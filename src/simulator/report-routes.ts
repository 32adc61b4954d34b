/**
 * The simulated tenant's usage reports on the Graph host: v1.0, beta and Copilot report calls, refused as Graph
 * refuses them (the proxy's own `checkServed` grammar), answered with Graph's 302 to a signed download link for
 * CSV or with `@odata.nextLink`-paged JSON, under Graph's per-report throttling; and the tenant's report
 * setting (`/admin/reportSettings`, concealed names).
 */
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ReportSpec } from '../catalogue/catalogue.js';
import { checkServed, parseReportPath, parseReportQuery, utcToday, type ReportCall } from '../catalogue/odata.js';
import { ReportRenderer, renderOptions } from './render.js';
import { reportSource, reportWindow, type ReportWindow } from './reports.js';
import { authorised, graphBase, injectedFailure, sendGraphError, skipOffset, skipToken } from './request-checks.js';
import type { SimulatorState } from './state.js';

const THROTTLE_WINDOW_MS = 10 * 60_000;

/** The reports plugin. */
export async function reportRoutes(app: FastifyInstance, { state }: { readonly state: SimulatorState }): Promise<void> {
  const { tenant } = state;

  /** Graph's report throttling: 14 CSV / 100 JSON requests per report per app per 10 minutes; answers 429 past it. */
  function overGraphLimit(appId: string, spec: ReportSpec, format: 'csv' | 'json', reply: FastifyReply): boolean {
    if (!state.enforceGraphLimits) return false;
    const key = `${appId} ${spec.name} ${format}`;
    const now = Date.now();
    const recent = (state.throttleLog.get(key) ?? []).filter((t) => t > now - THROTTLE_WINDOW_MS);
    const limit = format === 'csv' ? 14 : 100;
    if (recent.length >= limit) {
      state.throttleLog.set(key, recent);
      reply.header('Retry-After', String(Math.max(1, Math.ceil((recent[0]! + THROTTLE_WINDOW_MS - now) / 1000))));
      sendGraphError(reply, 429, 'TooManyRequests', 'Too many requests for this report. Retry later.');
      return true;
    }
    recent.push(now);
    state.throttleLog.set(key, recent);
    return false;
  }

  async function reportRequest(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | object> {
    const [rawPath = '', rawQuery = ''] = request.url.split('?', 2) as [string, string?];
    const parsedPath = parseReportPath(rawPath);
    if (!parsedPath.ok) return sendGraphError(reply, parsedPath.error.status, parsedPath.error.code, parsedPath.error.message);
    const call = parsedPath.value;
    const parsedQuery = parseReportQuery(call.report, new URLSearchParams(rawQuery), { allowUnknownParameters: true });
    if (!parsedQuery.ok) return sendGraphError(reply, parsedQuery.error.status, parsedQuery.error.code, parsedQuery.error.message);
    const query = parsedQuery.value;
    const claims = authorised(state, request, reply);
    if (claims === undefined) return reply;
    const refused = checkServed(call, query.format, utcToday());
    if (refused !== undefined) return sendGraphError(reply, refused.status, refused.code, refused.message);
    const window = reportWindow(tenant, call);
    if (typeof window === 'string') return sendGraphError(reply, 400, 'InvalidArgument', window);
    const key = `${call.version} ${call.report.name} ${query.format}`;
    state.stats.reportRequests[key] = (state.stats.reportRequests[key] ?? 0) + 1;
    if (injectedFailure(state, reply)) return reply;
    if (overGraphLimit(String(claims.appid), call.report, query.format, reply)) return reply;
    if (state.faults.slowFirstByteMs !== undefined) await sleep(state.faults.slowFirstByteMs);

    if (query.format === 'csv') {
      const now = Math.floor(Date.now() / 1000);
      const token = state.signer.sign({
        typ: 'download', tid: tenant.tenantId, app: claims.appid, ent: call.report.name, tver: call.version,
        agg: call.period ?? '', date: call.date ?? '', concealed: state.concealedNames, iat: now, nbf: now, exp: now + state.downloadLinkSeconds,
      });
      const location = state.faults.redirectLocation ?? `${state.downloadUrl}/data/${call.version}/download?token=${token}`;
      return reply.code(302).header('Location', location).type('text/plain').send('');
    }
    return jsonPage(request, reply, call, window, query.top, query.skipToken);
  }

  function jsonPage(
    request: FastifyRequest, reply: FastifyReply, call: ReportCall, window: ReportWindow, top: number | undefined, skip: string | undefined,
  ): FastifyReply {
    const spec = call.report;
    const source = reportSource(tenant, spec, window);
    const scope = `${call.version}:${spec.name}:${call.period ?? call.date ?? ''}`;
    const decoded = skipOffset(state, skip, scope);
    if (decoded === undefined) return sendGraphError(reply, 400, 'BadRequest', 'The $skiptoken is invalid or belongs to another request.');
    const offset: number = decoded;
    const pageSize = spec.shape === 'counts' ? source.count : (top ?? spec.pageSize);
    const end = Math.min(source.count, offset + pageSize);
    const renderer = new ReportRenderer(tenant, spec, renderOptions(state.concealedNames, state.faults));
    const base = graphBase(request);
    const head: Record<string, unknown> = {
      '@odata.context': `${base}/${call.version}/$metadata#Collection(microsoft.graph.${spec.jsonType})`,
    };
    if (end < source.count) {
      const path = request.url.split('?', 1)[0];
      head['@odata.nextLink'] = `${base}${path}?$format=application/json${top !== undefined ? `&$top=${top}` : ''}&$skiptoken=${skipToken(state, scope, end)}`;
    }
    const truncateAfter = state.faults.truncateAfterRows;
    async function* body(): AsyncGenerator<string> {
      yield `${JSON.stringify(head).slice(0, -1)},"value":[`;
      for (let i = offset; i < end; i++) {
        if (truncateAfter !== undefined && i - offset >= truncateAfter) throw new Error('simulated truncation');
        yield `${i > offset ? ',' : ''}${JSON.stringify(renderer.jsonItem(source.item(i)))}`;
      }
      yield ']}';
    }
    return reply.code(200).type('application/json; odata.metadata=minimal').send(Readable.from(body()));
  }

  for (const version of ['v1.0', 'beta'] as const) {
    app.get(`/${version}/admin/reportSettings`, async (request, reply) => {
      if (authorised(state, request, reply) === undefined) return reply;
      return { '@odata.context': `${graphBase(request)}/${version}/$metadata#admin/reportSettings/$entity`, '@odata.type': '#microsoft.graph.adminReportSettings', displayConcealedNames: state.concealedNames };
    });
    app.patch(`/${version}/admin/reportSettings`, async (request, reply) => {
      if (authorised(state, request, reply) === undefined) return reply;
      const body = request.body as { displayConcealedNames?: unknown } | undefined;
      if (typeof body !== 'object' || body === null || typeof body.displayConcealedNames !== 'boolean') {
        return sendGraphError(reply, 400, 'BadRequest', "The body must be {\"displayConcealedNames\": true|false}.");
      }
      state.concealedNames = body.displayConcealedNames;
      return reply.code(204).send();
    });
    app.get(`/${version}/reports/*`, reportRequest);
  }
  app.get('/v1.0/copilot/reports/*', reportRequest);
}
