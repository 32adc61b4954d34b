/**
 * The simulated Graph tenant as real HTTP servers: a Graph host (Entra token endpoint, usage reports v1.0 and
 * beta, /users, /admin/reportSettings) and a separate download host that serves the CSV behind Graph's 302,
 * plus fault switches and request counters for tests. Behaviour follows ../shared/graph-reports.md.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { findReport, type ApiVersion, type ReportSpec } from '../catalogue/catalogue.js';
import { UTF8_BOM } from '../catalogue/csv.js';
import { graphErrorBody } from '../catalogue/errors.js';
import { checkServed, parseReportPath, parseReportQuery, periodDays, printable, utcToday, type ReportCall } from '../catalogue/odata.js';
import { LAST_DAY, reportSource, type ReportWindow } from './reports.js';
import { ReportRenderer } from './render.js';
import { SimulatedTenant, type TenantOptions } from './tenant.js';
import { TokenSigner } from './tokens.js';
import { FEDERATED_AUDIENCE, registerEntra, type EntraContext, type GrantKind, type TokenFault } from './entra.js';
import { simulatorCertificates } from './certificates.js';

export interface SimulatorFaults {
  /** The next `remaining` report, users and download requests get 429 with this Retry-After. */
  throttle?: { remaining: number; retryAfterSeconds: number };
  /** The next `remaining` such requests get 503 (with Retry-After when given). */
  unavailable?: { remaining: number; retryAfterSeconds?: number };
  /** Delay before the first byte of report and download responses. */
  slowFirstByteMs?: number;
  /** Downloads and JSON pages break off (connection reset) after this many rows. */
  truncateAfterRows?: number;
  /** The CSV row at this index (0-based) is malformed: an unterminated quote and a missing field. */
  malformedRowAt?: number;
  /** Reports carry one more column than the catalogue knows. */
  extraColumn?: boolean;
  /** About one user in `every` is written as `(Unknown)` (empty display name) in every per-user report. */
  unknownNames?: { every: number };
  /** The 302 points here instead of at the download host (foreign hosts, loops). */
  redirectLocation?: string;
  /** The download host answers with a 302 to here instead of the file (a redirect chain or loop). */
  downloadRedirectLocation?: string;
  /** The token endpoints (login host, Graph host, IMDS, App Service) answer 429/5xx this many times. */
  token?: TokenFault;
}

export interface SimulatorOptions extends TenantOptions {
  host?: string;
  /** Graph host port (0: any free port). */
  port?: number;
  /** Download host port (0: any free port). */
  downloadPort?: number;
  /** Login host (Entra ID over HTTPS) port (0: any free port, the default). */
  loginPort?: number;
  clientId?: string;
  clientSecret?: string;
  /** Access token lifetime in seconds (Entra's default is 3599). */
  tokenLifetimeSeconds?: number;
  /** Download link lifetime in seconds (Graph's is about 120). */
  downloadLinkSeconds?: number;
  /** Graph's concealed-names setting; Graph's default since 2021 is on. */
  concealedNames?: boolean;
  /** Enforce Graph's report throttling: 14 CSV / 100 JSON requests per report per app per 10 minutes. */
  enforceGraphLimits?: boolean;
  /** CSV line ending (Graph's is undocumented; both must be handled). */
  lineEnding?: '\r\n' | '\n';
}

export interface SimulatorStats {
  tokensIssued: number;
  /** Tokens issued by how they were obtained: secret, certificate, federated, imds, appService. */
  tokensByGrant: Partial<Record<GrantKind, number>>;
  /** Report requests by `${version} ${report} ${format}`. */
  reportRequests: Record<string, number>;
  downloads: Record<string, number>;
  /** Requests to the download host that carried an Authorization header (always refused). */
  downloadsWithAuthorization: number;
}

