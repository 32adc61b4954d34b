/**
 * What the cohort and score services read, declared here so that they never import graph/: graph/'s
 * SnapshotCache and DirectorySource have these shapes (structurally), and the app factory passes them in.
 */
import type { ReportCall } from '../catalogue/odata.js';
import type { Directory } from './directory.js';

/** A leased snapshot of one report: its CSV can be read as often as needed until `release()`. */
export interface LeasedSnapshot {
  csv(): AsyncIterable<Buffer>;
  release(): void;
  /** What the snapshot cache derived from the rows while validating them (SnapshotCacheOptions.summarizeCsv), once. */
  takeSummary?(): unknown;
  /** SHA-256 (hex) of the snapshot's content (graph/snapshots.ts), if known: what score noise is bound to. */
  readonly digest?: string;
}

/** Report snapshots (graph/snapshots.ts SnapshotCache); `stats.hits` counts leases served from the cache. */
export interface SnapshotSource {
  readonly stats: { readonly hits: number };
  lease(call: ReportCall, format: 'csv'): Promise<LeasedSnapshot>;
}

/** The tenant directory (graph/directory-source.ts DirectorySource); may throw ConcealedNamesError. */
export interface DirectoryLookup {
  current(): Promise<Directory>;
}
