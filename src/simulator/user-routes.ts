/**
 * The simulated tenant's directory: Graph's `/users` listing (v1.0 and beta) with `$select`, `$top` and signed
 * `$skiptoken` paging, refusing unknown properties and page sizes as Graph does; deleted users are absent.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiVersion } from '../catalogue/catalogue.js';
import { printable } from '../catalogue/odata.js';
import { authorised, graphBase, injectedFailure, sendGraphError, skipOffset, skipToken } from './request-checks.js';
import type { SimulatorState } from './state.js';

const USER_PROPERTIES = [
  'id', 'displayName', 'givenName', 'surname', 'userPrincipalName', 'mail', 'department', 'officeLocation',
  'city', 'country', 'companyName', 'jobTitle', 'accountEnabled',
] as const;
const DEFAULT_USER_SELECT = ['id', 'displayName', 'givenName', 'surname', 'userPrincipalName', 'mail', 'jobTitle', 'officeLocation'];

/** The users plugin. */
export async function userRoutes(app: FastifyInstance, { state }: { readonly state: SimulatorState }): Promise<void> {
  const { tenant } = state;

  async function usersPage(request: FastifyRequest, reply: FastifyReply, version: ApiVersion): Promise<FastifyReply | object> {
    if (authorised(state, request, reply) === undefined) return reply;
    if (injectedFailure(state, reply)) return reply;
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
    const offset = skipOffset(state, url.searchParams.get('$skiptoken'), 'users');
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
        ? { '@odata.nextLink': `${graphBase(request)}/${version}/users?$select=${select.join(',')}&$top=${top}&$skiptoken=${skipToken(state, 'users', next)}` }
        : {}),
    };
  }

  for (const version of ['v1.0', 'beta'] as const) {
    app.get(`/${version}/users`, async (request, reply) => usersPage(request, reply, version));
  }
}
