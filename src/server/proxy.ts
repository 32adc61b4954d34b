/**
 * Wiring a running proxy from its settings: policy store (hot reload), Graph token and client, snapshot
 * cache, keys, sealing secret, TLS, audit logger. `startProxy` is what `serve`, `npm start` and the end-to-end
 * tests call.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { GraphClient } from '../graph/client.js';
import { DirectorySource } from '../graph/directory-source.js';
import { ReleaseCache } from '../graph/releases.js';
import { SnapshotCache } from '../graph/snapshots.js';
import { EntraTokens, type EntraCredential } from '../graph/token.js';
import { activationCandidate } from '../policy/activation.js';
import { recordActivation } from '../policy/history.js';
import type { PolicyHistoryStore } from '../store/store.js';
import { PolicyStore, type PolicyReloadEvent } from '../policy/load.js';
import { plannedOrganisationEpsilon } from '../policy/budget-plan.js';
import { linkedMetricHeaders } from '../policy/decide.js';
import { openEmbeddedStore } from '../store/embedded-store.js';
import type { RedisStore } from '../store/redis-store.js';
import { RedisSharedSnapshots } from '../store/shared-snapshots.js';
import type { Store } from '../store/store.js';
import { PseudonymMemo, type PseudonymKeyring } from '../sanitize/pseudonyms.js';
import { scoreFactsSummarizer } from '../score/score-facts.js';
import { CsvValidationPool } from '../graph/csv-validation.js';
import { buildApp } from './app.js';
import type { PolicyActivation } from './disclosure.js';
import { CONFIG_SCHEMA } from './config.js';
import { auditLogger } from './audit.js';
import type { ConsumerKeys } from './consumer-keys.js';
import { Sealer } from './sealed-tokens.js';
import { policyRequirementProblems } from './policy-requirements.js';
import { ProxyMetrics } from './telemetry.js';

export interface GraphSettings {
  /** e.g. https://graph.microsoft.com */
  readonly graphUrl: string;
  /** How the proxy obtains Graph tokens from Entra ID (secret, certificate, workload identity, managed identity). */
  readonly credential: EntraCredential;
  /** An extra CA (PEM) for the token endpoint's certificate (a private cloud; the simulator in tests). */
  readonly authorityCa?: string;
  /** Allowed 302 targets, e.g. https://reports*.office.com/data/ */
  readonly downloadHosts: readonly string[];
  readonly connectTimeoutMs?: number;
  readonly firstByteTimeoutMs?: number;
  readonly bodyTimeoutMs?: number;
  readonly maxRetries?: number;
  readonly maxRetryWaitMs?: number;
}

export interface ProxySettings {
  readonly host?: string;
  readonly port?: number;
  readonly policiesDir: string;
  readonly watchPolicies?: boolean;
  readonly consumerKeys: ConsumerKeys;
  readonly graph: GraphSettings;
  readonly pseudonymKeys: PseudonymKeyring;
  /** At least 32 bytes; replicas share it so they accept each other's cursors and links. */
  readonly sealSecret: Buffer;
  /**
   * Snapshot time-to-live; 0 turns the cache off: each download and each JSON listing fetches the report, and
   * a listing keeps its own release for its later pages only. Default: GPP_SNAPSHOT_TTL_SECONDS's.
   */
  readonly snapshotTtlSeconds?: number;
  readonly spillDir?: string;
  /**
   * Worker threads that validate fetched CSV reports and read the score's facts from them (graph/csv-validation.ts),
   * started on first use; 0 validates on the event loop. Default: GPP_VALIDATION_THREADS's.
   */
  readonly validationThreads?: number;
  /** Key (32+ bytes) of the sticky cohort noise; replicas share it. Needed by policies with noise. */
  readonly noiseKey?: Buffer;
  /** The privacy-budget ledger file (append-only). Needed by policies with noise. */
  readonly ledgerFile?: string;
  /**
   * The organisation's yearly privacy limit (epsilon per person across all consumers); default: the live policy
   * set's planned total (policy/budget-plan.ts, what `policy check` prints).
   */
  readonly organisationEpsilonPerYear?: number;
  /** Requests per consumer per minute (default: GPP_RATE_LIMIT_PER_MINUTE's). */
  readonly rateLimitPerMinute?: number;
  /** Overload shedding thresholds (defaults: 1 s of event-loop delay, sampled every second). */
  readonly overload?: { readonly maxEventLoopDelayMs?: number; readonly sampleIntervalMs?: number };
  /** The policy history file (hash-chained, append-only); default policy-history.jsonl beside the ledger. */
  readonly policyHistoryFile?: string;
  /** The org score's history file (append-only; six months are shown). */
  readonly historyFile?: string;
  /** Shared state in Redis (several replicas) instead of the embedded files. */
  readonly redisUrl?: string;
  readonly redisPrefix?: string;
  /** How long the directory (for cohort joins) is kept; default: the snapshot time-to-live. */
  readonly directoryTtlSeconds?: number;
  /** PEM key and certificate; plain HTTP only when explicitly `false`. */
  readonly tls: { readonly key: string; readonly cert: string } | false;
  /** The base URL consumers reach the proxy at (default: the address it listens on). */
  readonly publicUrl?: string;
  readonly logger?: Logger;
  readonly downloadLinkSeconds?: number;
  /** The most time a client has to send its whole request, in ms (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** The bearer token /metrics needs (16+ characters); without it there is no /metrics. */
  readonly metricsToken?: string;
}

