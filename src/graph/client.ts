/**
 * The Graph client of the proxy, on undici: report requests with the app's token, the CSV 302 followed by
 * hand to an allow-listed download host without the Authorization header, bounded retries of 429/503 honouring
 * Retry-After, one token refresh on 401, and timeouts on connect, first byte and the whole body.
 * Every upstream body is consumed or destroyed on every path.
 */
import type { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import type { ReportCall } from '../catalogue/odata.js';
import type { AccessTokenSource } from './token.js';
import { parseJsonBody } from './json-body.js';
import { documentedGraphCode } from '../catalogue/errors.js';
import { UpstreamError, type UpstreamStage } from './upstream-error.js';

export interface GraphClientOptions {
  /** Graph's base URL without version, e.g. https://graph.microsoft.com (national clouds differ). */
  readonly graphUrl: string;
  /**
   * Where a report's 302 may point: `scheme://host[:port][/path-prefix]`, `*` matching within one host label,
   * e.g. `https://reports*.office.com/data/`. Anything else is refused.
   */
  readonly downloadHosts: readonly string[];
  readonly tokens: AccessTokenSource;
  readonly connectTimeoutMs?: number;
  /** Longest wait for the response headers, and for each next piece of a body. */
  readonly firstByteTimeoutMs?: number;
  /** Deadline for a whole response, body included. */
  readonly bodyTimeoutMs?: number;
  readonly maxRetries?: number;
  /** The most a request may spend waiting on Retry-After in total before it gives up. */
  readonly maxRetryWaitMs?: number;
  readonly dispatcher?: Dispatcher;
  /** Told each upstream request's time to headers and outcome (metrics). */
  readonly onUpstream?: (seconds: number, outcome: string) => void;
}

/** The request path of a report call, as Graph spells it. */
export function reportCallPath(call: ReportCall): string {
  const argument = call.period !== undefined ? `(period='${call.period}')` : call.date !== undefined ? `(date=${call.date})` : '';
  return `/${call.version}${call.report.root[call.version]}/${call.report.name}${argument}`;
}

interface HostRule {
  readonly protocol: string;
  readonly host: RegExp;
  readonly port: string;
  readonly pathPrefix: string;
}

export function hostRule(pattern: string): HostRule {
  const m = /^(https?):\/\/([A-Za-z0-9*.-]+)(?::(\d+))?(\/.*)?$/.exec(pattern);
  if (m === null) throw new Error(`download host '${pattern}' is not of the form scheme://host[:port][/path]`);
  const [, scheme, host, port, path] = m;
  const hostPattern = host!.toLowerCase().split('.').map((label) => label.split('*').map((s) => s.replace(/[-]/g, '\\-')).join('[a-z0-9-]*')).join('\\.');
  return { protocol: `${scheme}:`, host: new RegExp(`^${hostPattern}$`), port: port ?? '', pathPrefix: path ?? '/' };
}

export function downloadAllowed(rules: readonly HostRule[], location: URL): boolean {
  if (location.username !== '' || location.password !== '') return false;
  return rules.some((r) => r.protocol === location.protocol && r.host.test(location.hostname) && r.port === location.port && location.pathname.startsWith(r.pathPrefix));
}

/** Seconds to wait from a Retry-After header (seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterSeconds(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const ERROR_BODY_LIMIT = 16 * 1024;

/**
 * Reads a refusal's body for Graph's documented error code only (bounded; the rest of the body, which may
 * echo request details, is never kept). The body is consumed or destroyed on every path.
 */
async function refusalCode(body: Dispatcher.ResponseData['body']): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > ERROR_BODY_LIMIT) {
        body.destroy();
        return undefined;
      }
      chunks.push(chunk);
    }
    return documentedGraphCode(JSON.parse(Buffer.concat(chunks).toString('utf8')));
  } catch {
    body.destroy();
    return undefined;
  }
}

/** Reads and discards a body we will not use (keeps the connection reusable, never leaks a stream). */
async function discard(body: Dispatcher.ResponseData['body']): Promise<void> {
  try {
    await body.dump({ limit: 64 * 1024 });
  } catch {
    body.destroy();
  }
}

