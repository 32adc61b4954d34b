/**
 * The Graph-compatible report routes: `GET /{v1.0|beta}/reports/{fn}(period='D7'|date=...)` with `$format`,
 * `$top`, `$skiptoken`. The consumer's policy decides; CSV answers as Graph does, with a 302 to the proxy's
 * own short-lived sealed download URL; JSON answers 200 with pages whose nextLink is a sealed cursor.
 * Nothing is sent before the data behind it was read and sanitised without error.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findReport, type ApiVersion, type Period } from '../catalogue/catalogue.js';
import type { GraphClient } from '../graph/client.js';
import { checkServed, parseReportPath, parseReportQuery, utcToday, type ReportCall, type ReportFormat } from '../catalogue/odata.js';
import { ReleaseCache, releaseId, type FinishedPage, type Release, type ReleaseScope } from '../graph/releases.js';
import type { ReportSnapshot, SnapshotCache } from '../graph/snapshots.js';
import type { PolicySet } from '../policy/load.js';
import { cohortGrantFor, rowsPlanFor, type ReportDecision } from '../policy/decide.js';
import type { RowsPlan } from '../sanitize/plan.js';
import type { PseudonymKeyring, PseudonymMemo } from '../sanitize/pseudonyms.js';
import { rowOrderKey } from '../sanitize/row-order.js';
import { cohortCsv } from '../cohort/render.js';
import { markRelease } from './release-marks.js';
import { auditCohorts, type AuditRecord } from './audit.js';
import type { CohortReleases } from '../cohort/cohort-releases.js';
import { allowedDecision, presentedConsumer, consumerRequest } from './auth.js';
import type { ConsumerKeys } from './consumer-keys.js';
import { ProxyRefusal } from './errors.js';
import type { Sealer } from './sealed-tokens.js';

export interface ReportRoutesOptions {
  readonly policies: { readonly current: PolicySet };
  readonly keys: ConsumerKeys;
  readonly snapshots: SnapshotCache;
  readonly graph: GraphClient;
  readonly pseudonymKeys: PseudonymKeyring;
  readonly sealer: Sealer;
  /** The proxy's public base URL (for Location and nextLink), never taken from the request's Host header. */
  readonly publicUrl: () => string;
  /** Released output per snapshot and consumer (default: a cache of its own with the default bounds). */
  readonly releases?: ReleaseCache;
  /** The secret each consumer's row-order key derives from; replicas share it (default: random per app). */
  readonly rowOrderSecret?: Buffer;
  /** Pseudonyms computed before, per key id, epoch and consumer. */
  readonly pseudonymMemo?: PseudonymMemo;
  /** How long a JSON listing keeps its release after its last page (default 10 minutes). */
  readonly listingIdleSeconds?: number;
  readonly downloadLinkSeconds?: number;
  readonly cursorSeconds?: number;
  /** The app's one cohort release service (shared with /cohorts). */
  readonly cohorts: CohortReleases;
}

/** What a download link and a cursor are bound to. */
interface Binding {
  /** consumer */
  c: string;
  /** the hash of the consumer's own policy file (not the whole set: another tool's edit must not break this) */
  v: string;
  /** api version, report, period or date */
  a: ApiVersion;
  r: string;
  p?: Period;
  d?: string;
}

interface Cursor extends Binding {
  /** page size */
  t: number;
  /** offset into the released items */
  o: number;
  /** the id of the release the listing began on: every page comes from it */
  s: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    audit: AuditRecord;
  }
}

const VERSIONS = ['v1.0', 'beta'] as const;

/** What binds links and cursors to a policy: the consumer's own policy, or the set when no policy names it. */
function policyHashOf(set: PolicySet, consumer: string): string {
  return set.policyFor(consumer)?.hash ?? set.hash;
}

function bindingOf(consumer: string, set: PolicySet, call: ReportCall): Binding {
  return { c: consumer, v: policyHashOf(set, consumer), a: call.version, r: call.report.name, ...(call.period !== undefined ? { p: call.period } : {}), ...(call.date !== undefined ? { d: call.date } : {}) };
}

function callOf(binding: Binding): ReportCall | undefined {
  const report = findReport(binding.r);
  if (report === undefined) return undefined;
  return { version: binding.a, report, ...(binding.p !== undefined ? { period: binding.p } : {}), ...(binding.d !== undefined ? { date: binding.d } : {}) };
}

