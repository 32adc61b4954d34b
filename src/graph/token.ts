/**
 * App-only access tokens from Entra ID by the OAuth 2.0 client-credentials grant, on undici: with a client
 * secret, or with a client assertion read from a file (workload identity federation, so no secret exists).
 * Tokens are cached and refreshed early; concurrent callers share one refresh. README explains why this is not
 * @azure/identity.
 */
import { readFile } from 'node:fs/promises';
import { request, type Dispatcher } from 'undici';
import { UpstreamError } from './upstream-error.js';

export interface ClientCredentialsOptions {
  /** e.g. https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token (national clouds differ). */
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  /** A file holding a signed client assertion (JWT), re-read at each refresh: Kubernetes rotates it. */
  readonly clientAssertionFile?: string;
  /** Default: https://graph.microsoft.com/.default */
  readonly scope?: string;
  /** Refresh this many seconds before expiry (default 300). */
  readonly refreshEarlySeconds?: number;
  readonly dispatcher?: Dispatcher;
  readonly timeoutMs?: number;
}

export interface AccessTokenSource {
  token(): Promise<string>;
  /** Forgets `token` (Graph answered 401 with it), so the next call fetches a new one. */
  invalidate(token: string): void;
}

const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export class ClientCredentials implements AccessTokenSource {
  private cached: { token: string; refreshAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(private readonly options: ClientCredentialsOptions) {
    if ((options.clientSecret === undefined) === (options.clientAssertionFile === undefined)) {
      throw new Error('give exactly one of a client secret or a client assertion file');
    }
  }

  async token(): Promise<string> {
    if (this.cached !== undefined && Date.now() < this.cached.refreshAt) return this.cached.token;
    this.pending ??= this.fetchToken().finally(() => (this.pending = undefined));
    return this.pending;
  }

  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  private async fetchToken(): Promise<string> {
    const o = this.options;
    const form = new URLSearchParams({ client_id: o.clientId, grant_type: 'client_credentials', scope: o.scope ?? 'https://graph.microsoft.com/.default' });
    if (o.clientSecret !== undefined) form.set('client_secret', o.clientSecret);
    else {
      form.set('client_assertion_type', CLIENT_ASSERTION_TYPE);
      form.set('client_assertion', (await readFile(o.clientAssertionFile!, 'utf8')).trim());
    }
    let response: Dispatcher.ResponseData;
    try {
      response = await request(o.tokenUrl, {
        method: 'POST',
        body: form.toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
        ...(o.dispatcher !== undefined ? { dispatcher: o.dispatcher } : {}),
      });
    } catch (error) {
      throw new UpstreamError('TokenUnavailable', `the token endpoint could not be reached (${(error as Error).name})`);
    }
    const body = (await response.body.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (response.statusCode !== 200 || typeof body?.access_token !== 'string') {
      // Entra's error codes (AADSTS...) help an operator and name no person; the description may echo input, so it is not passed on.
      const codes = Array.isArray(body?.error_codes) ? ` (AADSTS${(body.error_codes as unknown[]).join(', AADSTS')})` : '';
      throw new UpstreamError('TokenUnavailable', `the token endpoint refused the client credentials: HTTP ${response.statusCode}${codes}`, response.statusCode);
    }
    const lifetime = typeof body.expires_in === 'number' ? body.expires_in : Number(body.expires_in ?? 3599);
    const early = Math.min(o.refreshEarlySeconds ?? 300, lifetime / 2);
    this.cached = { token: body.access_token, refreshAt: Date.now() + (lifetime - early) * 1000 };
    return body.access_token;
  }
}
