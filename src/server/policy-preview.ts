/**
 * `GET /policy/preview`: the live policy set previewed against the report snapshots and directory this proxy
 * holds now, for an operator whose own policy grants the 'preview' permission. It never asks Graph: a report
 * without a fresh snapshot is listed as not measured. Counts and risk figures only, never a row.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DirectoryPins } from '../cohort/sources.js';
import type { TablesMade } from '../cohort/tables-made.js';
import type { DirectorySource } from '../graph/directory-source.js';
import type { SnapshotCache } from '../graph/snapshots.js';
import type { PolicySet } from '../policy/load.js';
import { previewPolicySet, type PreviewData } from '../policy/preview.js';
import { grantingPolicy, consumerRequest } from './auth.js';
import type { ConsumerKeys } from './consumer-keys.js';

export interface PolicyPreviewRoutesOptions {
  readonly policies: { readonly current: PolicySet };
  readonly keys: ConsumerKeys;
  readonly snapshots: SnapshotCache;
  readonly directory: DirectorySource;
  /** The directory pinned per refresh date, which the live cohort releases are joined to (app.ts). */
  readonly pins: DirectoryPins;
  /** The tables and patterns the live releases of each refresh were made within (app.ts), read only. */
  readonly tablesMade: TablesMade;
}

/** What this proxy holds, as preview data: CSV snapshots of either API version, and the directory. */
function heldData(options: PolicyPreviewRoutesOptions): PreviewData {
  return {
    description: 'the report snapshots this proxy holds',
    report(report, period) {
      for (const version of ['v1.0', 'beta'] as const) {
        const snapshot = options.snapshots.held({ version, report, ...(report.periods.length > 0 ? { period } : {}) }, 'csv');
        if (snapshot !== undefined) return { open: () => snapshot.csv(), release: () => snapshot.release() };
      }
      return undefined;
    },
    // The refresh's pinned directory, as its releases are joined to; a refresh no release pinned one for is not
    // measured (the directory held now, read twice around a move, would say what the mover did).
    holdsBack: (report, period, refreshDate, table) => options.tablesMade.holdsBack({ source: report, window: period, refreshDate, table: '' }, table),
    directory: async (refreshDate) => {
      const pinned = refreshDate === null ? undefined : options.pins.pinned(refreshDate);
      return refreshDate === null ? options.directory.held() : pinned?.catch(() => undefined);
    },
  };
}

export async function policyPreviewRoutes(app: FastifyInstance, options: PolicyPreviewRoutesOptions): Promise<void> {
  app.get('/policy/preview', { schema: { tags: ['operations'], summary: 'Preview of the live policy set on the data the proxy holds', description: "Needs the 'preview' permission. Per consumer and report: rows in/out/withheld and re-identification risk, cohort cells released and suppressed by reason, 95% noise margins; reports without a held snapshot are listed as not measured (Graph is never asked).", security: [{ consumerKey: [] }] } }, async (request: FastifyRequest, reply: FastifyReply) => {
    const { consumer, set } = consumerRequest(request, reply, options.keys, options.policies);
    request.audit.kind = 'policy-preview';
    const loaded = grantingPolicy(set, consumer, 'preview', 'the policy preview');
    request.audit.policy = loaded.policy.name;
    return reply.header('cache-control', 'no-store').send(await previewPolicySet(set, heldData(options)));
  });
}
