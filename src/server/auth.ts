/** Consumer authentication: `Authorization: Bearer <key>` mapped to a consumer id through hashed keys. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ReportCall, ReportFormat } from '../catalogue/odata.js';
import { decideReport, type ReportDecision } from '../policy/decide.js';
import type { LoadedPolicy, PolicySet } from '../policy/load.js';
import type { ResolvedPolicy } from '../policy/schema.js';
import type { ConsumerKeys } from './consumer-keys.js';
import { ProxyRefusal } from './errors.js';

/** The consumer a request's bearer key names; undefined when it carries no Authorization header at all. */
export function presentedConsumer(request: FastifyRequest, keys: ConsumerKeys): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const m = /^Bearer\s+(\S{1,512})\s*$/i.exec(header);
  const found = m === null ? undefined : keys.lookup(m[1]!);
  if (found === undefined) throw new ProxyRefusal(401, 'InvalidAuthenticationToken', 'The API key is missing, malformed or not valid.');
  if ('expired' in found) throw new ProxyRefusal(401, 'InvalidAuthenticationToken', 'The API key has expired; the tool needs the replacement key it was given.');
  return found.consumer;
}

/** A permission a policy can grant beyond reports (`permissions:` in the policy). */
export type PolicyPermission = ResolvedPolicy['permissions'][number];

/**
 * The consumer's policy when it grants `permission`; otherwise a 403 saying that the policy does not grant
 * `what` (e.g. 'the org score'). The one check behind /org-score, /policy/preview and the dashboard.
 */
export function grantingPolicy(set: PolicySet, consumer: string, permission: PolicyPermission, what: string): LoadedPolicy {
  const loaded = set.policyFor(consumer);
  if (loaded === undefined || !loaded.policy.permissions.includes(permission)) throw new ProxyRefusal(403, 'Forbidden', `The policy for this consumer does not grant ${what}.`);
  return loaded;
}

/**
 * The consumer of a page a browser opens (the dashboard): its key as a bearer token, or as the password of
 * HTTP Basic (any user name), which a browser asks for after the 401's WWW-Authenticate. The consumer's policy
 * must grant `permission`. Throws `ProxyRefusal` 401 (no or a wrong key) or 403 (not granted).
 */
export function requirePageViewer(request: FastifyRequest, reply: FastifyReply, keys: ConsumerKeys, set: PolicySet, permission: PolicyPermission): string {
  reply.header('www-authenticate', 'Basic realm="graph-privacy-proxy dashboard", charset="UTF-8"');
  const basic = /^Basic\s+([A-Za-z0-9+/=]{1,1024})\s*$/i.exec(request.headers.authorization ?? '');
  let consumer: string | undefined;
  if (basic !== null) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const found = decoded.includes(':') ? keys.lookup(decoded.slice(decoded.indexOf(':') + 1)) : undefined;
    if (found === undefined || 'expired' in found) throw new ProxyRefusal(401, 'InvalidAuthenticationToken', 'The API key is missing, malformed or not valid.');
    consumer = found.consumer;
  } else {
    consumer = requireConsumer(request, keys);
  }
  grantingPolicy(set, consumer, permission, 'the org score, which this page shows');
  return consumer;
}

/** Whether the request carries `Authorization: Bearer <token>` for `token` (compared as SHA-256 digests, in constant time). */
export function presentsToken(request: FastifyRequest, token: string): boolean {
  const m = /^Bearer\s+(\S{1,512})\s*$/i.exec(request.headers.authorization ?? '');
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(m?.[1] ?? ''), digest(token)) && m !== null;
}

export function requireConsumer(request: FastifyRequest, keys: ConsumerKeys): string {
  const consumer = presentedConsumer(request, keys);
  if (consumer === undefined) throw new ProxyRefusal(401, 'InvalidAuthenticationToken', 'Access token is empty: send Authorization: Bearer <API key>.');
  return consumer;
}

/**
 * The opening of every consumer route: the consumer (`requireConsumer`: 401 without a valid key) and the live
 * policy set the request is answered under, read once so a reload mid-request cannot mix two sets; both are named
 * in the audit line, and the set's version in the `x-policy-version` header.
 */
export function consumerRequest(request: FastifyRequest, reply: FastifyReply, keys: ConsumerKeys, policies: { readonly current: PolicySet }): { consumer: string; set: PolicySet } {
  const consumer = requireConsumer(request, keys);
  const set = policies.current;
  request.audit.consumer = consumer;
  request.audit.policyVersion = set.version;
  reply.header('x-policy-version', set.version);
  return { consumer, set };
}

/** The consumer's decision for a request: rows or cohorts; a denial becomes a 403. */
export function allowedDecision(loaded: LoadedPolicy | undefined, call: ReportCall, format: ReportFormat): Exclude<ReportDecision, { kind: 'denied' }> {
  const decision = decideReport(loaded, { report: call.report, format, ...(call.period !== undefined ? { period: call.period } : {}), ...(call.date !== undefined ? { date: call.date } : {}) });
  if (decision.kind === 'denied') throw new ProxyRefusal(403, 'Forbidden', decision.reason);
  return decision;
}