export interface RunningSimulator {
  readonly tenant: SimulatedTenant;
  /** Base URL of the Graph host, e.g. http://127.0.0.1:4010 (reports under /v1.0 and /beta). */
  readonly graphUrl: string;
  readonly downloadUrl: string;
  /** The client-credentials token endpoint for this tenant on the Graph host (plain HTTP, for curl and tests). */
  readonly tokenUrl: string;
  /** The login host (Entra ID over HTTPS, as Microsoft's library requires), e.g. https://127.0.0.1:40123. */
  readonly loginUrl: string;
  /** The token endpoint on the login host: what GPP_TOKEN_URL names. */
  readonly entraTokenUrl: string;
  /** The login host's certificate (PEM, self-signed): the CA a client must trust (NODE_EXTRA_CA_CERTS). */
  readonly authorityCa: string;
  /** The app registration's certificate credential: PEM private key and certificate in one. */
  readonly clientCertificatePem: string;
  /** Managed identity: the IMDS base URL (AZURE_POD_IDENTITY_AUTHORITY_HOST) and App Service's endpoint and header. */
  readonly imdsUrl: string;
  readonly appServiceEndpoint: string;
  readonly identityHeader: string;
  /** A federated token (workload identity) from the issuer the app trusts, valid `seconds` (default 3600). */
  federatedToken(seconds?: number): string;
  readonly clientId: string;
  readonly clientSecret: string;
  faults: SimulatorFaults;
  readonly stats: SimulatorStats;
  concealedNames: boolean;
  /** Invalidates every access token issued so far (an "expired token mid-run"). */
  expireTokens(): void;
  close(): Promise<void>;
}

const USER_PROPERTIES = [
  'id', 'displayName', 'givenName', 'surname', 'userPrincipalName', 'mail', 'department', 'officeLocation',
  'city', 'country', 'companyName', 'jobTitle', 'accountEnabled',
] as const;
const DEFAULT_USER_SELECT = ['id', 'displayName', 'givenName', 'surname', 'userPrincipalName', 'mail', 'jobTitle', 'officeLocation'];
const THROTTLE_WINDOW_MS = 10 * 60_000;