export interface GraphClientStats {
  /** Logical Graph calls (a report's 302 and download, a JSON page), each with its own retry budget. */
  calls: number;
  /** HTTP requests sent to Graph and the download hosts, retries and token refreshes included. */
  requests: number;
  retries: number;
  tokenRefreshes: number;
}

export class GraphClient {
  readonly stats: GraphClientStats = { calls: 0, requests: 0, retries: 0, tokenRefreshes: 0 };
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly downloadRules: HostRule[];
  private readonly graphUrl: string;

  constructor(private readonly options: GraphClientOptions) {
    this.graphUrl = options.graphUrl.replace(/\/+$/, '');
    this.downloadRules = options.downloadHosts.map(hostRule);
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher =
      options.dispatcher ??
      new Agent({
        connect: { timeout: options.connectTimeoutMs ?? 10_000 },
        headersTimeout: options.firstByteTimeoutMs ?? 60_000,
        bodyTimeout: options.firstByteTimeoutMs ?? 60_000,
        // undici 8 would negotiate HTTP/2 with Graph; each report is one long stream, so multiplexing gains
        // nothing, and the tested failure modes (resets mid-body, timeouts) are HTTP/1.1's.
        allowH2: false,
      });
  }

  /**
   * Opens a CSV report: the report request answers 302, the Location must be on the allow-list, and the
   * download is fetched without Authorization. Returns the CSV body; the caller consumes or destroys it.
   */
  async openCsv(call: ReportCall): Promise<Readable> {
    return this.withRetries(async (deadline) => {
      const redirect = await this.graphRequest(`${reportCallPath(call)}?$format=text/csv`, deadline);
      if (redirect.statusCode !== 302) return this.unexpected(redirect);
      const location = redirect.headers.location;
      await discard(redirect.body);
      let target: URL;
      try {
        target = new URL(String(location));
      } catch {
        throw new UpstreamError('BadResponse', 'Graph answered 302 without a usable Location');
      }
      if (!downloadAllowed(this.downloadRules, target)) {
        throw new UpstreamError('RedirectRefused', `the report download was redirected to ${target.protocol}//${target.host}, which is not an allowed download host`);
      }
      const download = await this.send(target.toString(), {}, deadline);
      if (download.statusCode === 200) return download.body as unknown as Readable;
      if (download.statusCode >= 300 && download.statusCode < 400) {
        await discard(download.body);
        throw new UpstreamError('RedirectRefused', 'the download host redirected again; only one redirect is followed');
      }
      return this.unexpected(download, 'download');
    });
  }

  /** One page of a JSON report; `skipToken` is Graph's own, from the previous page's nextLink. */
  async jsonPage(call: ReportCall, top: number | undefined, skipToken: string | undefined): Promise<unknown> {
    const query = new URLSearchParams({ $format: 'application/json' });
    // Counts reports take $format only (Graph refuses $top there).
    if (top !== undefined && call.report.shape !== 'counts') query.set('$top', String(top));
    if (skipToken !== undefined) query.set('$skiptoken', skipToken);
    return this.getJson(`${reportCallPath(call)}?${query.toString().replaceAll('%24', '$')}`, skipToken === undefined ? 'request' : 'nextPage');
  }

