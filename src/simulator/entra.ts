/**
 * The simulated tenant's Entra ID: the client-credentials token endpoint (client secret, certificate-signed
 * client assertion checked against the app's registered certificate, or a federated token from the simulated
 * workload-identity issuer), its OpenID configuration, and the managed-identity endpoints (IMDS and App
 * Service): the simulator's token plugin, registered on the login host (HTTPS, as Microsoft's library requires)
 * and on the Graph host.
 */
import { createHash, createPublicKey, randomUUID, timingSafeEqual, verify, constants, X509Certificate, type KeyObject } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { printable } from '../catalogue/odata.js';
import type { GrantKind, SimulatorState } from './state.js';

export interface EntraRoutesOptions {
  readonly state: SimulatorState;
  /** The host's own base URL for a request (client assertions must be addressed to it). */
  readonly base: (request: FastifyRequest) => string;
}

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const FEDERATED_AUDIENCE = 'api://AzureADTokenExchange';

function sameSecret(given: unknown, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return typeof given === 'string' && timingSafeEqual(digest(given), digest(expected));
}

function aadError(reply: FastifyReply, status: number, error: string, code: number, description: string): FastifyReply {
  const trace = randomUUID();
  return reply.code(status).send({
    error,
    error_description: `AADSTS${code}: ${description} Trace ID: ${trace} Correlation ID: ${trace} Timestamp: ${new Date().toISOString()}`,
    error_codes: [code],
    timestamp: new Date().toISOString().replace('T', ' ').slice(0, 19) + 'Z',
    trace_id: trace,
    correlation_id: trace,
  });
}

function decodeJwt(token: string): { header: Record<string, unknown>; claims: Record<string, unknown>; signed: string; signature: Buffer } | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as unknown;
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown;
    if (typeof header !== 'object' || header === null || typeof claims !== 'object' || claims === null) return undefined;
    return { header: header as Record<string, unknown>, claims: claims as Record<string, unknown>, signed: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2]!, 'base64url') };
  } catch {
    return undefined;
  }
}

/** Verifies an RS256 or PS256 signature with the registered certificate's key. */
function signedBy(jwt: NonNullable<ReturnType<typeof decodeJwt>>, key: KeyObject): boolean {
  const data = Buffer.from(jwt.signed);
  if (jwt.header.alg === 'RS256') return verify('sha256', data, key, jwt.signature);
  if (jwt.header.alg === 'PS256') return verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, jwt.signature);
  return false;
}

