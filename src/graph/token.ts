/**
 * App-only access tokens for Graph from Entra ID through Microsoft's library (@azure/identity): a client
 * secret, a certificate, workload identity federation (a projected token file) or a managed identity (IMDS,
 * App Service), chosen by configuration. The library retries the token endpoint's 429/5xx (Retry-After
 * honoured); each token request has a total time budget. Tokens are cached and refreshed early; concurrent
 * callers share one refresh.
 */
import { Agent as HttpsAgent } from 'node:https';
import { rootCertificates } from 'node:tls';
import {
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  WorkloadIdentityCredential,
  type TokenCredential,
  type TokenCredentialOptions,
} from '@azure/identity';
import { UpstreamError } from './upstream-error.js';

/** How the proxy proves it is the app registration (or the Azure resource) that holds Reports.Read.All. */
export type EntraCredential =
  | { readonly kind: 'secret'; readonly tokenUrl: string; readonly clientId: string; readonly clientSecret: string }
  /** `certificatePem`: the PEM private key and certificate, one file, as Entra's certificate credentials take them. */
  | { readonly kind: 'certificate'; readonly tokenUrl: string; readonly clientId: string; readonly certificatePem: string }
  /** `tokenFile`: the federated token (e.g. a Kubernetes service-account token), re-read at each refresh. */
  | { readonly kind: 'workload-identity'; readonly tokenUrl: string; readonly clientId: string; readonly tokenFile: string }
  /** The Azure resource's own identity; `clientId` picks a user-assigned one. Endpoints come from Azure's variables. */
  | { readonly kind: 'managed-identity'; readonly clientId?: string };

export type CredentialKind = EntraCredential['kind'];
export const CREDENTIAL_KINDS: readonly CredentialKind[] = ['secret', 'certificate', 'workload-identity', 'managed-identity'];

export interface EntraTokenOptions {
  readonly credential: EntraCredential;
  /** Default: https://graph.microsoft.com/.default */
  readonly scope?: string;
  /** Refresh this many seconds before expiry (default 300). */
  readonly refreshEarlySeconds?: number;
  /** The whole of one token request, retries included, in milliseconds (default 30,000). */
  readonly budgetMs?: number;
  /** Retries of a 429/5xx from the token endpoint, within the budget (default 4). */
  readonly maxRetries?: number;
  /** An extra CA (PEM) the token endpoint's certificate may chain to: a private cloud or the simulator. */
  readonly authorityCa?: string;
}

export interface AccessTokenSource {
  /** Which kind of credential is in use (for /readyz; never the secret). */
  readonly kind: CredentialKind;
  token(): Promise<string>;
  /** Forgets `token` (Graph answered 401 with it), so the next call fetches a new one. */
  invalidate(token: string): void;
}

/**
 * The authority host and tenant of an Entra token endpoint URL,
 * `https://<host>/<tenant>/oauth2/v2.0/token`; undefined when the URL has another shape.
 */
export function authorityOf(tokenUrl: string): { authorityHost: string; tenantId: string } | undefined {
  let url: URL;
  try {
    url = new URL(tokenUrl);
  } catch {
    return undefined;
  }
  const match = /^\/([A-Za-z0-9.-]+)\/oauth2\/v2\.0\/token\/?$/.exec(url.pathname);
  if (url.protocol !== 'https:' || match === null || url.search !== '') return undefined;
  return { authorityHost: url.origin, tenantId: match[1]! };
}

