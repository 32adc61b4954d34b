/**
 * The one place where failures become responses: every error a request can meet (its class and code from
 * src/errors/catalogue.ts) is mapped to a status and a Graph-shaped body written in our words. Upstream bodies,
 * cell values, invariant messages and stack traces never reach a consumer.
 */
import type { FastifyReply } from 'fastify';
import { InternalInvariantError, ProductError, type ResponseCode } from '../errors/catalogue.js';
import { graphErrorBody } from '../catalogue/errors.js';
import { quotedIdentifier } from '../catalogue/odata.js';
import { NoisyReleaseRefused } from '../cohort/cohort-releases.js';
import { CohortTableUnverifiable } from '../cohort/attacker-decomposition.js';
import { ConcealedNamesError } from '../cohort/directory.js';
import { PeriodsRefreshing } from '../cohort/release.js';
import { RefreshPatternsEvicted } from '../cohort/tables-made.js';
import { UpstreamError } from '../graph/upstream-error.js';
import { MissingColumnError, SanitizeError } from '../sanitize/errors.js';
import { OrganizationTooSmallError } from '../score/org-scores.js';

/** A refusal decided by the proxy itself (auth, policy, request grammar). */
export class ProxyRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: ResponseCode,
    message: string,
    readonly retryAfterSeconds?: number,
    /** Close the connection after the answer (a request body that must not be read). */
    readonly closeConnection = false,
  ) {
    super(message);
    this.name = 'ProxyRefusal';
  }
}

export interface ErrorResponse {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly retryAfterSeconds?: number;
  readonly closeConnection?: boolean;
  /** The error's own code, for the audit log. */
  readonly cause: string;
}

/** The 500 every unexpected failure gets: the same words whatever it was; `cause` only goes to the audit log. */
const INTERNAL = (cause: string): ErrorResponse => ({ status: 500, code: 'InternalServerError', message: 'The proxy failed while handling this request; nothing of the report was released.', cause });

