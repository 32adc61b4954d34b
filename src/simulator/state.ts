/**
 * The one state object of a running simulated tenant: its settings, its keys, and everything that changes
 * while it runs (fault switches, Graph's concealed-names setting, the token generation, Graph's throttling
 * memory, request counters). Every route plugin reads and writes this object and nothing else, so a switch
 * thrown anywhere (the controls, a test's `sim.faults = ...`) changes what every plugin serves.
 */
import { randomBytes } from 'node:crypto';
import { simulatorCertificates, type SimulatorCertificates } from './certificates.js';
import { SimulatedTenant, type TenantOptions } from './tenant.js';
import { TokenSigner } from './tokens.js';

/** Which way a token was obtained, counted in the simulator's stats. */
export type GrantKind = 'secret' | 'certificate' | 'federated' | 'imds' | 'appService';

/** One-shot failures of the token endpoints (and the managed-identity ones): `remaining` answers, then normal. */
export interface TokenFault {
  status: 429 | 500 | 503;
  remaining: number;
  retryAfterSeconds?: number;
}

export interface SimulatorFaults {
  /** The next `remaining` report, users and download requests get 429 with this Retry-After. */
  throttle?: { remaining: number; retryAfterSeconds: number };
  /** The next `remaining` such requests get 503 (with Retry-After when given). */
  unavailable?: { remaining: number; retryAfterSeconds?: number };
  /** Delay before the first byte of report and download responses. */
  slowFirstByteMs?: number;
  /** Downloads and JSON pages break off (connection reset) after this many rows. */
  truncateAfterRows?: number;
  /** The CSV row at this index (0-based) is malformed: an unterminated quote and a missing field. */
  malformedRowAt?: number;
  /** Reports carry one more column than the catalogue knows. */
  extraColumn?: boolean;
  /** About one user in `every` is written as `(Unknown)` (empty display name) in every per-user report. */
  unknownNames?: { every: number };
  /** The 302 points here instead of at the download host (foreign hosts, loops). */
  redirectLocation?: string;
  /** The download host answers with a 302 to here instead of the file (a redirect chain or loop). */
  downloadRedirectLocation?: string;
  /** The token endpoints (login host, Graph host, IMDS, App Service) answer 429/5xx this many times. */
  token?: TokenFault;
}

export interface SimulatorStats {
  tokensIssued: number;
  /** Tokens issued by how they were obtained: secret, certificate, federated, imds, appService. */
  tokensByGrant: Partial<Record<GrantKind, number>>;
  /** Report requests by `${version} ${report} ${format}`. */
  reportRequests: Record<string, number>;
  downloads: Record<string, number>;
  /** Requests to the download host that carried an Authorization header (always refused). */
  downloadsWithAuthorization: number;
}

/** What a simulated tenant is made from (the servers' host and ports are the caller's business). */
export interface SimulatorSettings extends TenantOptions {
  clientId?: string;
  clientSecret?: string;
  /** Access token lifetime in seconds (Entra's default is 3599). */
  tokenLifetimeSeconds?: number;
  /** Download link lifetime in seconds (Graph's is about 120). */
  downloadLinkSeconds?: number;
  /** Graph's concealed-names setting; Graph's default since 2021 is on. */
  concealedNames?: boolean;
  /** Enforce Graph's report throttling: 14 CSV / 100 JSON requests per report per app per 10 minutes. */
  enforceGraphLimits?: boolean;
  /** CSV line ending (Graph's is undocumented; both must be handled). */
  lineEnding?: '\r\n' | '\n';
}

export interface SimulatorState {
  readonly tenant: SimulatedTenant;
  /** Signs and checks every token the tenant hands out: access, download, skip and federated tokens. */
  readonly signer: TokenSigner;
  /** The login host's TLS certificate and the app registration's certificate credential. */
  readonly certificates: SimulatorCertificates;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The header value App Service hands the process (`IDENTITY_HEADER`). */
  readonly identityHeader: string;
  /** The issuer whose federated tokens the app trusts (workload identity). */
  readonly federationIssuer: string;
  /** In seconds. */
  readonly tokenLifetimeSeconds: number;
  /** In seconds. */
  readonly downloadLinkSeconds: number;
  readonly enforceGraphLimits: boolean;
  readonly lineEnding: '\r\n' | '\n';

  /** Base URLs of the download host (where report requests' 302 points) and the login host, known once listening. */
  downloadUrl: string;
  loginUrl: string;
  /** Test switches; one-shot counters in them count down in place. */
  faults: SimulatorFaults;
  /** Graph's `displayConcealedNames` report setting. */
  concealedNames: boolean;
  /** Access tokens carry the generation they were issued in; `expireTokens` moves to the next (seconds are too coarse). */
  tokenGeneration: number;
  /** Graph's throttling memory: request times (ms) by `${app} ${report} ${format}`. */
  readonly throttleLog: Map<string, number[]>;
  readonly stats: SimulatorStats;
}

/** A fresh tenant's state: new keys, no faults, nothing counted. */
export async function createSimulatorState(settings: SimulatorSettings = {}): Promise<SimulatorState> {
  return {
    tenant: new SimulatedTenant(settings),
    signer: new TokenSigner(randomBytes(32)),
    certificates: await simulatorCertificates(),
    clientId: settings.clientId ?? 'b5a1c0de-0000-4000-8000-00000000c11e',
    clientSecret: settings.clientSecret ?? 'simulated-client-secret',
    identityHeader: randomBytes(16).toString('hex'),
    federationIssuer: 'https://kubernetes.simulated.invalid',
    tokenLifetimeSeconds: settings.tokenLifetimeSeconds ?? 3599,
    downloadLinkSeconds: settings.downloadLinkSeconds ?? 120,
    enforceGraphLimits: settings.enforceGraphLimits ?? true,
    lineEnding: settings.lineEnding ?? '\r\n',
    downloadUrl: '',
    loginUrl: '',
    faults: {},
    concealedNames: settings.concealedNames ?? true,
    tokenGeneration: 0,
    throttleLog: new Map(),
    stats: { tokensIssued: 0, tokensByGrant: {}, reportRequests: {}, downloads: {}, downloadsWithAuthorization: 0 },
  };
}

/** Invalidates every access token issued so far (an "expired token mid-run"). */
export function expireTokens(state: SimulatorState): void {
  state.tokenGeneration++;
}
