/** Consumer authentication: `Authorization: Bearer <key>` mapped to a consumer id through hashed keys. */
import type { FastifyRequest } from 'fastify';
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

export function requireConsumer(request: FastifyRequest, keys: ConsumerKeys): string {
  const consumer = presentedConsumer(request, keys);
  if (consumer === undefined) throw new ProxyRefusal(401, 'InvalidAuthenticationToken', 'Access token is empty: send Authorization: Bearer <API key>.');
  return consumer;
}