/** Everything a consumer's release depends on besides the snapshot (releases.ts). */
function releaseScope(set: PolicySet, consumer: string, decision: Extract<ReportDecision, { kind: 'rows' }>): ReleaseScope {
  const pseudonyms = decision.policy.policy.pseudonyms;
  return { consumer, policyHash: policyHashOf(set, consumer), ...(pseudonyms !== undefined ? { pseudonyms: { keyId: pseudonyms.keyId, epoch: pseudonyms.epoch } } : {}) };
}

export async function reportRoutes(app: FastifyInstance, options: ReportRoutesOptions): Promise<void> {
  const downloadSeconds = options.downloadLinkSeconds ?? 120;
  const cursorSeconds = options.cursorSeconds ?? 3600;
  const listingIdleMs = (options.listingIdleSeconds ?? 600) * 1000;
  /** How long a finished page (its sealed cursor included) is sent again as is: a 60th of a cursor's life, at most a minute. */
  const pageReuseMs = Math.min(60_000, (cursorSeconds * 1000) / 60);
  const releases = options.releases ?? new ReleaseCache();
  const rowOrderSecret = options.rowOrderSecret ?? randomBytes(32);

  /** What the audit line says about a request once its report call is known (refusals included). */
  function audit(request: FastifyRequest, consumer: string, call: ReportCall, format: ReportFormat, set: PolicySet): void {
    Object.assign(request.audit, {
      consumer, report: call.report.name, apiVersion: call.version, format, policyVersion: set.version,
      ...(call.period !== undefined ? { period: call.period } : {}), ...(call.date !== undefined ? { date: call.date } : {}),
    });
  }

  async function report(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const { consumer, set } = consumerRequest(request, reply, options.keys, options.policies);
    const [rawPath = '', rawQuery = ''] = request.url.split(/\?(.*)/s);
    const path = parseReportPath(rawPath);
    if (!path.ok) throw new ProxyRefusal(path.error.status, path.error.code, path.error.message);
    const call = path.value;
    const query = parseReportQuery(call.report, new URLSearchParams(rawQuery));
    if (!query.ok) throw new ProxyRefusal(query.error.status, query.error.code, query.error.message);
    const { format } = query.value;
    audit(request, consumer, call, format, set);
    // What Graph would refuse is refused here, before any 302 or upstream call.
    const unserved = checkServed(call, format, utcToday());
    if (unserved !== undefined) throw new ProxyRefusal(unserved.status, unserved.code, unserved.message);
    const decision = allowedDecision(set.policyFor(consumer), call, format);
    request.audit.policy = decision.policy.policy.name;
    request.audit.kind = decision.kind;
    if (format === 'csv') {
      if (query.value.skipToken !== undefined || query.value.top !== undefined) throw new ProxyRefusal(400, 'BadRequest', 'CSV reports are not paged: $top and $skiptoken apply to JSON only.');
      const token = options.sealer.seal('download', bindingOf(consumer, set, call), downloadSeconds);
      return reply.code(302).header('location', `${options.publicUrl()}/_downloads/${token}`).type('text/plain').header('cache-control', 'no-store').send('');
    }
    if (decision.kind === 'cohort') {
      if (query.value.skipToken !== undefined || query.value.top !== undefined) throw new ProxyRefusal(400, 'BadRequest', 'Cohort output is not paged: $top and $skiptoken do not apply.');
      const release = await options.cohorts.release(call, cohortGrantFor(decision, call, set), set.hash, consumer);
      auditCohorts(request, release);
      markRelease(reply, release);
      return reply.code(200).type('application/json; odata.metadata=minimal').header('cache-control', 'no-store').send({
        '@odata.context': `${options.publicUrl()}/${call.version}/$metadata#Collection(graphPrivacyProxy.cohort)`,
        '@graphPrivacyProxy.stale': release.stale,
        value: release.rows(),
      });
    }
    // Compiled only when a release has to be built: a cached page needs no plan (nor its key derivation).
    const plan = () => rowsPlanFor(decision, call.report, consumer, options.pseudonymKeys, options.pseudonymMemo);
    const scope = releaseScope(set, consumer, decision);
    const binding = bindingOf(consumer, set, call);
    let page: { release: Release; offset: number; top: number };
    if (query.value.skipToken !== undefined) {
      const cursor = openCursor(query.value.skipToken, binding);
      if (query.value.top !== undefined && query.value.top !== cursor.t) throw new ProxyRefusal(400, 'BadRequest', '$top must stay the same across the pages of one listing.');
      page = { release: await listingRelease(call, plan, scope, cursor.s, request), offset: cursor.o, top: cursor.t };
    } else {
      // Counts reports are not paged: one page holds everything.
      const top = call.report.shape === 'counts' ? Number.MAX_SAFE_INTEGER : (query.value.top ?? call.report.pageSize);
      page = { release: await releaseOf(call, 'json', plan, scope, request, Date.now() + listingIdleMs), offset: 0, top };
    }
    const { release, offset, top } = page;
    try {
      request.audit.sanitize = { ...release.stats };
      const publicUrl = options.publicUrl();
      // Everything the page's bytes depend on: a repeat is sent as stored (PageMemo in releases.ts).
      const pageKey = [release.id, offset, top, rawPath, publicUrl, binding.c, binding.v, binding.a, binding.r, binding.p ?? '', binding.d ?? ''].join('\u0000');
      const finished = releases.pages.get(pageKey) ?? releases.pages.put(pageKey, await jsonPage(release, call, binding, rawPath, publicUrl, offset, top), Date.now() + pageReuseMs);
      request.audit.page = { offset, items: finished.items };
      return reply.code(200).type('application/json; odata.metadata=minimal').header('cache-control', 'no-store').send(finished.body);
    } finally {
      release.release();
    }
  }

  /** One JSON page of a release, whole: its items, and the sealed cursor of the next page when there is one. */
  async function jsonPage(release: Release, call: ReportCall, binding: Binding, rawPath: string, publicUrl: string, offset: number, top: number): Promise<FinishedPage> {
    const items = await release.items(offset, top);
    const head = `{"@odata.context":${JSON.stringify(`${publicUrl}/${call.version}/$metadata#Collection(microsoft.graph.${call.report.jsonType})`)},"value":[`;
    let tail = ']';
    if (offset + top < release.count) {
      const next = options.sealer.seal('cursor', { ...binding, t: top, o: offset + top, s: release.id } satisfies Cursor, cursorSeconds);
      const topParameter = call.report.shape === 'counts' ? '' : `&$top=${top}`;
      tail += `,"@odata.nextLink":${JSON.stringify(`${publicUrl}${rawPath}?$format=application/json${topParameter}&$skiptoken=${next}`)}`;
    }
    return { body: Buffer.concat([Buffer.from(head), items.text, Buffer.from(`${tail}}`)]), items: items.count };
  }

  function openCursor(token: string, binding: Binding): Cursor {
    const opened = options.sealer.open<Cursor>('cursor', token);
    if (!opened.ok) throw new ProxyRefusal(400, 'BadRequest', opened.reason === 'expired' ? 'The $skiptoken has expired; start the listing again.' : 'The $skiptoken is invalid.');
    const c = opened.payload;
    if (c.c !== binding.c || c.a !== binding.a || c.r !== binding.r || c.p !== binding.p || c.d !== binding.d) {
      throw new ProxyRefusal(400, 'BadRequest', 'The $skiptoken belongs to another listing or consumer.');
    }
    if (c.v !== binding.v) throw new ProxyRefusal(409, 'Conflict', 'The policy changed since this listing began; start it again.');
    if (typeof c.s !== 'string' || typeof c.o !== 'number') throw new ProxyRefusal(400, 'BadRequest', 'The $skiptoken is invalid.');
    return c;
  }

  /**
   * The consumer's release of the report's current snapshot, leased (call `release()`): held, or built from the
   * snapshot and held until `holdUntil` or the snapshot's expiry, whichever is later (with the cache off, a
   * listing's release is held for the listing alone, and a download's not at all).
   */
  async function releaseOf(call: ReportCall, format: ReportFormat, plan: () => RowsPlan, scope: ReleaseScope, request: FastifyRequest, holdUntil = 0): Promise<Release> {
    const hitsBefore = options.snapshots.stats.hits;
    const snapshot = await options.snapshots.lease(call, format);
    request.audit.snapshot = options.snapshots.stats.hits > hitsBefore ? 'hit' : 'fetched';
    try {
      return await releaseOfSnapshot(snapshot, plan, scope, Math.max(holdUntil, snapshot.expiresAt));
    } finally {
      snapshot.release();
    }
  }

  function releaseOfSnapshot(snapshot: ReportSnapshot, plan: () => RowsPlan, scope: ReleaseScope, holdUntil: number): Promise<Release> {
    const id = releaseId(snapshot.digest, snapshot.format, scope);
    return releases.obtain(id, holdUntil, () => ({ snapshot, plan: plan(), orderKey: rowOrderKey(rowOrderSecret, scope) }));
  }

  /**
   * The release a listing began on, for its later pages: still held (the usual case), or rebuilt from a fresh
   * snapshot when that has exactly the content the listing began on (another replica, a restart); otherwise
   * the report changed under the listing, which must start again.
   */
  async function listingRelease(call: ReportCall, plan: () => RowsPlan, scope: ReleaseScope, id: string, request: FastifyRequest): Promise<Release> {
    const holdUntil = Date.now() + listingIdleMs;
    const held = releases.lease(id, holdUntil);
    if (held !== undefined) {
      request.audit.snapshot = 'hit';
      return held;
    }
    const release = await releaseOf(call, 'json', plan, scope, request, holdUntil);
    if (release.id === id) return release;
    release.release();
    throw new ProxyRefusal(409, 'Conflict', 'The report changed since this listing began; start it again.');
  }

  async function download(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const { token } = request.params as { token: string };
    const opened = options.sealer.open<Binding>('download', token);
    if (!opened.ok) {
      throw opened.reason === 'expired'
        ? new ProxyRefusal(403, 'TokenExpired', 'The download link has expired; request the report again.')
        : new ProxyRefusal(404, 'NotFound', 'No such download.');
    }
    const binding = opened.payload;
    const presented = presentedConsumer(request, options.keys);
    if (presented !== undefined && presented !== binding.c) throw new ProxyRefusal(403, 'Forbidden', 'This download link was issued to another consumer.');
    const set = options.policies.current;
    reply.header('x-policy-version', set.version);
    const call = callOf(binding);
    if (call === undefined) throw new ProxyRefusal(404, 'NotFound', 'No such download.');
    audit(request, binding.c, call, 'csv', set);
    request.audit.kind = 'download';
    if (binding.v !== policyHashOf(set, binding.c)) throw new ProxyRefusal(409, 'Conflict', 'The policy changed since this link was issued; request the report again.');
    const decision = allowedDecision(set.policyFor(binding.c), call, 'csv');
    request.audit.policy = decision.policy.policy.name;
    if (decision.kind === 'cohort') {
      const release = await options.cohorts.release(call, cohortGrantFor(decision, call, set), set.hash, binding.c);
      auditCohorts(request, release);
      markRelease(reply, release);
      return reply.code(200).type('application/octet-stream').header('cache-control', 'no-store').send(cohortCsv(release.rows(), release.plan));
    }
    const plan = () => rowsPlanFor(decision, call.report, binding.c, options.pseudonymKeys, options.pseudonymMemo);
    // The whole release is built (and so every row read and checked) before the first byte is sent.
    const release = await releaseOf(call, 'csv', plan, releaseScope(set, binding.c, decision), request);
    request.audit.sanitize = { ...release.stats };
    async function* body(): AsyncGenerator<Buffer> {
      try {
        yield* release.csv();
      } catch (error) {
        request.audit.error = 'aborted mid-stream';
        throw error;
      } finally {
        release.release();
      }
    }
    return reply.code(200).type('application/octet-stream').header('cache-control', 'no-store').send(Readable.from(body()));
  }

  // Only GET exists here: other methods are refused before any body is read.
  app.addHook('onRequest', async (request) => {
    if (request.method !== 'GET') throw new ProxyRefusal(405, 'MethodNotAllowed', 'This proxy is read-only: only GET is allowed.');
  });
  for (const version of VERSIONS) {
    app.route({
      method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'], url: `/${version}/*`, handler: report, exposeHeadRoute: false,
      schema: { tags: ['graph reports'], summary: `Graph-compatible usage reports (${version})`, description: "Exactly Graph's grammar: /reports/{report}(period='D7') or (date=YYYY-MM-DD), with $format, $top, $skiptoken. CSV answers 302 to a short-lived sealed download URL; JSON answers 200 with pages whose nextLink is a sealed cursor. The consumer's policy decides what is released. Only GET.", security: [{ consumerKey: [] }] },
    });
  }
  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/_downloads/:token', handler: download, exposeHeadRoute: false,
    schema: { tags: ['graph reports'], summary: 'A CSV report download (the target of a report 302)', description: 'Valid about two minutes, bound to consumer, report and policy version; needs no Authorization header (an owner key is accepted).', security: [] },
  });
}
