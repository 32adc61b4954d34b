/**
 * The simulated Graph tenant as real HTTP servers: a Graph host (Entra token endpoint, usage reports v1.0 and
 * beta, /users, /admin/reportSettings, test controls), a separate download host that serves the CSV behind
 * Graph's 302, and an HTTPS login host (Entra ID). Each host is composed of route plugins over one state
 * object (./state.ts); this module only builds the hosts, registers the plugins and listens.
 * Behaviour follows ../shared/graph-reports.md.
 */
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { controlRoutes } from './control-routes.js';
import { downloadRoutes } from './download-routes.js';
import { entraRoutes, FEDERATED_AUDIENCE } from './entra.js';
import { reportRoutes } from './report-routes.js';
import { graphBase, sendGraphError } from './request-checks.js';
import { createSimulatorState, expireTokens, type SimulatorFaults, type SimulatorSettings, type SimulatorStats } from './state.js';
import type { SimulatedTenant } from './tenant.js';
import { userRoutes } from './user-routes.js';

export type { SimulatorFaults, SimulatorStats } from './state.js';

export interface SimulatorOptions extends SimulatorSettings {
  host?: string;
  /** Graph host port (0: any free port). */
  port?: number;
  /** Download host port (0: any free port). */
  downloadPort?: number;
  /** Login host (Entra ID over HTTPS) port (0: any free port, the default). */
  loginPort?: number;
}

export interface RunningSimulator {
  readonly tenant: SimulatedTenant;
  /** Base URL of the Graph host, e.g. http://127.0.0.1:4010 (reports under /v1.0 and /beta). */
  readonly graphUrl: string;
  readonly downloadUrl: string;
  /** The client-credentials token endpoint for this tenant on the Graph host (plain HTTP, for curl and tests). */
  readonly tokenUrl: string;
  /** The login host (Entra ID over HTTPS, as Microsoft's library requires), e.g. https://127.0.0.1:40123. */
  readonly loginUrl: string;
  /** The token endpoint on the login host: what GPP_TOKEN_URL names. */
  readonly entraTokenUrl: string;
  /** The login host's certificate (PEM, self-signed): the CA a client must trust (NODE_EXTRA_CA_CERTS). */
  readonly authorityCa: string;
  /** The app registration's certificate credential: PEM private key and certificate in one. */
  readonly clientCertificatePem: string;
  /** Managed identity: the IMDS base URL (AZURE_POD_IDENTITY_AUTHORITY_HOST) and App Service's endpoint and header. */
  readonly imdsUrl: string;
  readonly appServiceEndpoint: string;
  readonly identityHeader: string;
  /** A federated token (workload identity) from the issuer the app trusts, valid `seconds` (default 3600). */
  federatedToken(seconds?: number): string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The fault switches the plugins read (the state's own: assigning replaces them for every host). */
  faults: SimulatorFaults;
  readonly stats: SimulatorStats;
  /** Graph's concealed-names setting, as /admin/reportSettings reads and changes it. */
  concealedNames: boolean;
  /** Invalidates every access token issued so far (an "expired token mid-run"). */
  expireTokens(): void;
  close(): Promise<void>;
}

/** Starts the three hosts of a fresh simulated tenant on `host` (127.0.0.1 by default). */
export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const state = await createSimulatorState(options);
  const host = options.host ?? '127.0.0.1';

  // Malformed URLs and the like are refused in Graph's shape too, before any route runs.
  const frameworkErrors = (_error: Error, _request: FastifyRequest, reply: FastifyReply) =>
    sendGraphError(reply, 400, 'BadRequest', 'The request URL is malformed.');
  const graph = Fastify({ logger: false, frameworkErrors });
  const download = Fastify({ logger: false, frameworkErrors });
  const login = Fastify({ logger: false, https: { key: state.certificates.login.key, cert: state.certificates.login.cert } });

  graph.setNotFoundHandler((_request, reply) =>
    sendGraphError(reply, 404, 'UnknownError', `No HTTP resource was found that matches the request URI.`),
  );
  graph.setErrorHandler((error: { statusCode?: number }, _request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    return sendGraphError(reply, status, status === 500 ? 'InternalServerError' : 'BadRequest', 'The request could not be processed.');
  });

  void login.register(entraRoutes, { state, base: () => state.loginUrl });
  void graph.register(entraRoutes, { state, base: graphBase });
  void graph.register(reportRoutes, { state });
  void graph.register(userRoutes, { state });
  void graph.register(controlRoutes, { state });
  void download.register(downloadRoutes, { state });

  const graphUrl = await graph.listen({ host, port: options.port ?? 0 });
  state.downloadUrl = await download.listen({ host, port: options.downloadPort ?? 0 });
  state.loginUrl = await login.listen({ host, port: options.loginPort ?? 0 });
  return {
    tenant: state.tenant,
    graphUrl,
    downloadUrl: state.downloadUrl,
    tokenUrl: `${graphUrl}/${state.tenant.tenantId}/oauth2/v2.0/token`,
    loginUrl: state.loginUrl,
    entraTokenUrl: `${state.loginUrl}/${state.tenant.tenantId}/oauth2/v2.0/token`,
    authorityCa: state.certificates.login.cert,
    clientCertificatePem: `${state.certificates.client.key}${state.certificates.client.cert}`,
    imdsUrl: graphUrl,
    appServiceEndpoint: `${graphUrl}/msi/token`,
    identityHeader: state.identityHeader,
    federatedToken(seconds = 3600) {
      const now = Math.floor(Date.now() / 1000);
      return state.signer.sign({ typ: 'federated', iss: state.federationIssuer, sub: 'system:serviceaccount:graph-privacy-proxy:proxy', aud: FEDERATED_AUDIENCE, iat: now, exp: now + seconds });
    },
    clientId: state.clientId,
    clientSecret: state.clientSecret,
    get faults() {
      return state.faults;
    },
    set faults(faults: SimulatorFaults) {
      state.faults = faults;
    },
    stats: state.stats,
    get concealedNames() {
      return state.concealedNames;
    },
    set concealedNames(concealed: boolean) {
      state.concealedNames = concealed;
    },
    expireTokens: () => expireTokens(state),
    async close() {
      await Promise.all([graph.close(), download.close(), login.close()]);
    },
  };
}