function sendGraphError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).type('application/json').send(graphErrorBody(code, message));
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const tenant = new SimulatedTenant(options);
  const host = options.host ?? '127.0.0.1';
  const clientId = options.clientId ?? 'b5a1c0de-0000-4000-8000-00000000c11e';
  const clientSecret = options.clientSecret ?? 'simulated-client-secret';
  const tokenLifetime = options.tokenLifetimeSeconds ?? 3599;
  const linkLifetime = options.downloadLinkSeconds ?? 120;
  const lineEnding = options.lineEnding ?? '\r\n';
  const enforceLimits = options.enforceGraphLimits ?? true;
  const signer = new TokenSigner(randomBytes(32));
  // Tokens carry the generation they were issued in; expireTokens() moves to the next one (seconds are too coarse).
  let tokenGeneration = 0;
  const throttleLog = new Map<string, number[]>();
  const stats: SimulatorStats = { tokensIssued: 0, tokensByGrant: {}, reportRequests: {}, downloads: {}, downloadsWithAuthorization: 0 };
  const certificates = await simulatorCertificates();
  const identityHeader = randomBytes(16).toString('hex');
  const federationIssuer = 'https://kubernetes.simulated.invalid';

  // Malformed URLs and the like are refused in Graph's shape too, before any route runs.
  const frameworkErrors = (_error: Error, _request: FastifyRequest, reply: FastifyReply) =>
    sendGraphError(reply, 400, 'BadRequest', 'The request URL is malformed.');
  const graph = Fastify({ logger: false, frameworkErrors });
  const login = Fastify({ logger: false, https: { key: certificates.login.key, cert: certificates.login.cert } });
  let loginUrl = '';
  const download = Fastify({ logger: false, frameworkErrors });
  let downloadUrl = '';

  const sim: RunningSimulator = {
    tenant,
    graphUrl: '',
    downloadUrl: '',
    tokenUrl: '',
    loginUrl: '',
    entraTokenUrl: '',
    authorityCa: certificates.login.cert,
    clientCertificatePem: `${certificates.client.key}${certificates.client.cert}`,
    imdsUrl: '',
    appServiceEndpoint: '',
    identityHeader,
    federatedToken(seconds = 3600) {
      const now = Math.floor(Date.now() / 1000);
      return signer.sign({ typ: 'federated', iss: federationIssuer, sub: 'system:serviceaccount:graph-privacy-proxy:proxy', aud: FEDERATED_AUDIENCE, iat: now, exp: now + seconds });
    },
    clientId,
    clientSecret,
    faults: {},
    stats,
    concealedNames: options.concealedNames ?? true,
    expireTokens() {
      tokenGeneration++;
    },
    async close() {
      await Promise.all([graph.close(), download.close(), login.close()]);
    },
  };

  /** Applies the one-shot 429/503 switches; returns true when the request was answered with a fault. */
  function injectedFailure(reply: FastifyReply): boolean {
    const { throttle, unavailable } = sim.faults;
    if (throttle !== undefined && throttle.remaining > 0) {
      throttle.remaining--;
      reply.header('Retry-After', String(throttle.retryAfterSeconds));
      sendGraphError(reply, 429, 'TooManyRequests', 'Too many requests.');
      return true;
    }
    if (unavailable !== undefined && unavailable.remaining > 0) {
      unavailable.remaining--;
      if (unavailable.retryAfterSeconds !== undefined) reply.header('Retry-After', String(unavailable.retryAfterSeconds));
      sendGraphError(reply, 503, 'ServiceUnavailable', 'The service is temporarily unavailable.');
      return true;
    }
    return false;
  }

  function authorised(request: FastifyRequest, reply: FastifyReply): Record<string, unknown> | undefined {
    const header = request.headers.authorization;
    if (header === undefined || !/^Bearer\s+\S+/i.test(header)) {
      sendGraphError(reply, 401, 'InvalidAuthenticationToken', 'Access token is empty.');
      return undefined;
    }
    const claims = signer.verify(header.replace(/^Bearer\s+/i, '').trim());
    const now = Math.floor(Date.now() / 1000);
    if (claims === undefined || claims.typ !== 'access') {
      sendGraphError(reply, 401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.');
      return undefined;
    }
    if (typeof claims.exp !== 'number' || claims.exp <= now || claims.gen !== tokenGeneration) {
      sendGraphError(reply, 401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.');
      return undefined;
    }
    return claims;
  }

  function windowOf(call: ReportCall): ReportWindow | string {
    if (call.date !== undefined) {
      // Graph's own window (the past 28 days) is checked by checkServed; this is the simulator's data.
      const day = tenant.dayOf(call.date);
      if (day === undefined) return `No data for date=${call.date}: the tenant's reports were last refreshed on ${tenant.refreshDate}.`;
      return { firstDay: day, lastDay: day, periodDays: 1 };
    }
    const days = call.period !== undefined ? periodDays(call.period) : 180;
    return { firstDay: LAST_DAY - days + 1, lastDay: LAST_DAY, periodDays: days };
  }

  function overGraphLimit(app: string, spec: ReportSpec, format: 'csv' | 'json', reply: FastifyReply): boolean {
    if (!enforceLimits) return false;
    const key = `${app} ${spec.name} ${format}`;
    const now = Date.now();
    const recent = (throttleLog.get(key) ?? []).filter((t) => t > now - THROTTLE_WINDOW_MS);
    const limit = format === 'csv' ? 14 : 100;
    if (recent.length >= limit) {
      throttleLog.set(key, recent);
      reply.header('Retry-After', String(Math.max(1, Math.ceil((recent[0]! + THROTTLE_WINDOW_MS - now) / 1000))));
      sendGraphError(reply, 429, 'TooManyRequests', 'Too many requests for this report. Retry later.');
      return true;
    }
    recent.push(now);
    throttleLog.set(key, recent);
    return false;
  }

  // --- Graph host ------------------------------------------------------------------------------------------

  for (const app of [graph, login]) {
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 65536 }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
  }
  const entra: EntraContext = {
    tenant, clientId, clientSecret, clientCertificate: certificates.client.cert, identityHeader, federationIssuer, signer,
    tokenLifetime, generation: () => tokenGeneration, tokenFault: () => sim.faults.token,
    granted: (kind) => {
      stats.tokensIssued++;
      stats.tokensByGrant[kind] = (stats.tokensByGrant[kind] ?? 0) + 1;
    },
  };
  registerEntra(login, entra, () => loginUrl);
  graph.setNotFoundHandler((request, reply) =>
    sendGraphError(reply, 404, 'UnknownError', `No HTTP resource was found that matches the request URI.`),
  );
  graph.setErrorHandler((error: { statusCode?: number }, _request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    return sendGraphError(reply, status, status === 500 ? 'InternalServerError' : 'BadRequest', 'The request could not be processed.');
  });

  registerEntra(graph, entra, graphBase);

  for (const version of ['v1.0', 'beta'] as const) {
    graph.get(`/${version}/admin/reportSettings`, async (request, reply) => {
      if (authorised(request, reply) === undefined) return reply;
      return { '@odata.context': `${graphBase(request)}/${version}/$metadata#admin/reportSettings/$entity`, '@odata.type': '#microsoft.graph.adminReportSettings', displayConcealedNames: sim.concealedNames };
    });
    graph.patch(`/${version}/admin/reportSettings`, async (request, reply) => {
      if (authorised(request, reply) === undefined) return reply;
      const body = request.body as { displayConcealedNames?: unknown } | undefined;
      if (typeof body !== 'object' || body === null || typeof body.displayConcealedNames !== 'boolean') {
        return sendGraphError(reply, 400, 'BadRequest', "The body must be {\"displayConcealedNames\": true|false}.");
      }
      sim.concealedNames = body.displayConcealedNames;
      return reply.code(204).send();
    });
    graph.get(`/${version}/users`, async (request, reply) => usersPage(request, reply, version));
    graph.get(`/${version}/reports/*`, async (request, reply) => reportRequest(request, reply));
  }
  graph.get('/v1.0/copilot/reports/*', async (request, reply) => reportRequest(request, reply));

  // Test controls; the simulator is a test and demo fixture, never exposed beyond loopback.
  graph.get('/_simulator/faults', async () => sim.faults);
  graph.put('/_simulator/faults', async (request) => {
    sim.faults = (request.body ?? {}) as SimulatorFaults;
    return sim.faults;
  });
  graph.post('/_simulator/expire-tokens', async (_request, reply) => {
    sim.expireTokens();
    return reply.code(204).send();
  });
  graph.get('/_simulator/stats', async () => stats);

  function graphBase(request: FastifyRequest): string {
    return `${request.protocol}://${request.host}`;
  }

  async function usersPage(request: FastifyRequest, reply: FastifyReply, version: ApiVersion): Promise<FastifyReply | object> {
    if (authorised(request, reply) === undefined) return reply;
    if (injectedFailure(reply)) return reply;
    const url = new URL(request.url, 'http://simulator');
    const select = (url.searchParams.get('$select') ?? DEFAULT_USER_SELECT.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = select.find((s) => !(USER_PROPERTIES as readonly string[]).includes(s));
    if (unknown !== undefined) {
      return sendGraphError(reply, 400, 'Request_BadRequest', `Could not find a property named '${printable(unknown, 60)}' on type 'microsoft.graph.user'.`);
    }
    const topText = url.searchParams.get('$top');
    const top = topText === null ? 100 : Number(topText);
    if (!Number.isInteger(top) || top < 1 || top > 999) {
      return sendGraphError(reply, 400, 'Request_BadRequest', "Invalid page size specified: '$top' must be between 1 and 999.");
    }
    const offset = decodeSkipToken(url.searchParams.get('$skiptoken'), 'users');
    if (offset === undefined) return sendGraphError(reply, 400, 'Request_BadRequest', 'The $skiptoken is invalid.');
    const value = [];
    for (let i = offset; i < Math.min(tenant.size, offset + top); i++) {
      const u = tenant.user(i);
      if (u.deletedDay !== null) continue; // deleted users leave the directory
      const all = { ...u, mail: u.userPrincipalName, accountEnabled: true };
      value.push(Object.fromEntries(select.map((s) => [s, all[s as keyof typeof all]])));
    }
    const next = offset + top;
    return {
      '@odata.context': `${graphBase(request)}/${version}/$metadata#users(${select.join(',')})`,
      value,
      ...(next < tenant.size
        ? { '@odata.nextLink': `${graphBase(request)}/${version}/users?$select=${select.join(',')}&$top=${top}&$skiptoken=${signer.sign({ typ: 'skip', s: 'users', o: next })}` }
        : {}),
    };
  }

  function decodeSkipToken(token: string | null | undefined, scope: string): number | undefined {
    if (token === null || token === undefined) return 0;
    const claims = signer.verify(token);
    if (claims === undefined || claims.typ !== 'skip' || claims.s !== scope || typeof claims.o !== 'number') return undefined;
    return claims.o;
  }

  async function reportRequest(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | object> {
    const [rawPath = '', rawQuery = ''] = request.url.split('?', 2) as [string, string?];
    const parsedPath = parseReportPath(rawPath);
    if (!parsedPath.ok) return sendGraphError(reply, parsedPath.error.status, parsedPath.error.code, parsedPath.error.message);
    const call = parsedPath.value;
    const parsedQuery = parseReportQuery(call.report, new URLSearchParams(rawQuery), { allowUnknownParameters: true });
    if (!parsedQuery.ok) return sendGraphError(reply, parsedQuery.error.status, parsedQuery.error.code, parsedQuery.error.message);
    const query = parsedQuery.value;
    const claims = authorised(request, reply);
    if (claims === undefined) return reply;
    const refused = checkServed(call, query.format, utcToday());
    if (refused !== undefined) return sendGraphError(reply, refused.status, refused.code, refused.message);
    const window = windowOf(call);
    if (typeof window === 'string') return sendGraphError(reply, 400, 'InvalidArgument', window);
    const key = `${call.version} ${call.report.name} ${query.format}`;
    stats.reportRequests[key] = (stats.reportRequests[key] ?? 0) + 1;
    if (injectedFailure(reply)) return reply;
    if (overGraphLimit(String(claims.appid), call.report, query.format, reply)) return reply;
    if (sim.faults.slowFirstByteMs !== undefined) await sleep(sim.faults.slowFirstByteMs);

    if (query.format === 'csv') {
      const now = Math.floor(Date.now() / 1000);
      const token = signer.sign({
        typ: 'download', tid: tenant.tenantId, app: claims.appid, ent: call.report.name, tver: call.version,
        agg: call.period ?? '', date: call.date ?? '', concealed: sim.concealedNames, iat: now, nbf: now, exp: now + linkLifetime,
      });
      const location = sim.faults.redirectLocation ?? `${downloadUrl}/data/${call.version}/download?token=${token}`;
      return reply.code(302).header('Location', location).type('text/plain').send('');
    }
    return jsonPage(request, reply, call, window, query.top, query.skipToken);
  }

  function jsonPage(
    request: FastifyRequest, reply: FastifyReply, call: ReportCall, window: ReportWindow, top: number | undefined, skipToken: string | undefined,
  ): FastifyReply {
    const spec = call.report;
    const source = reportSource(tenant, spec, window);
    const scope = `${call.version}:${spec.name}:${call.period ?? call.date ?? ''}`;
    const decoded = decodeSkipToken(skipToken, scope);
    if (decoded === undefined) return sendGraphError(reply, 400, 'BadRequest', 'The $skiptoken is invalid or belongs to another request.');
    const offset: number = decoded;
    const pageSize = spec.shape === 'counts' ? source.count : (top ?? spec.pageSize);
    const end = Math.min(source.count, offset + pageSize);
    const renderer = new ReportRenderer(tenant, spec, { concealed: sim.concealedNames, extraColumn: sim.faults.extraColumn === true, ...(sim.faults.unknownNames !== undefined ? { unknownNames: sim.faults.unknownNames } : {}) });
    const base = graphBase(request);
    const head: Record<string, unknown> = {
      '@odata.context': `${base}/${call.version}/$metadata#Collection(microsoft.graph.${spec.jsonType})`,
    };
    if (end < source.count) {
      const path = request.url.split('?', 1)[0];
      const next = signer.sign({ typ: 'skip', s: scope, o: end });
      head['@odata.nextLink'] = `${base}${path}?$format=application/json${top !== undefined ? `&$top=${top}` : ''}&$skiptoken=${next}`;
    }
    const truncateAfter = sim.faults.truncateAfterRows;
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

  // --- Download host -----------------------------------------------------------------------------------------

  download.setNotFoundHandler((_request, reply) => sendGraphError(reply, 404, 'NotFound', 'No such download.'));
  download.get('/data/:version/download', async (request, reply) => {
    if (request.headers.authorization !== undefined) {
      stats.downloadsWithAuthorization++;
      return sendGraphError(reply, 400, 'BadRequest', 'Pre-authenticated download URLs must be requested without an Authorization header.');
    }
    const token = (request.query as { token?: string }).token ?? '';
    const claims = signer.verify(token);
    const now = Math.floor(Date.now() / 1000);
    if (claims === undefined || claims.typ !== 'download') return sendGraphError(reply, 401, 'InvalidAuthenticationToken', 'The download token is invalid.');
    if ((claims.exp as number) <= now) return sendGraphError(reply, 403, 'TokenExpired', 'The download link has expired.');
    const spec = findReport(String(claims.ent));
    if (spec === undefined) return sendGraphError(reply, 404, 'NotFound', 'No such report.');
    if (injectedFailure(reply)) return reply;
    if (sim.faults.downloadRedirectLocation !== undefined) {
      return reply.code(302).header('Location', sim.faults.downloadRedirectLocation).type('text/plain').send('');
    }
    const call: ReportCall = {
      version: claims.tver as ApiVersion, report: spec,
      ...(claims.agg !== '' ? { period: claims.agg as ReportCall['period'] } : {}),
      ...(claims.date !== '' ? { date: String(claims.date) } : {}),
    };
    const window = windowOf(call) as ReportWindow;
    stats.downloads[spec.name] = (stats.downloads[spec.name] ?? 0) + 1;
    if (sim.faults.slowFirstByteMs !== undefined) await sleep(sim.faults.slowFirstByteMs);
    const source = reportSource(tenant, spec, window);
    const renderer = new ReportRenderer(tenant, spec, { concealed: claims.concealed === true, extraColumn: sim.faults.extraColumn === true, ...(sim.faults.unknownNames !== undefined ? { unknownNames: sim.faults.unknownNames } : {}) });
    const { truncateAfterRows, malformedRowAt } = sim.faults;
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

  const graphAddress = await graph.listen({ host, port: options.port ?? 0 });
  const downloadAddress = await download.listen({ host, port: options.downloadPort ?? 0 });
  downloadUrl = downloadAddress;
  loginUrl = await login.listen({ host, port: options.loginPort ?? 0 });
  Object.assign(sim, {
    graphUrl: graphAddress, downloadUrl: downloadAddress, tokenUrl: `${graphAddress}/${tenant.tenantId}/oauth2/v2.0/token`,
    loginUrl, entraTokenUrl: `${loginUrl}/${tenant.tenantId}/oauth2/v2.0/token`,
    imdsUrl: graphAddress, appServiceEndpoint: `${graphAddress}/msi/token`,
  });
  return sim;
}
