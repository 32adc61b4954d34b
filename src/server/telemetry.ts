/**
 * Probes and metrics. `/healthz`: the process serves. `/readyz`: a policy set is loaded, a Graph token can be
 * obtained, and the stores are open. `/metrics` (Prometheus, prom-client): requests by consumer, kind, report
 * and status; upstream requests, retries and latency; snapshot-cache hits; rows in and out; cells and rows
 * suppressed; policy reloads; privacy budget spent. Labels name tools, reports and outcomes, never a person.
 * `/metrics` answers only with the metrics token (none configured: no /metrics), and counts suppressed cohort
 * cells as one total: a count per rule, diffed around one request, told which rule hid a cell.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { GraphClient } from '../graph/client.js';
import type { SnapshotCache } from '../graph/snapshots.js';
import type { PolicyRejection, PolicySet } from '../policy/load.js';
import type { AuditRecord } from './audit.js';
import { presentsToken } from './auth.js';
import { ProxyRefusal } from './errors.js';

export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'consumer' | 'kind' | 'report' | 'status'>;
  private readonly rows: Counter<'direction'>;
  private readonly suppressed: Counter<'what'>;
  private readonly reloads: Counter<'outcome'>;
  private readonly budget: Counter<'consumer'>;
  readonly upstreamLatency: Histogram<'outcome'>;

  constructor(sources: { graph?: GraphClient; snapshots?: SnapshotCache } = {}) {
    const registers = [this.registry];
    this.requests = new Counter({ name: 'gpp_requests_total', help: 'Requests by consumer, kind, report and status.', labelNames: ['consumer', 'kind', 'report', 'status'], registers });
    this.rows = new Counter({ name: 'gpp_rows_total', help: 'Report rows read from snapshots (in) and released (out).', labelNames: ['direction'], registers });
    this.suppressed = new Counter({ name: 'gpp_suppressed_total', help: 'Rows withheld and cells suppressed, by reason.', labelNames: ['what'], registers });
    this.reloads = new Counter({ name: 'gpp_policy_reloads_total', help: 'Policy set reloads by outcome.', labelNames: ['outcome'], registers });
    this.budget = new Counter({ name: 'gpp_privacy_budget_spent_total', help: 'Epsilon charged to each consumer for fresh noisy releases.', labelNames: ['consumer'], registers });
    this.upstreamLatency = new Histogram({ name: 'gpp_upstream_request_seconds', help: 'Microsoft Graph request latency (headers), by outcome.', labelNames: ['outcome'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers });
    const graph = sources.graph;
    const snapshots = sources.snapshots;
    const fromStats = (name: string, help: string, read: () => number) =>
      new Gauge({ name, help, registers, collect() { this.set(read()); } });
    if (graph !== undefined) {
      fromStats('gpp_upstream_requests', 'Requests sent to Microsoft Graph and its download hosts since start.', () => graph.stats.requests);
      fromStats('gpp_upstream_retries', 'Graph requests retried after 429/503 since start.', () => graph.stats.retries);
      fromStats('gpp_upstream_token_refreshes', 'Access tokens refreshed after a 401 since start.', () => graph.stats.tokenRefreshes);
    }
    if (snapshots !== undefined) {
      fromStats('gpp_snapshot_hits', 'Requests served from a cached report snapshot since start.', () => snapshots.stats.hits);
      fromStats('gpp_snapshot_fetches', 'Report snapshots fetched from Graph since start.', () => snapshots.stats.fetches);
      fromStats('gpp_snapshot_failures', 'Report snapshot fetches that failed since start.', () => snapshots.stats.failures);
      fromStats('gpp_concealed_names_switches', "Times a report fetched from Graph named users in the other form (concealed or clear) than the one before it: the tenant switched its concealed-names setting.", () => snapshots.stats.nameFormSwitches);
    }
  }

  /** One request's audit record (names and counts only) into the counters. */
  observe(audit: AuditRecord, status: number): void {
    this.requests.inc({ consumer: audit.consumer ?? 'none', kind: audit.kind ?? 'other', report: audit.report ?? 'none', status: String(status) });
    const s = audit.sanitize;
    if (s !== undefined) {
      this.rows.inc({ direction: 'in' }, s.rowsIn);
      this.rows.inc({ direction: 'out' }, s.rowsOut);
      this.suppressed.inc({ what: 'rows' }, s.rowsSuppressed);
      this.suppressed.inc({ what: 'count cells' }, s.cellsSuppressed);
    }
    if (audit.budget?.charged === true && audit.consumer !== undefined) this.budget.inc({ consumer: audit.consumer }, audit.budget.epsilon);
    const c = audit.cohorts;
    if (c !== undefined) this.suppressed.inc({ what: 'cohort cells' }, c.primary + c.complement + c.secondary);
  }

  policyReload(outcome: 'loaded' | 'rejected'): void {
    this.reloads.inc({ outcome });
  }

  /** The refresh patterns' counts (cohort/tables-made.ts TablesMade.stats), once per registry. */
  tablesMade(stats: { readonly heldUntilRefresh: number }): void {
    const name = 'gpp_cells_held_until_refresh';
    if (this.registry.getSingleMetric(name) !== undefined) return;
    new Gauge({
      name, registers: [this.registry], collect() { this.set(stats.heldUntilRefresh); },
      help: "Cohort and score cells released suppressed until Graph's next refresh, since start: a policy change within the refresh widened a table beside cells the refresh's releases showed and the new table hides, so the cells it would show for the first time stay hidden.",
    });
  }

  /** The directory pins' counts (cohort/sources.ts DirectoryPins), once per registry. */
  directoryPins(stats: { readonly mismatched: number }): void {
    const name = 'gpp_directory_pin_mismatches';
    if (this.registry.getSingleMetric(name) !== undefined) return;
    new Gauge({
      name, registers: [this.registry], collect() { this.set(stats.mismatched); },
      help: "Times the score's reports were pinned to two directories (a directory change between reads of reports Graph refreshed on different dates), so the score was released for the organisation only, since start.",
    });
  }

}

