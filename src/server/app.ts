/**
 * The proxy's fastify app, composed from plugins: the report routes (and, in later issues, cohorts, score,
 * disclosure, probes). A factory, so tests build as many independent apps as they like.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { DirectorySource } from '../graph/directory-source.js';
import { CohortReleases, type NoiseSettings } from '../cohort/cohort-releases.js';
import { TablesMade } from '../cohort/tables-made.js';
import { DirectoryPins } from '../cohort/sources.js';
import { OrgScores } from '../score/org-scores.js';
import type { ScoreHistoryStore, Store } from '../store/store.js';
import type { AuditRecord } from './audit.js';
import { graphErrorBody } from '../catalogue/errors.js';
import { errorResponse, ProxyRefusal, sendError } from './errors.js';
import { cohortRoutes } from './cohorts.js';
import { disclosureRoutes, type PolicyActivation } from './disclosure.js';
import { policyPreviewRoutes } from './policy-preview.js';
import { dashboardRoutes, type DashboardSettings } from './dashboard.js';
import { scoreRoutes } from './score.js';
import { budgetRoutes } from './budget.js';
import { ProxyMetrics, telemetryRoutes } from './telemetry.js';
import { registerLimits, type LimitSettings } from './limits.js';
import { TLS_SERVER_OPTIONS } from './tls.js';
import { reportRoutes, type ReportRoutesOptions } from './reports.js';

/** The version in package.json (two levels up from src/server and from dist/server alike). */
const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** What the app is built from; its services (cohort releases, org scores, quasi-identifier counts) it builds itself. */
export interface AppOptions extends Omit<ReportRoutesOptions, 'cohorts'> {
  /** The tenant directory (cohort joins, per-department scores). */
  readonly directory: DirectorySource;
  /** The noise key and budget ledger for noisy cohort releases; without them a noisy policy is refused. */
  readonly noise?: NoiseSettings;
  /** The org score's history (survives restarts). */
  readonly history?: ScoreHistoryStore;
  /** The shared state, for readiness (its parts are passed to the plugins that use them). */
  readonly store?: Store;
  readonly dashboard?: DashboardSettings;
  /** Which set is live and since when (the disclosure page shows it). */
  readonly policyActivation?: () => PolicyActivation | undefined;
  /** Rate limits and overload shedding. */
  readonly limits?: LimitSettings;
  /** Metrics of this app (a fresh registry when not given). */
  readonly metrics?: ProxyMetrics;
  readonly logger: Logger;
  /** The bearer token /metrics needs; without it there is no /metrics. */
  readonly metricsToken?: string;
  /** The most time a client has to send its whole request (headers and any body), in ms; default 30 s. */
  readonly requestTimeoutMs?: number;
  /** TLS key and certificate (PEM); without them the app serves plain HTTP (tests only: see README). */
  readonly https?: { readonly key: string; readonly cert: string };
}

/** Where a request whose URL does not decode is routed, so it meets the same hooks as any request. */
const MALFORMED_URL_ROUTE = '/_gpp/malformed-url';
/** The router's limit on one path parameter; a longer path is refused before routing (no route needs one). */
const MAX_PATH_LENGTH = 4096;
const BODY_LIMIT = 64 * 1024;

/**
 * Whether the router can take the path: a malformed %-escape or an over-long parameter would otherwise be
 * answered by fastify itself, outside the hooks.
 */