export class EntraTokens implements AccessTokenSource {
  readonly kind: CredentialKind;
  private credential: TokenCredential;
  private cached: { token: string; refreshAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(private readonly options: EntraTokenOptions) {
    this.kind = options.credential.kind;
    this.credential = this.build();
  }

  private build(): TokenCredential {
    const o = this.options;
    const common: TokenCredentialOptions = {
      retryOptions: { maxRetries: o.maxRetries ?? 4, retryDelayInMs: 500, maxRetryDelayInMs: 8_000 },
      ...(o.authorityCa !== undefined ? { additionalPolicies: [{ position: 'perCall', policy: trustAuthorityCa(o.authorityCa) }] } : {}),
    };
    const c = o.credential;
    if (c.kind === 'managed-identity') return new ManagedIdentityCredential({ ...common, ...(c.clientId !== undefined ? { clientId: c.clientId } : {}) });
    const authority = authorityOf(c.tokenUrl);
    if (authority === undefined) throw new Error(`the token URL must be https://<host>/<tenant>/oauth2/v2.0/token, not ${c.tokenUrl}`);
    // Instance discovery is for Microsoft's public clouds; naming the authority (a national cloud, the simulator) is enough.
    const entra = { ...common, authorityHost: authority.authorityHost, disableInstanceDiscovery: true };
    switch (c.kind) {
      case 'secret':
        return new ClientSecretCredential(authority.tenantId, c.clientId, c.clientSecret, entra);
      case 'certificate':
        return new ClientCertificateCredential(authority.tenantId, c.clientId, { certificate: c.certificatePem }, entra);
      case 'workload-identity':
        return new WorkloadIdentityCredential({ ...entra, tenantId: authority.tenantId, clientId: c.clientId, tokenFilePath: c.tokenFile });
    }
  }

  async token(): Promise<string> {
    if (this.cached !== undefined && Date.now() < this.cached.refreshAt) return this.cached.token;
    this.pending ??= this.fetchToken().finally(() => (this.pending = undefined));
    return this.pending;
  }

  invalidate(token: string): void {
    if (this.cached?.token !== token) return;
    this.cached = undefined;
    // The library caches tokens too; a new credential object starts with an empty cache.
    this.credential = this.build();
  }

  private async fetchToken(): Promise<string> {
    const scope = this.options.scope ?? 'https://graph.microsoft.com/.default';
    const budgetMs = this.options.budgetMs ?? 30_000;
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // The library's retry delays do not always heed the abort signal, so the budget is also enforced here.
    const overBudget = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(Object.assign(new Error('token request over its time budget'), { name: 'TimeoutError' }));
      }, budgetMs);
    });
    const attempt = this.credential.getToken(scope, { abortSignal: abort.signal });
    attempt.catch(() => undefined); // when the budget wins, the abandoned attempt's failure is expected
    let result;
    try {
      result = await Promise.race([attempt, overBudget]);
    } catch (error) {
      throw new UpstreamError('TokenUnavailable', describeFailure(this.kind, error), statusOf(error));
    } finally {
      clearTimeout(timer);
    }
    if (result === null) throw new UpstreamError('TokenUnavailable', `the ${this.kind} credential returned no token`);
    const lifetime = Math.max(0, (result.expiresOnTimestamp - Date.now()) / 1000);
    const early = Math.min(this.options.refreshEarlySeconds ?? 300, lifetime / 2);
    this.cached = { token: result.token, refreshAt: Date.now() + (lifetime - early) * 1000 };
    return result.token;
  }
}

type PipelinePolicy = NonNullable<TokenCredentialOptions['additionalPolicies']>[number]['policy'];

/** A pipeline policy that sends token requests through an agent trusting one more CA. */
function trustAuthorityCa(pem: string): PipelinePolicy {
  const agent = new HttpsAgent({ ca: [...rootCertificates, pem], keepAlive: true });
  return {
    name: 'gppTrustAuthorityCa',
    sendRequest: (request, next) => {
      if (request.url.startsWith('https:')) request.agent ??= agent;
      return next(request);
    },
  };
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * One line for the operator: the credential kind, the HTTP status and Entra's AADSTS codes when there are
 * some. The library's own message may quote the request; only its error codes are kept.
 */
function describeFailure(kind: CredentialKind, error: unknown): string {
  const e = error as { name?: string; statusCode?: number; message?: string; errorResponse?: { errorCodes?: unknown } };
  const codes = Array.isArray(e.errorResponse?.errorCodes) && e.errorResponse.errorCodes.length > 0 ? ` (AADSTS${e.errorResponse.errorCodes.join(', AADSTS')})` : '';
  const aadsts = codes === '' ? /AADSTS\d+/.exec(e.message ?? '')?.[0] : undefined;
  const status = e.statusCode !== undefined ? `HTTP ${e.statusCode}` : e.name === 'AbortError' || e.name === 'TimeoutError' ? 'no token within the time budget' : (e.name ?? 'error');
  return `the ${kind} credential could not obtain a token: ${status}${codes}${aadsts !== undefined ? ` (${aadsts})` : ''}`;
}
