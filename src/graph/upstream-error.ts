/**
 * Failures talking to Entra ID or Graph, as values with a code the HTTP layer maps to a Graph-shaped response
 * in one place. Messages describe what went wrong in our words; an upstream body is never copied into them.
 */
export type UpstreamErrorCode =
  /** No access token could be obtained (bad credentials, token endpoint down). */
  | 'TokenUnavailable'
  /** Graph kept answering 429 (or 503) beyond the bounded retry budget. */
  | 'Throttled'
  | 'Unavailable'
  /** Graph refused the request itself (4xx other than 429). */
  | 'Refused'
  /** The 302 pointed somewhere not on the download allow-list, or redirected again. */
  | 'RedirectRefused'
  | 'Timeout'
  /** The body broke off or did not match what was announced. */
  | 'Truncated'
  /** Graph answered something we cannot use (no Location on a 302, not JSON where JSON was due). */
  | 'BadResponse';

/**
 * Which step of reading a report failed: Graph's answer to the report request, a later page of it (Graph's own
 * `$skiptoken`), or the download host behind Graph's 302 (not Graph: its refusal says nothing about the request).
 */
export type UpstreamStage = 'request' | 'nextPage' | 'download';

export class UpstreamError extends Error {
  constructor(
    readonly code: UpstreamErrorCode,
    message: string,
    /** Graph's status, where there was one. */
    readonly upstreamStatus?: number,
    /** Seconds a consumer should wait before trying again (Throttled, Unavailable). */
    readonly retryAfterSeconds?: number,
    /** Graph's error code, when its body carried one Graph documents (`GRAPH_ERROR_CODES`). */
    readonly graphCode?: string,
    readonly stage: UpstreamStage = 'request',
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}
