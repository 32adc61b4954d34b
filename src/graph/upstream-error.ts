/**
 * Failures talking to Entra ID or Graph, as values with a code the HTTP layer maps to a Graph-shaped response
 * in one place. Messages describe what went wrong in our words; an upstream body is never copied into them.
 */
import { ProductError, type UpstreamErrorCode } from '../errors/catalogue.js';

export type { UpstreamErrorCode } from '../errors/catalogue.js';

/**
 * Which step of reading a report failed: Graph's answer to the report request, a later page of it (Graph's own
 * `$skiptoken`), or the download host behind Graph's 302 (not Graph: its refusal says nothing about the request).
 */
export type UpstreamStage = 'request' | 'nextPage' | 'download';

export class UpstreamError extends ProductError<UpstreamErrorCode> {
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