function decodablePath(url: string): boolean {
  const path = url.split('?')[0]!.split(';')[0]!;
  if (path.length > MAX_PATH_LENGTH) return false;
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}
/** A client-request-id is echoed only when it is a GUID, as Graph's SDKs send it; other text is never reflected. */
const CLIENT_REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function buildApp(options: AppOptions): FastifyInstance {
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  // Node checks request deadlines every connectionsCheckingInterval (30 s by default): check often enough that
  // the timeout bounds a trickling client near its stated value.
  const serverTimeouts = { requestTimeout, headersTimeout: Math.min(60_000, requestTimeout), connectionsCheckingInterval: Math.max(250, Math.min(5_000, Math.floor(requestTimeout / 4))) };
  const app = fastify({
    loggerInstance: options.logger,
    // fastify's own request lines are replaced by the audit line below.
    logController: new LogController({ disableRequestLogging: true }),
    // Paths carry OData function calls; keep the raw URL (fastify must not touch quotes and parentheses).
    routerOptions: { maxParamLength: MAX_PATH_LENGTH, ignoreDuplicateSlashes: false },
    requestIdHeader: false,
    genReqId: () => randomUUID(),
    bodyLimit: BODY_LIMIT,
    requestTimeout,
    // A URL the router cannot decode goes to a route of its own that refuses it: the audit line, the rate limit
    // and the one error mapper then apply to it as to any request (fastify's own answer echoed the URL).
    rewriteUrl: (req) => (decodablePath(req.url ?? '/') ? (req.url ?? '/') : MALFORMED_URL_ROUTE),
    // Backstop for what the router still refuses (e.g. an over-long parameter): Graph-shaped, never echoing it.
    frameworkErrors: (_error, _request, reply) => {
      void sendError(reply, { status: 400, code: 'BadRequest', message: 'The request URL could not be read.' });
    },
    // A request Node cannot parse: a Graph-shaped 400 (or 408/431), and a log line with the error code only,
    // never the raw bytes (they may carry a consumer's key).
    clientErrorHandler: (error: NodeJS.ErrnoException, socket) => {
      if (error.code === 'ECONNRESET' || socket.destroyed) return;
      const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      options.logger.debug({ errorCode: error.code }, 'unreadable request');
      if (!socket.writable) return;
      const body = JSON.stringify(graphErrorBody(status === 400 ? 'BadRequest' : status === 408 ? 'RequestTimeout' : 'RequestHeaderFieldsTooLarge', 'The request could not be read.'));
      socket.end(`HTTP/1.1 ${status} ${status === 400 ? 'Bad Request' : status === 408 ? 'Request Timeout' : 'Request Header Fields Too Large'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    },
    ...(options.https !== undefined ? { https: { key: options.https.key, cert: options.https.cert, ...TLS_SERVER_OPTIONS, ...serverTimeouts } } : { http: serverTimeouts }),
  }) as unknown as FastifyInstance;

  // Graceful shutdown. fastify's close ends the connections idle when it starts and answers new requests 503, but
  // a keep-alive connection busy then (a request in flight, a download streaming) stayed open after its response
  // for the keep-alive timeout (72 s, past the 60 s grace period of deploy/kubernetes.yaml). From the start of the
  // close, responses carry `Connection: close`, and connections that fall idle are ended as they do
  // (test/server/telemetry.test.ts 'graceful shutdown').
  let closing: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    closing = setInterval(() => app.server.closeIdleConnections(), 100);
  });
  app.addHook('onClose', async () => clearInterval(closing));
  app.addHook('onSend', async (_request, reply) => {
    if (closing !== undefined && !reply.raw.headersSent) reply.header('connection', 'close');
  });

  const metrics = options.metrics ?? new ProxyMetrics({ graph: options.graph, snapshots: options.snapshots });
  app.decorateRequest('audit', null as unknown as AuditRecord);
  app.addHook('onRequest', async (request, reply) => {
    request.audit = {};
    // As Graph does: every response names its request-id and echoes the caller's client-request-id, so a tool
    // can match its log lines to ours.
    reply.header('request-id', request.id);
    const clientRequestId = request.headers['client-request-id'];
    reply.header('client-request-id', typeof clientRequestId === 'string' && CLIENT_REQUEST_ID.test(clientRequestId) ? clientRequestId : request.id);
    // One audit line per request, names and counts only (see audit.ts). Written on 'close', which comes for a
    // finished response and for an aborted one alike (fastify's onResponse misses the aborted ones).
    reply.raw.once('close', () => {
      const complete = reply.raw.writableFinished;
      metrics.observe(request.audit, reply.statusCode);
      request.log.info({ audit: request.audit, status: reply.statusCode, complete, method: request.method, durationMs: Math.round(reply.elapsedTime) }, 'request');
    });
  });
  app.setErrorHandler((error, request, reply) => {
    const response = errorResponse(error);
    request.audit.error = response.cause;
    if (response.status >= 500 && !(error instanceof ProxyRefusal)) {
      // The error's class and code help an operator; its message could in theory quote upstream data, so it stays out.
      request.log.error({ errorClass: (error as Error).name, errorCode: (error as { code?: string }).code }, 'request failed');
    }
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return;
    }
    return sendError(reply, response);
  });
  // This API takes no request body (only GET exists): one that is declared is refused before a byte of it is
  // read, and the connection closed, so a client cannot make the proxy read a gigabyte or hold it open.
  app.addHook('preParsing', async (request) => {
    const length = request.headers['content-length'];
    if (request.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) return;
    if (length !== undefined && !(Number(length) <= BODY_LIMIT)) throw new ProxyRefusal(413, 'PayloadTooLarge', 'This API takes no request body.', undefined, true);
    throw new ProxyRefusal(400, 'BadRequest', 'This API takes no request body.', undefined, true);
  });
  registerLimits(app, options.keys, options.limits);
  // After the limits plugin has loaded: its hook then covers this route, and 404s count too (its global hook
  // only covers routes).
  app.after(() => {
    app.route({
      method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      url: MALFORMED_URL_ROUTE,
      schema: { hide: true },
      handler: async () => {
        throw new ProxyRefusal(400, 'BadRequest', 'The request URL is not valid (a malformed %-escape, or a path too long).');
      },
    });
    app.setNotFoundHandler({ preHandler: app.rateLimit() }, (_request, reply) => sendError(reply, { status: 404, code: 'NotFound', message: 'No such resource: reports are under /v1.0/reports/ and /beta/reports/.' }));
  });
  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'graph-privacy-proxy', version: PACKAGE_VERSION, description: "The proxy's own endpoints. Report routes follow Microsoft Graph's reports API." },
      components: { securitySchemes: { consumerKey: { type: 'http', scheme: 'bearer', description: "The consumer's API key (gpp_...)" }, metricsToken: { type: 'http', scheme: 'bearer', description: 'The metrics token (GPP_METRICS_TOKEN)' } } },
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) => reply.header('cache-control', 'no-store').send(app.swagger()));
  // The services, built once and shared by the routes that use them (one cache, one score history).
  // One directory per refresh date for the cohorts and the score alike (cohort/sources.ts DirectoryPins).
  const directory = new DirectoryPins(options.directory);
  metrics.directoryPins(directory.stats);
  // One memory of the tables each refresh was released within, for both surfaces: the score's Meetings is one table with the Teams cohorts.
  const tablesMade = new TablesMade(options.store?.refreshPatterns);
  metrics.tablesMade(tablesMade.stats);
  const cohorts = new CohortReleases(options.snapshots, directory, options.noise, tablesMade);
  const scores = new OrgScores({ snapshots: options.snapshots, directory, history: options.history, tablesMade, ...(options.noise !== undefined ? { noise: options.noise } : {}) });
  void app.register(reportRoutes, { ...options, cohorts });
  void app.register(cohortRoutes, { ...options, cohorts });
  void app.register(disclosureRoutes, options);
  void app.register(scoreRoutes, { ...options, scores });
  void app.register(policyPreviewRoutes, { ...options, pins: directory, tablesMade });
  void app.register(budgetRoutes, options);
  void app.register(dashboardRoutes, { ...options, scores });
  void app.register(telemetryRoutes, {
    metrics, policies: options.policies, graphReady: () => options.graph.tokenReady(), credentialKind: options.graph.credentialKind,
    ...(options.store !== undefined ? { storeReady: () => options.store!.ping() } : {}),
    ...(options.metricsToken !== undefined ? { metricsToken: options.metricsToken } : {}),
  });
  return app;
}
