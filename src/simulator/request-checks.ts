/**
 * What the simulated Graph routes share: Graph's error answer, the host's own base URL, the bearer-token
 * check, signed skip tokens, and the one-shot 429/503 fault switches.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { graphErrorBody } from '../catalogue/errors.js';
import type { SimulatorState } from './state.js';

export function sendGraphError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).type('application/json').send(graphErrorBody(code, message));
}

/** The base URL the request reached this host by, e.g. http://127.0.0.1:4010 (for @odata links). */
export function graphBase(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/** The claims of the request's valid access token; otherwise answers 401 as Graph does and returns undefined. */
export function authorised(state: SimulatorState, request: FastifyRequest, reply: FastifyReply): Record<string, unknown> | undefined {
  const header = request.headers.authorization;
  if (header === undefined || !/^Bearer\s+\S+/i.test(header)) {
    sendGraphError(reply, 401, 'InvalidAuthenticationToken', 'Access token is empty.');
    return undefined;
  }
  const claims = state.signer.verify(header.replace(/^Bearer\s+/i, '').trim());
  const now = Math.floor(Date.now() / 1000);
  if (claims === undefined || claims.typ !== 'access') {
    sendGraphError(reply, 401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.');
    return undefined;
  }
  if (typeof claims.exp !== 'number' || claims.exp <= now || claims.gen !== state.tokenGeneration) {
    sendGraphError(reply, 401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.');
    return undefined;
  }
  return claims;
}

/** Applies the one-shot 429/503 switches; returns true when the request was answered with a fault. */
export function injectedFailure(state: SimulatorState, reply: FastifyReply): boolean {
  const { throttle, unavailable } = state.faults;
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

/** A skip token for the page starting at `offset` of the listing named `scope`. */
export function skipToken(state: SimulatorState, scope: string, offset: number): string {
  return state.signer.sign({ typ: 'skip', s: scope, o: offset });
}

/** The offset a skip token stands for (0 without one); undefined when forged or made for another listing. */
export function skipOffset(state: SimulatorState, token: string | null | undefined, scope: string): number | undefined {
  if (token === null || token === undefined) return 0;
  const claims = state.signer.verify(token);
  if (claims === undefined || claims.typ !== 'skip' || claims.s !== scope || typeof claims.o !== 'number') return undefined;
  return claims.o;
}
