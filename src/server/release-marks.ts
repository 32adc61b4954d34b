/**
 * How a response says which release it carries: a release served stale (the consumer's privacy budget is
 * spent, so it gets its last release, never a fresh one) carries `x-gpp-release-stale: true`; fresh ones say
 * `false`. The JSON bodies carry the same as a field (`stale`, or `@graphPrivacyProxy.stale` on the report URL).
 */
import type { FastifyReply } from 'fastify';

export const STALE_HEADER = 'x-gpp-release-stale';

export function markRelease(reply: FastifyReply, release: { readonly stale: boolean }): void {
  reply.header(STALE_HEADER, release.stale ? 'true' : 'false');
}
