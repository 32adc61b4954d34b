/**
 * The simulated tenant's download host, the far end of Graph's 302: it serves a report's CSV (UTF-8 BOM,
 * catalogue headers, streamed) for a signed, expiring download token, and refuses a request that carries an
 * Authorization header, as Graph's pre-authenticated download URLs do.
 */
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { findReport, type ApiVersion } from '../catalogue/catalogue.js';
import { UTF8_BOM } from '../catalogue/csv.js';
import type { ReportCall } from '../catalogue/odata.js';
import { ReportRenderer, renderOptions } from './render.js';
import { reportSource, reportWindow, type ReportWindow } from './reports.js';
import { injectedFailure, sendGraphError } from './request-checks.js';
import type { SimulatorState } from './state.js';

/** The download host plugin. */
export async function downloadRoutes(app: FastifyInstance, { state }: { readonly state: SimulatorState }): Promise<void> {
  const { tenant, lineEnding } = state;

  app.setNotFoundHandler((_request, reply) => sendGraphError(reply, 404, 'NotFound', 'No such download.'));
  app.get('/data/:version/download', async (request, reply) => {
    if (request.headers.authorization !== undefined) {
      state.stats.downloadsWithAuthorization++;
      return sendGraphError(reply, 400, 'BadRequest', 'Pre-authenticated download URLs must be requested without an Authorization header.');
    }
    const token = (request.query as { token?: string }).token ?? '';
    const claims = state.signer.verify(token);
    const now = Math.floor(Date.now() / 1000);
    if (claims === undefined || claims.typ !== 'download') return sendGraphError(reply, 401, 'InvalidAuthenticationToken', 'The download token is invalid.');
    if ((claims.exp as number) <= now) return sendGraphError(reply, 403, 'TokenExpired', 'The download link has expired.');
    const spec = findReport(String(claims.ent));
    if (spec === undefined) return sendGraphError(reply, 404, 'NotFound', 'No such report.');
    if (injectedFailure(state, reply)) return reply;
    if (state.faults.downloadRedirectLocation !== undefined) {
      return reply.code(302).header('Location', state.faults.downloadRedirectLocation).type('text/plain').send('');
    }
    const call: ReportCall = {
      version: claims.tver as ApiVersion, report: spec,
      ...(claims.agg !== '' ? { period: claims.agg as ReportCall['period'] } : {}),
      ...(claims.date !== '' ? { date: String(claims.date) } : {}),
    };
    // The report request checked the window before signing the link.
    const window = reportWindow(tenant, call) as ReportWindow;
    state.stats.downloads[spec.name] = (state.stats.downloads[spec.name] ?? 0) + 1;
    if (state.faults.slowFirstByteMs !== undefined) await sleep(state.faults.slowFirstByteMs);
    const source = reportSource(tenant, spec, window);
    // Concealment is the setting when the link was made, as the token records it.
    const renderer = new ReportRenderer(tenant, spec, renderOptions(claims.concealed === true, state.faults));
    const { truncateAfterRows, malformedRowAt } = state.faults;
    async function* body(): AsyncGenerator<string> {
      let chunk = UTF8_BOM + renderer.csvHeader(lineEnding);
      for (let i = 0; i < source.count; i++) {
        if (truncateAfterRows !== undefined && i >= truncateAfterRows) {
          yield chunk;
          throw new Error('simulated truncation');
        }
        chunk += i === malformedRowAt ? `"${tenant.refreshDate},unterminated${lineEnding}` : renderer.csvLines(source.item(i), lineEnding);
        if (chunk.length >= 65536) {
          yield chunk;
          chunk = '';
        }
      }
      yield chunk;
    }
    return reply.code(200).type('application/octet-stream').send(Readable.from(body()));
  });
}