export function errorResponse(error: unknown): ErrorResponse {
  if (error instanceof ProxyRefusal) {
    return {
      status: error.status, code: error.code, message: error.message, cause: error.code,
      ...(error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {}),
      ...(error.closeConnection ? { closeConnection: true } : {}),
    };
  }
  if (error instanceof UpstreamError) {
    const cause = `Upstream${error.code}`;
    switch (error.code) {
      case 'Throttled':
        return { status: 429, code: 'TooManyRequests', message: 'Microsoft Graph is throttling report requests; try again later.', retryAfterSeconds: error.retryAfterSeconds ?? 60, cause };
      case 'Unavailable':
        return { status: 503, code: 'ServiceUnavailable', message: 'Microsoft Graph is unavailable; try again later.', retryAfterSeconds: error.retryAfterSeconds ?? 30, cause };
      case 'Timeout':
        return { status: 504, code: 'GatewayTimeout', message: 'Microsoft Graph did not answer in time.', cause };
      case 'Refused': {
        // Only what was observed: Graph's status and, when it is one of Graph's documented codes, that code.
        const observed = `HTTP ${error.upstreamStatus ?? 'error'}${error.graphCode !== undefined ? `, ${error.graphCode}` : ''}`;
        if (error.stage === 'download') {
          return { status: 502, code: 'BadGateway', message: `Microsoft Graph accepted the request, but its download host refused the report download (HTTP ${error.upstreamStatus ?? 'error'}).`, cause };
        }
        if (error.stage === 'nextPage') {
          return { status: 502, code: 'BadGateway', message: `Microsoft Graph refused a later page of this report (${observed}).`, cause };
        }
        if (error.upstreamStatus === 401 || error.upstreamStatus === 403) {
          return { status: 502, code: 'BadGateway', message: `Microsoft Graph refused the proxy's own access (${observed}).`, cause };
        }
        if (error.upstreamStatus === 400 || error.upstreamStatus === 404) {
          return { status: error.upstreamStatus, code: error.graphCode ?? (error.upstreamStatus === 404 ? 'NotFound' : 'BadRequest'), message: `Microsoft Graph refused this request (${observed}).`, cause };
        }
        return { status: 502, code: 'BadGateway', message: `Microsoft Graph refused the proxy's request (${observed}).`, cause };
      }
      default:
        return { status: 502, code: 'BadGateway', message: 'The proxy could not read a complete, valid report from Microsoft Graph.', cause };
    }
  }
  if (error instanceof NoisyReleaseRefused) {
    return error.code === 'PrivacyBudgetExhausted'
      ? { status: 403, code: 'PrivacyBudgetExhausted', message: error.message, cause: 'PrivacyBudgetExhausted' }
      : { status: 503, code: 'ServiceUnavailable', message: error.message, cause: 'ServiceUnavailable' };
  }
  if (error instanceof PeriodsRefreshing) {
    return { status: 503, code: 'ServiceUnavailable', message: "Microsoft Graph has not yet refreshed all the periods of this report that are released as one table, so nothing of it is released now; try again later.", retryAfterSeconds: error.retryAfterSeconds, cause: 'PeriodsRefreshing' };
  }
  if (error instanceof RefreshPatternsEvicted) {
    // Not the error's own message: it names a report and a date the consumer may not be released.
    return { status: 503, code: 'ServiceUnavailable', message: "This proxy runs without a store, and what its earlier releases of this report's data hid is no longer in memory, so nothing more of it is released until Microsoft Graph's next refresh. The operator can configure a store (the budget ledger file or Redis).", cause: 'RefreshPatternsEvicted' };
  }
  if (error instanceof OrganizationTooSmallError) {
    return { status: 422, code: 'OrganizationTooSmall', message: error.message, cause: 'OrganizationTooSmall' };
  }
  if (error instanceof CohortTableUnverifiable) {
    // Not the error's own message: how many cells are linked depends on the data (the suppression pattern).
    return { status: 409, code: 'CohortsUnavailable', message: "This cohort table's protection cannot be verified (its suppressed cells are linked across a cross of three attributes, or an attribute in several crosses, beyond what the attacker check solves), so nothing of it is released. The policy should declare fewer or smaller crosses.", cause: 'CohortTableUnverifiable' };
  }
  if (error instanceof ConcealedNamesError) {
    return { status: 409, code: 'CohortsUnavailable', message: error.message, cause: 'ConcealedNames' };
  }
  if (error instanceof MissingColumnError) {
    return { status: 502, code: 'BadGateway', message: `The report from Microsoft Graph has no column '${error.column}', which ${error.neededBy === 'the policy' ? "this consumer's policy" : error.neededBy} needs, so nothing of it is released.`, cause: 'SanitizeMissingColumn' };
  }
  if (error instanceof SanitizeError) {
    return { status: 502, code: 'BadGateway', message: 'The report from Microsoft Graph could not be sanitised, so nothing of it is released.', cause: `Sanitize${error.code}` };
  }
  if (error instanceof InternalInvariantError) return INTERNAL('InternalInvariant');
  // Any other error of ours that reaches a request is a failure of the proxy, named in the audit log by its code.
  if (error instanceof ProductError) return INTERNAL(error.code);
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // fastify's own refusals (unreadable request, unsupported media type): its code names the rule, not the input.
    return { status, code: 'BadRequest', message: 'The request could not be read.', cause: String((error as { code?: string }).code ?? 'FastifyError') };
  }
  return INTERNAL('Internal');
}


/**
 * A name from the request (a dimension in `by=`) as an error message may quote it: quoted when it could be a
 * dimension's name (OData identifiers joined by ' x ', as `department x officeLocation`; at most 64 characters),
 * else "a name that is no dimension": a refusal never echoes other request text (a person's name, an address,
 * markup, a long string) into its body (red team, test/redteam/request-text-echo.test.ts).
 */
export function quotedName(name: string): string {
  const trimmed = name.trim();
  const dimension = trimmed.length <= 64 && trimmed.split(' x ').every((part) => quotedIdentifier(part) !== undefined);
  return dimension ? `'${trimmed}'` : 'a name that is no dimension';
}

export function sendError(reply: FastifyReply, response: Pick<ErrorResponse, 'status' | 'code' | 'message' | 'retryAfterSeconds' | 'closeConnection'>): FastifyReply {
  if (response.retryAfterSeconds !== undefined) reply.header('retry-after', String(response.retryAfterSeconds));
  // Node would otherwise read (and discard) the rest of an unread body to reuse the connection.
  if (response.closeConnection === true) reply.header('connection', 'close');
  return reply.code(response.status).type('application/json').header('cache-control', 'no-store').send(graphErrorBody(response.code, response.message, reply.request.id, String(reply.getHeader('client-request-id') ?? reply.request.id)));
}
