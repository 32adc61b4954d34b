/**
 * The audit log (privacy.md "Audit"): one structured line per request with the consumer, report, policy and
 * its version hash, rows in and out, columns dropped, rows suppressed and the status. Counts and names of
 * things only: never a cell value, an identifier or a header that carries a secret (pino redacts those paths
 * as a second line of defence).
 */
import type { FastifyRequest } from 'fastify';
import pino, { type Logger, type LoggerOptions } from 'pino';
import type { SuppressionCounts } from '../cohort/suppress.js';
import type { CohortRelease } from '../cohort/cohort-releases.js';
import type { SanitizeStats } from '../sanitize/stats.js';

export interface AuditRecord {
  consumer?: string;
  report?: string;
  apiVersion?: string;
  period?: string;
  date?: string;
  format?: string;
  /** 'rows', 'cohort', 'deny', 'download', 'page' */
  kind?: string;
  policy?: string;
  policyVersion?: string;
  snapshot?: 'hit' | 'fetched';
  /** What sanitising the report did for this consumer (the whole release a page or download comes from). */
  sanitize?: SanitizeStats;
  /** A JSON page: where in the consumer's released items it starts, and how many it holds. */
  page?: { offset: number; items: number };
  /** Cells suppressed per reason, and whether the attacker LP verified the table. */
  cohorts?: SuppressionCounts;
  noise?: boolean;
  /** The consumer's budget is spent and it was served its last release (never a fresh one). */
  stale?: boolean;
  /** Noisy releases: whether this request charged the budget, and the consumer's spend this year. */
  budget?: { charged: boolean; spent: number; epsilon: number };
  error?: string;
}

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'key',
  'secret',
  'token',
  '*.authorization',
  '*.clientSecret',
  '*.secret',
  // Node attaches the raw bytes of an unparseable request (headers included) to client errors.
  'err.rawPacket',
  '*.rawPacket',
];

/**
 * The audit logger, on stdout unless given a destination. Stdout is written asynchronously: a line leaves at
 * once when no write is in progress, and lines that come while one is are written together after it, so a
 * busy proxy makes one write per batch instead of one blocking write per request (a synchronous write per
 * audit line was the largest single cost of a cached JSON page, bench/proxy-vs-forwarding.ts). Pending lines
 * are flushed when the process exits; only a process killed outright loses those still being written.
 */
export function auditLogger(options: LoggerOptions = {}, destination: pino.DestinationStream = pino.destination({ dest: 1, sync: false })): Logger {
  const settings: LoggerOptions = { level: 'info', base: { service: 'graph-privacy-proxy' }, ...options, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  return pino(settings, destination);
}

/** Cohort suppression counts for the audit line: how many cells, never which person. */
export function auditCohorts(request: FastifyRequest, release: CohortRelease): void {
  request.audit.kind = 'cohort';
  request.audit.snapshot = release.snapshot;
  request.audit.cohorts = { ...release.counts };
  request.audit.noise = release.budget !== undefined;
  if (release.stale) request.audit.stale = true;
  if (release.budget !== undefined) request.audit.budget = { charged: release.budget.charged, spent: release.budget.spent, epsilon: release.plan.noise?.epsilon ?? 0 };
}
