/** Graph's error body: `{"error":{"code","message","innerError":{...}}}`, as every Graph endpoint returns it. */
import { randomUUID } from 'node:crypto';

export interface GraphErrorBody {
  error: {
    code: string;
    message: string;
    innerError: { date: string; 'request-id': string; 'client-request-id': string };
  };
}

/** `clientRequestId` is the caller's `client-request-id` header when it sent one; Graph repeats the request id otherwise. */
export function graphErrorBody(code: string, message: string, requestId: string = randomUUID(), clientRequestId: string = requestId): GraphErrorBody {
  return {
    error: {
      code,
      message,
      innerError: {
        date: new Date().toISOString().slice(0, 19),
        'request-id': requestId,
        'client-request-id': clientRequestId,
      },
    },
  };
}

/**
 * The error codes Graph documents (concepts/errors.md, and the codes the reports API is seen to return in
 * ../shared/graph-reports.md "Error body"). Only these are passed on to a consumer: an upstream code outside the
 * list is not shown, because a code is the one part of Graph's error body the proxy repeats.
 */
export const GRAPH_ERROR_CODES: ReadonlySet<string> = new Set([
  'accessDenied', 'activityLimitReached', 'generalException', 'invalidRange', 'invalidRequest', 'itemNotFound',
  'notAllowed', 'notSupported', 'quotaLimitReached', 'serviceNotAvailable', 'unauthenticated',
  'BadRequest', 'InvalidArgument', 'NotFound', 'Forbidden', 'UnknownError', 'TooManyRequests', 'ServiceUnavailable',
  'S2SUnauthorized', 'MissingCredentials', 'InvalidAuthenticationToken', 'Authorization_RequestDenied',
  'Request_BadRequest', 'Request_ResourceNotFound',
]);

/**
 * Graph's documented error code in an error body (`{"error":{"code":...}}`), or undefined: when the body is
 * not Graph's shape or the code is not one Graph documents. Nothing else of the body is read.
 */
export function documentedGraphCode(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && GRAPH_ERROR_CODES.has(code) ? code : undefined;
}