export interface TelemetryOptions {
  readonly metrics: ProxyMetrics;
  readonly policies: { readonly current: PolicySet; readonly problem?: string | undefined; readonly lastRejection?: PolicyRejection | undefined };
  /** Whether a Graph access token can be obtained now. */
  readonly graphReady: () => Promise<boolean>;
  /** Which kind of Entra credential the proxy uses (secret, certificate, ...); never the credential itself. */
  readonly credentialKind?: string;
  /** Whether the shared state answers (absent: no store configured). */
  readonly storeReady?: () => Promise<boolean>;
  /** The bearer token /metrics needs (GPP_METRICS_TOKEN); without one, /metrics does not exist. */
  readonly metricsToken?: string;
}

export async function telemetryRoutes(app: FastifyInstance, options: TelemetryOptions): Promise<void> {
  app.get('/healthz', { schema: { tags: ["operations"], summary: "Liveness", description: "200 while the process serves.", security: [] } }, async (request, reply) => {
    request.audit.kind = 'probe';
    return reply.header('cache-control', 'no-store').send({ status: 'ok' });
  });
  app.get('/readyz', { schema: { tags: ["operations"], summary: "Readiness", description: "200 when a policy set is loaded and a Graph token can be obtained; 503 otherwise, with the failing check. Names the kind of Entra credential in use, never the credential. After a refused policy reload, policyReload says why (the last good set still serves).", security: [] } }, async (request, reply) => {
    request.audit.kind = 'probe';
    const within = (check: () => Promise<boolean>) => Promise.race([check(), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5000).unref())]).catch(() => false);
    const [graph, store] = await Promise.all([within(options.graphReady), options.storeReady !== undefined ? within(options.storeReady) : Promise.resolve(true)]);
    // A policy directory that no longer reads whole (an emptied or broken mount) is not ready, though the last good set serves.
    const policyProblem = options.policies.problem;
    const checks = { policies: policyProblem === undefined ? options.policies.current.version : 'unreadable', graphToken: graph ? 'ok' : 'unavailable', ...(options.credentialKind !== undefined ? { credential: options.credentialKind } : {}), ...(options.storeReady !== undefined ? { store: store ? 'ok' : 'unavailable' } : {}) };
    // A refused change leaves the proxy ready (the last good set serves), but an operator must see why it did not go live.
    const rejection = options.policies.lastRejection;
    const details = rejection === undefined ? {} : { policyReload: { outcome: 'rejected', at: rejection.at.toISOString(), keptVersion: rejection.keptVersion, reasons: rejection.reasons } };
    const ready = graph && store && policyProblem === undefined;
    return reply.code(ready ? 200 : 503).header('cache-control', 'no-store').send({ ready, checks, ...details });
  });
  app.get('/metrics', { schema: { tags: ["operations"], summary: "Prometheus metrics", description: "Counts by consumer, report and outcome; no label names a person. Needs the metrics token (Authorization: Bearer); absent when none is configured.", security: [{ metricsToken: [] }] } }, async (request, reply) => {
    request.audit.kind = 'probe';
    if (options.metricsToken === undefined) throw new ProxyRefusal(404, 'NotFound', 'No such resource: reports are under /v1.0/reports/ and /beta/reports/.');
    if (!presentsToken(request, options.metricsToken)) throw new ProxyRefusal(401, 'InvalidAuthenticationToken', 'The metrics need the metrics token: send Authorization: Bearer <token>.');
    return reply.header('cache-control', 'no-store').type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
  });
}
