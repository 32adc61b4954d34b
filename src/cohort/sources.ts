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
  /** `fetchedAfter` (ms since the epoch): a snapshot fetched before it is fetched again. */
  lease(call: ReportCall, format: 'csv', options?: { readonly fetchedAfter?: number }): Promise<LeasedSnapshot>;
}

/** The tenant directory (graph/directory-source.ts DirectorySource); may throw ConcealedNamesError. */
export interface DirectoryLookup {
  current(): Promise<Directory>;
  /**
   * The directory every release of data refreshed on `refreshDate` (YYYY-MM-DD; null: an empty report) is joined
   * to (DirectoryPins); without it, the current one. `alongside`: the refresh dates of other reports the caller
   * joins to the same directory (the score's), pinned to it where no directory is pinned for them yet.
   */
  forData?(refreshDate: string | null, alongside?: readonly (string | null)[]): Promise<Directory>;
  /** Whether `refreshDates` (nulls aside) are pinned to more than one directory (DirectoryPins); absent: never. */
  pinnedApart?(refreshDates: readonly (string | null)[]): boolean;
}

/** How many refresh dates DirectoryPins keeps a directory for: every date Graph serves (28 days) and more. */
const PINNED_DATES = 64;

/**
 * One directory per refresh date, the first read for it, for every release made of that date's data: the cohorts
 * of each report, each policy's table and the score read the same data at different times of the day, and a
 * directory change in between (a leaver, a move) would otherwise join one snapshot to two directories, whose
 * difference is the mover's row (red team, test/redteam/linked-directory-change.test.ts). Held in memory: a
 * restart pins anew.
 *
 * The score joins several reports to one directory, and Graph refreshes reports apart (a day or two: "usually
 * available within 48 hours", report by report, graph-reports.md). It asks for the pin of the report its linked
 * category is read from (the Teams report's, whose cohorts share a table with Meetings), and pins its other
 * reports' dates to the same directory where they have none yet (test/redteam/linked-pins-refresh-dates.test.ts).
 * Where another of its dates already has a different pin (its cohorts were read before a directory change and the
 * linked report's after it), that report's score categories would be joined to another directory than its cohorts
 * (Content collaboration counts the OneDrive cohorts' people where nobody syncs: red team,
 * test/redteam/linked-pins-mismatch.test.ts): the score then releases the organisation only (pinnedApart;
 * score/org-scores.ts), counted in `stats.mismatched` (the metric gpp_directory_pin_mismatches).
 */
export class DirectoryPins implements DirectoryLookup {
  private readonly pins = new Map<string, Promise<Directory>>();
  /** `mismatched`: dates asked for alongside another that already had a different directory pinned. */
  readonly stats = { mismatched: 0 };

  constructor(private readonly source: DirectoryLookup) {}

  current(): Promise<Directory> {
    return this.source.current();
  }

  forData(refreshDate: string | null, alongside: readonly (string | null)[] = []): Promise<Directory> {
    if (refreshDate === null) return this.source.current();
    const pinned = this.pins.get(refreshDate) ?? this.pin(refreshDate, this.source.current());
    for (const date of new Set(alongside)) {
      if (date === null || date === refreshDate) continue;
      const other = this.pins.get(date);
      if (other === undefined) this.pin(date, pinned);
      else if (other !== pinned) this.stats.mismatched++;
    }
    return pinned;
  }

  /** The directory pinned for `refreshDate`, if a release of that refresh pinned one; pins nothing (the policy preview reads it). */
  pinned(refreshDate: string): Promise<Directory> | undefined {
    return this.pins.get(refreshDate);
  }

  pinnedApart(refreshDates: readonly (string | null)[]): boolean {
    return new Set(refreshDates.flatMap((date) => (date === null ? [] : [this.pins.get(date)]))).size > 1;
  }

  private pin(refreshDate: string, directory: Promise<Directory>): Promise<Directory> {
    // A failed read (concealed names, Graph down) pins nothing: the next release tries again.
    directory.catch(() => {
      if (this.pins.get(refreshDate) === directory) this.pins.delete(refreshDate);
    });
    this.pins.set(refreshDate, directory);
    // The oldest refresh date goes first (never today's, however many single days were read since).
    if (this.pins.size > PINNED_DATES) this.pins.delete([...this.pins.keys()].sort()[0]!);
    return directory;
  }
}

/**
 * The current directory, read from now on while the caller does other work (fetches its reports): a big
 * tenant's directory is hundreds of pages. Its failure is the caller's when it awaits the result, never an
 * unhandled rejection when the caller fails first.
 */
export function readAlongside(lookup: DirectoryLookup): Promise<Directory> {
  const read = lookup.current();
  read.catch(() => undefined);
  return read;
}

/**
 * The directory releases of data refreshed on `refreshDate` are joined to (DirectoryLookup.forData, else the
 * current one); `alongside`: other reports' dates joined to it too (the score's).
 */
export function directoryForData(lookup: DirectoryLookup, refreshDate: string | null, alongside?: readonly (string | null)[]): Promise<Directory> {
  return lookup.forData !== undefined ? lookup.forData(refreshDate, alongside) : lookup.current();
}
