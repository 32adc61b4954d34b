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
  /**
   * The directory every release of data refreshed on `refreshDate` (YYYY-MM-DD; null: an empty report) is joined
   * to (DirectoryPins); without it, the current one.
   */
  forData?(refreshDate: string | null): Promise<Directory>;
}

/** How many refresh dates DirectoryPins keeps a directory for: every date Graph serves (28 days) and more. */
const PINNED_DATES = 64;

/**
 * One directory per refresh date, the first read for it, for every release made of that date's data: the cohorts
 * of each report, each policy's table and the score read the same data at different times of the day, and a
 * directory change in between (a leaver, a move) would otherwise join one snapshot to two directories, whose
 * difference is the mover's row (red team, test/redteam/linked-directory-change.test.ts). Held in memory: a
 * restart pins anew.
 */
export class DirectoryPins implements DirectoryLookup {
  private readonly pins = new Map<string, Promise<Directory>>();

  constructor(private readonly source: DirectoryLookup) {}

  current(): Promise<Directory> {
    return this.source.current();
  }

  forData(refreshDate: string | null): Promise<Directory> {
    if (refreshDate === null) return this.source.current();
    let pinned = this.pins.get(refreshDate);
    if (pinned === undefined) {
      pinned = this.source.current();
      // A failed read (concealed names, Graph down) pins nothing: the next release tries again.
      pinned.catch(() => this.pins.delete(refreshDate));
      this.pins.set(refreshDate, pinned);
      // The oldest refresh date goes first (never today's, however many single days were read since).
      if (this.pins.size > PINNED_DATES) this.pins.delete([...this.pins.keys()].sort()[0]!);
    }
    return pinned;
  }
}

/** The directory releases of data refreshed on `refreshDate` are joined to (DirectoryLookup.forData, else the current one). */
export function directoryForData(lookup: DirectoryLookup, refreshDate: string | null): Promise<Directory> {
  return lookup.forData !== undefined ? lookup.forData(refreshDate) : lookup.current();
}