export interface RunningProxy {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly policies: PolicyStore;
  readonly graph: GraphClient;
  readonly snapshots: SnapshotCache;
  readonly releases: ReleaseCache;
  close(): Promise<void>;
}

export async function startProxy(settings: ProxySettings): Promise<RunningProxy> {
  const logger = settings.logger ?? auditLogger();
  let metrics: ProxyMetrics | undefined;
  // Since when the live set is live: from the policy history when there is a store, else since it loaded here.
  let live: PolicyActivation | undefined;
  let policyHistory: PolicyHistoryStore | undefined;
  // Released output and pseudonyms are cached per policy version and key epoch; a new set drops them all.
  const releases = new ReleaseCache(settings.spillDir !== undefined ? { spillDir: settings.spillDir } : {});
  const pseudonymMemo = new PseudonymMemo();
  const onReload = async (event: PolicyReloadEvent) => {
    metrics?.policyReload(event.kind);
    if (event.kind === 'loaded') {
      releases.clear();
      pseudonymMemo.clear();
      const { more, less, changed, lines } = event.changes;
      logger.info({ policyVersion: event.version, previousVersion: event.previousVersion, policies: event.policies, exposureIncreases: more, exposureDecreases: less, otherChanges: changed, changes: lines }, 'policy set loaded');
      live = { version: event.version, since: new Date().toISOString() };
      if (policyHistory !== undefined) {
        try {
          const entry = await recordActivation(policyHistory, event.set, event.changes);
          live = { version: entry.version, since: entry.at, historyEntry: entry.seq };
        } catch (error) {
          logger.error({ policyVersion: event.version, error: (error as Error).message }, 'the policy history could not record this set');
        }
      }
    } else {
      logger.error({ keptVersion: event.keptVersion, problems: event.problems.map((p) => `${p.file}:${p.position.line}:${p.position.column}: ${p.message}`) }, 'policy set rejected; the last good set stays');
    }
  };
  // A set goes live (at start and on every reload) only if it validates, its tests pass, and this proxy holds
  // what it needs (the pseudonym keys it names; a noise key and a ledger for noisy cohorts).
  const held = {
    pseudonymKeyIds: new Set(settings.pseudonymKeys.keys()),
    noiseKey: settings.noiseKey !== undefined,
    ledger: settings.redisUrl !== undefined || settings.ledgerFile !== undefined,
  };
  const policies = await PolicyStore.open(settings.policiesDir, onReload, {
    load: (dir) => activationCandidate(dir, { requirements: (set) => policyRequirementProblems(set, held) }),
  });
  if (settings.watchPolicies !== false) policies.watch();
  const g = settings.graph;
  const tokens = new EntraTokens({ credential: g.credential, ...(g.authorityCa !== undefined ? { authorityCa: g.authorityCa } : {}) });
  const graph = new GraphClient({
    graphUrl: g.graphUrl, downloadHosts: g.downloadHosts, tokens,
    ...(g.connectTimeoutMs !== undefined ? { connectTimeoutMs: g.connectTimeoutMs } : {}),
    ...(g.firstByteTimeoutMs !== undefined ? { firstByteTimeoutMs: g.firstByteTimeoutMs } : {}),
    ...(g.bodyTimeoutMs !== undefined ? { bodyTimeoutMs: g.bodyTimeoutMs } : {}),
    ...(g.maxRetries !== undefined ? { maxRetries: g.maxRetries } : {}),
    ...(g.maxRetryWaitMs !== undefined ? { maxRetryWaitMs: g.maxRetryWaitMs } : {}),
    onUpstream: (seconds, outcome) => metrics?.upstreamLatency.observe({ outcome }, seconds),
  });
  const ttlMs = (settings.snapshotTtlSeconds ?? CONFIG_SCHEMA.properties.snapshotTtlSeconds.default) * 1000;
  if (settings.noiseKey !== undefined && settings.noiseKey.length < 32) throw new Error('the noise key must hold at least 32 bytes');
  let store: Store | undefined;
  // Redis (ioredis, some 50 modules) is loaded only when configured.
  let redisStore: RedisStore | undefined;
  try {
    store =
      settings.redisUrl !== undefined
        ? (redisStore = await (await import('../store/redis-store.js')).RedisStore.connect(settings.redisUrl, settings.redisPrefix))
        : settings.ledgerFile !== undefined && settings.historyFile !== undefined
          ? await openEmbeddedStore({ ledgerFile: settings.ledgerFile, historyFile: settings.historyFile, ...(settings.policyHistoryFile !== undefined ? { policyHistoryFile: settings.policyHistoryFile } : {}) })
          : undefined;
  } catch (error) {
    // A corrupt or locked store refuses start-up; nothing opened so far may outlive the refusal.
    await policies.close();
    await graph.close();
    throw error;
  }
  policyHistory = store?.policyHistory;
  live = { version: policies.current.version, since: new Date().toISOString() };
  if (policyHistory !== undefined) {
    try {
      const entry = await recordActivation(policyHistory, policies.current, undefined);
      live = { version: entry.version, since: entry.at, historyEntry: entry.seq };
    } catch (error) {
      await policies.close();
      await graph.close();
      await store?.close();
      throw error;
    }
  }
  const ledger = store?.budget;
  const history = store?.history;
  const validationThreads = settings.validationThreads ?? CONFIG_SCHEMA.properties.validationThreads.default;
  const csvValidation = validationThreads > 0 ? new CsvValidationPool({ threads: validationThreads }) : undefined;
  const snapshots = new SnapshotCache({
    client: graph, ttlMs,
    // The score's reports yield people's facts in the validation pass (in a worker, or here): each is parsed once.
    summarizeCsv: scoreFactsSummarizer((report) => linkedMetricHeaders(policies.current, report)),
    ...(csvValidation !== undefined ? { csvValidation } : {}),
    // Graph's concealed-names setting changed: every pseudonym derived from a user name changes with it.
    onNameFormSwitch: (change) => logger.warn({ event: 'concealedNamesSwitched', ...change }, 'Graph now writes user names in another form (the tenant switched its concealed-names setting): every pseudonym derived from a user name changes from here on'),
    ...(settings.spillDir !== undefined ? { spillDir: settings.spillDir } : {}),
    ...(redisStore !== undefined ? { shared: new RedisSharedSnapshots(redisStore.redis, settings.sealSecret, settings.redisPrefix) } : {}),
  });
  metrics = new ProxyMetrics({ graph, snapshots });
  const directory = new DirectorySource(graph, settings.directoryTtlSeconds !== undefined ? settings.directoryTtlSeconds * 1000 : ttlMs);
  let publicUrl = settings.publicUrl ?? '';
  const app = buildApp({
    logger,
    policies,
    keys: settings.consumerKeys,
    snapshots,
    graph,
    pseudonymKeys: settings.pseudonymKeys,
    sealer: new Sealer(settings.sealSecret),
    publicUrl: () => publicUrl,
    releases,
    pseudonymMemo,
    rowOrderSecret: settings.sealSecret,
    directory,
    metrics,
    ...(store !== undefined ? { store } : {}),
    limits: {
      ...settings.overload,
      ...(settings.rateLimitPerMinute !== undefined ? { perMinute: settings.rateLimitPerMinute } : {}),
      ...(redisStore !== undefined ? { redis: redisStore.redis, ...(settings.redisPrefix !== undefined ? { redisPrefix: settings.redisPrefix } : {}) } : {}),
    },
    ...(history !== undefined ? { history } : {}),
    policyActivation: () => live,
    noise: {
      ...(settings.noiseKey !== undefined ? { key: settings.noiseKey } : {}),
      ...(ledger !== undefined ? { ledger } : {}),
      ...(store !== undefined ? { releases: store.releases } : {}),
      organisationEpsilonPerYear: () => settings.organisationEpsilonPerYear ?? plannedOrganisationEpsilon(policies.current),
    },
    ...(settings.downloadLinkSeconds !== undefined ? { downloadLinkSeconds: settings.downloadLinkSeconds } : {}),
    ...(settings.requestTimeoutMs !== undefined ? { requestTimeoutMs: settings.requestTimeoutMs } : {}),
    ...(settings.metricsToken !== undefined ? { metricsToken: settings.metricsToken } : {}),
    ...(settings.tls !== false ? { https: settings.tls } : {}),
  });
  try {
    const address = await app.listen({ host: settings.host ?? '127.0.0.1', port: settings.port ?? 0 });
    if (publicUrl === '') publicUrl = address.replace('[::1]', 'localhost');
  } catch (error) {
    await policies.close();
    await graph.close();
    await store?.close();
    throw error;
  }
  return {
    url: publicUrl,
    app,
    policies,
    graph,
    snapshots,
    releases,
    async close() {
      await app.close();
      await policies.close();
      snapshots.clear();
      releases.clear();
      await csvValidation?.close();
      await graph.close();
      await store?.close();
    },
  };
}