  /** GET of a Graph JSON resource (path with query, below the base URL); `stage` says what it is for errors. */
  async getJson(pathAndQuery: string, stage: UpstreamStage = 'request'): Promise<unknown> {
    return this.withRetries(async (deadline) => {
      const response = await this.graphRequest(pathAndQuery, deadline);
      if (response.statusCode !== 200) return this.unexpected(response, stage);
      try {
        // Parsed as undici's json() would, a large collection page in pieces (json-body.ts).
        const bytes = await response.body.bytes();
        return parseJsonBody(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      } catch (error) {
        response.body.destroy();
        if (deadline.aborted) throw new UpstreamError('Timeout', 'Graph did not send the whole response in time');
        throw new UpstreamError((error as Error).name === 'SyntaxError' ? 'BadResponse' : 'Truncated', 'Graph sent a JSON body that could not be read whole');
      }
    });
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  /** The kind of Entra credential behind the tokens (secret, certificate, workload-identity, managed-identity). */
  get credentialKind(): string {
    return this.options.tokens.kind;
  }

  /** Whether an access token can be obtained now (readiness). */
  async tokenReady(): Promise<boolean> {
    try {
      await this.options.tokens.token();
      return true;
    } catch {
      return false;
    }
  }

  /** A request to Graph with the app token; a 401 refreshes the token once. */
  private async graphRequest(pathAndQuery: string, deadline: AbortSignal): Promise<Dispatcher.ResponseData> {
    let token = await this.options.tokens.token();
    let response = await this.send(`${this.graphUrl}${pathAndQuery}`, { authorization: `Bearer ${token}` }, deadline);
    if (response.statusCode === 401) {
      await discard(response.body);
      this.options.tokens.invalidate(token);
      this.stats.tokenRefreshes++;
      token = await this.options.tokens.token();
      response = await this.send(`${this.graphUrl}${pathAndQuery}`, { authorization: `Bearer ${token}` }, deadline);
    }
    return response;
  }

  private async send(url: string, headers: Record<string, string>, deadline: AbortSignal): Promise<Dispatcher.ResponseData> {
    this.stats.requests++;
    const started = process.hrtime.bigint();
    const observe = (outcome: string) => this.options.onUpstream?.(Number(process.hrtime.bigint() - started) / 1e9, outcome);
    try {
      // undici's request never follows redirects itself: the one 302 is followed above, after the allow-list check.
      const response = await request(url, { method: 'GET', headers, dispatcher: this.dispatcher, signal: deadline });
      observe(String(response.statusCode));
      return response;
    } catch (error) {
      observe('error');
      const name = (error as { code?: string; name?: string }).code ?? (error as Error).name;
      if (deadline.aborted || /Timeout/i.test(name)) throw new UpstreamError('Timeout', 'Graph did not answer in time');
      throw new UpstreamError('Unavailable', `Graph could not be reached (${name})`);
    }
  }

  /**
   * Maps a status we did not want to an UpstreamError; the body is never echoed. Only Graph's own refusals of a
   * request are read for its documented error code: the download host is not Graph, and what it says is not.
   */
  private async unexpected(response: Dispatcher.ResponseData, stage: UpstreamStage = 'request'): Promise<never> {
    const status = response.statusCode;
    const wait = retryAfterSeconds(response.headers['retry-after']);
    if (stage === 'download' && status >= 400 && status < 500 && status !== 429) {
      await discard(response.body);
      throw new UpstreamError('Refused', `the download host refused the report download (HTTP ${status})`, status, undefined, undefined, 'download');
    }
    if (status >= 400 && status < 500 && status !== 429) {
      const code = await refusalCode(response.body);
      const named = `HTTP ${status}${code !== undefined ? ` ${code}` : ''}`;
      if (status === 401 || status === 403) throw new UpstreamError('Refused', `Graph refused the proxy's credentials (${named})`, status, undefined, code, stage);
      throw new UpstreamError('Refused', `Graph refused the ${stage === 'nextPage' ? 'next page' : 'request'} (${named})`, status, undefined, code, stage);
    }
    await discard(response.body);
    if (status === 429) throw new UpstreamError('Throttled', 'Graph is throttling report requests', status, wait);
    if (status === 503 || status === 502 || status === 504) throw new UpstreamError('Unavailable', `Graph is unavailable (HTTP ${status})`, status, wait);
    throw new UpstreamError('BadResponse', `Graph answered HTTP ${status}`, status);
  }

  /** Runs `attempt`, retrying throttling and unavailability within the retry budget. */
  private async withRetries<T>(attempt: (deadline: AbortSignal) => Promise<T>): Promise<T> {
    const maxRetries = this.options.maxRetries ?? 4;
    const budget = this.options.maxRetryWaitMs ?? 30_000;
    let waited = 0;
    this.stats.calls++;
    for (let retry = 0; ; retry++) {
      try {
        return await attempt(AbortSignal.timeout(this.options.bodyTimeoutMs ?? 300_000));
      } catch (error) {
        if (!(error instanceof UpstreamError) || (error.code !== 'Throttled' && error.code !== 'Unavailable') || error.upstreamStatus === undefined) throw error;
        const wait = (error.retryAfterSeconds ?? Math.min(2 ** retry, 30)) * 1000;
        if (retry >= maxRetries || waited + wait > budget) throw error;
        this.stats.retries++;
        waited += wait;
        await sleep(wait);
      }
    }
  }
}