/** The token plugin: Entra's token, OpenID configuration and managed-identity endpoints over the tenant's state. */
export async function entraRoutes(app: FastifyInstance, { state, base }: EntraRoutesOptions): Promise<void> {
  const clientCertificate = state.certificates.client.cert;
  const certificateKey = createPublicKey(clientCertificate);
  const thumbprint = Buffer.from(new X509Certificate(clientCertificate).fingerprint.replace(/:/g, ''), 'hex').toString('base64url');
  const thumbprint256 = Buffer.from(new X509Certificate(clientCertificate).fingerprint256.replace(/:/g, ''), 'hex').toString('base64url');

  // Token requests are form-encoded (RFC 6749 section 4.4); only this plugin's routes read such bodies.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 65536 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  function fault(reply: FastifyReply): boolean {
    const f = state.faults.token;
    if (f === undefined || f.remaining <= 0) return false;
    f.remaining--;
    if (f.retryAfterSeconds !== undefined) reply.header('Retry-After', String(f.retryAfterSeconds));
    if (f.status === 429) aadError(reply, 429, 'temporarily_unavailable', 50196, 'The server is throttling requests.');
    else aadError(reply, f.status, 'temporarily_unavailable', 90033, 'A transient error has occurred. Please try again.');
    return true;
  }

  function accessToken(kind: GrantKind): { token: string; lifetime: number } {
    const now = Math.floor(Date.now() / 1000);
    state.stats.tokensIssued++;
    state.stats.tokensByGrant[kind] = (state.stats.tokensByGrant[kind] ?? 0) + 1;
    const token = state.signer.sign({
      typ: 'access', aud: 'https://graph.microsoft.com', tid: state.tenant.tenantId, appid: state.clientId,
      roles: ['Reports.Read.All', 'ReportSettings.ReadWrite.All', 'User.Read.All'], iat: now, nbf: now, exp: now + state.tokenLifetimeSeconds,
      jti: randomUUID(), gen: state.tokenGeneration, grant: kind,
    });
    return { token, lifetime: state.tokenLifetimeSeconds };
  }

  app.post('/:tenant/oauth2/v2.0/token', async (request, reply) => {
    const { tenant: tenantParam } = request.params as { tenant: string };
    if (tenantParam !== state.tenant.tenantId && tenantParam.toLowerCase() !== state.tenant.domain) {
      return aadError(reply, 400, 'invalid_request', 90002, `Tenant '${printable(tenantParam, 60)}' not found.`);
    }
    if (fault(reply)) return reply;
    const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<string, string>;
    if (body.grant_type !== 'client_credentials') return aadError(reply, 400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    if (typeof body.scope !== 'string' || !body.scope.endsWith('/.default')) {
      return aadError(reply, 400, 'invalid_scope', 1002012, 'The provided value for scope is not valid; use https://graph.microsoft.com/.default.');
    }
    if (body.client_id !== state.clientId) return aadError(reply, 400, 'unauthorized_client', 700016, 'Application was not found in the directory.');
    let kind: GrantKind;
    if (body.client_assertion !== undefined) {
      if (body.client_assertion_type !== ASSERTION_TYPE) return aadError(reply, 400, 'invalid_request', 50027, 'Invalid client assertion type.');
      const jwt = decodeJwt(body.client_assertion);
      const now = Math.floor(Date.now() / 1000);
      if (jwt === undefined) return aadError(reply, 401, 'invalid_client', 50027, 'The client assertion is not a valid JWT.');
      if (typeof jwt.claims.exp !== 'number' || jwt.claims.exp <= now) return aadError(reply, 401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');
      if (jwt.header.x5t !== undefined || jwt.header['x5t#S256'] !== undefined) {
        // A certificate credential: signed by the key of the certificate registered on the app, addressed to this endpoint.
        if (jwt.header.x5t !== thumbprint && jwt.header['x5t#S256'] !== thumbprint256) return aadError(reply, 401, 'invalid_client', 700027, 'The certificate with the given thumbprint is not registered on the app.');
        if (!signedBy(jwt, certificateKey)) return aadError(reply, 401, 'invalid_client', 700027, 'Client assertion failed signature validation.');
        if (jwt.claims.iss !== state.clientId || jwt.claims.sub !== state.clientId) return aadError(reply, 401, 'invalid_client', 700023, 'The client assertion must name the app as issuer and subject.');
        if (jwt.claims.aud !== `${base(request)}/${tenantParam}/oauth2/v2.0/token` && jwt.claims.aud !== `${base(request)}/${tenantParam}/v2.0`) {
          return aadError(reply, 401, 'invalid_client', 700212, 'The audience of the client assertion is not this token endpoint.');
        }
        kind = 'certificate';
      } else {
        // Workload identity federation: a token from the issuer the app trusts, for Entra's exchange audience.
        const claims = state.signer.verify(body.client_assertion);
        if (claims === undefined || claims.typ !== 'federated') return aadError(reply, 401, 'invalid_client', 700211, 'No matching federated identity record found for presented assertion issuer.');
        if (claims.iss !== state.federationIssuer || claims.aud !== FEDERATED_AUDIENCE) return aadError(reply, 401, 'invalid_client', 700212, 'No matching federated identity record found for presented assertion audience.');
        kind = 'federated';
      }
    } else {
      if (!sameSecret(body.client_secret, state.clientSecret)) return aadError(reply, 401, 'invalid_client', 7000215, 'Invalid client secret provided.');
      kind = 'secret';
    }
    const { token, lifetime } = accessToken(kind);
    return { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: token };
  });

  app.get('/:tenant/v2.0/.well-known/openid-configuration', async (request) => {
    const root = `${base(request)}/${state.tenant.tenantId}`;
    return {
      token_endpoint: `${root}/oauth2/v2.0/token`, issuer: `${root}/v2.0`, authorization_endpoint: `${root}/oauth2/v2.0/authorize`,
      jwks_uri: `${root}/discovery/v2.0/keys`, end_session_endpoint: `${root}/oauth2/v2.0/logout`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      tenant_region_scope: 'EU',
    };
  });

  /** The managed-identity answer (IMDS and App Service use the same shape: times as strings of seconds). */
  function identityToken(request: FastifyRequest, reply: FastifyReply, kind: GrantKind) {
    if (fault(reply)) return reply;
    const query = request.query as Record<string, string | undefined>;
    const resource = query.resource ?? '';
    if (!resource.startsWith('https://graph.microsoft.com')) return reply.code(400).send({ error: 'invalid_resource', error_description: 'Identity not found for this resource.' });
    const clientId = query.client_id ?? query.clientid;
    if (clientId !== undefined && clientId !== state.clientId) return reply.code(400).send({ error: 'invalid_request', error_description: 'Identity not found.' });
    const { token, lifetime } = accessToken(kind);
    const now = Math.floor(Date.now() / 1000);
    return { access_token: token, client_id: state.clientId, expires_in: String(lifetime), expires_on: String(now + lifetime), ext_expires_in: String(lifetime), not_before: String(now), resource, token_type: 'Bearer' };
  }

  // IMDS, as on an Azure VM: a GET that must carry `Metadata: true` (a browser cannot be tricked into sending it).
  // (MSAL asks for the path with a trailing slash, which IMDS accepts.)
  for (const path of ['/metadata/identity/oauth2/token', '/metadata/identity/oauth2/token/']) {
    app.get(path, async (request, reply) => {
      if (request.headers.metadata !== 'true') return reply.code(400).send({ error: 'invalid_request', error_description: 'Required metadata header not specified' });
      return identityToken(request, reply, 'imds');
    });
  }
  // App Service and Functions: the endpoint and header the platform puts into IDENTITY_ENDPOINT and IDENTITY_HEADER.
  app.get('/msi/token', async (request, reply) => {
    if (!sameSecret(request.headers['x-identity-header'], state.identityHeader)) return reply.code(401).send({ error: 'unauthorized', error_description: 'The identity header is missing or wrong.' });
    return identityToken(request, reply, 'appService');
  });
}
