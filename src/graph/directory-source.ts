/**
 * The tenant directory for cohort joins, from Graph: `/admin/reportSettings` first (with concealed names on,
 * report rows carry hashes instead of UPNs, so a join would silently match no one: refused with a clear error
 * instead), then every page of `/users` with the cohort attributes. Cached for a time-to-live, fetched
 * single-flight; it holds identifiers, so it stays in memory and is never logged or released.
 */
import { ConcealedNamesError, DIRECTORY_ATTRIBUTES, Directory, type DirectoryEntry } from '../cohort/directory.js';
import { duringRequestChain } from '../event-loop/turns.js';
import type { GraphClient } from './client.js';
import { nextSkipToken } from './snapshots.js';
import { UpstreamError } from './upstream-error.js';

const SELECT = ['userPrincipalName', ...DIRECTORY_ATTRIBUTES].join(',');

export class DirectorySource {
  private cached: { directory: Directory; expiresAt: number } | undefined;
  private pending: Promise<Directory> | undefined;

  constructor(
    private readonly client: GraphClient,
    private readonly ttlMs: number,
    private readonly maxPages = 10_000,
  ) {}

  /** The directory already held (not expired), or undefined; never fetches. */
  held(): Directory | undefined {
    return this.cached !== undefined && Date.now() < this.cached.expiresAt ? this.cached.directory : undefined;
  }

  async current(): Promise<Directory> {
    if (this.cached !== undefined && Date.now() < this.cached.expiresAt) return this.cached.directory;
    this.pending ??= this.fetch().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async fetch(): Promise<Directory> {
    const settings = (await this.client.getJson('/v1.0/admin/reportSettings')) as { displayConcealedNames?: unknown } | undefined;
    if (typeof settings?.displayConcealedNames !== 'boolean') throw new UpstreamError('BadResponse', 'admin/reportSettings did not say whether names are concealed');
    if (settings.displayConcealedNames) throw new ConcealedNamesError();
    // The pages wait on each other: their chain runs with short turns (event-loop/turns.ts).
    const directory = await duringRequestChain(() => Directory.fromPages(this.pages()));
    if (this.ttlMs > 0) this.cached = { directory, expiresAt: Date.now() + this.ttlMs };
    return directory;
  }

  /**
   * Every page of `/users` with the cohort attributes, one page's entries at a time. The next page is asked for
   * as soon as its `$skiptoken` is known, before this page's entries are taken: the pages come one after another
   * (each needs the last one's token), so the directory takes a round trip per page at least; adding a page's
   * entries (about 2 ms for 999 at 300,000 users, issue 18) no longer lies between a page's arrival and the next
   * request. A request left unawaited when the reading stops is settled here (never an unhandled rejection).
   */
  private async *pages(): AsyncGenerator<DirectoryEntry[]> {
    let next: Promise<unknown> | undefined = this.page(0, undefined);
    for (let page = 0; next !== undefined; page++) {
      const body = (await next) as { value?: unknown };
      if (!Array.isArray(body?.value)) throw new UpstreamError('BadResponse', 'a /users page has no value array');
      const skipToken = nextSkipToken(body);
      next = skipToken === undefined ? undefined : this.page(page + 1, skipToken);
      yield body.value.filter((entry): entry is DirectoryEntry => typeof entry === 'object' && entry !== null);
    }
  }

  /**
   * Asks for page `index` of `/users` (0: the first; then the one `skipToken` names); throws BadResponse past
   * `maxPages`. Its failure is also settled here: a page asked for ahead may be left unawaited when the reading stops.
   */
  private page(index: number, skipToken: string | undefined): Promise<unknown> {
    if (index >= this.maxPages) throw new UpstreamError('BadResponse', `the directory has more than ${this.maxPages} pages`);
    const query = `$select=${SELECT}&$top=999${skipToken !== undefined ? `&$skiptoken=${encodeURIComponent(skipToken)}` : ''}`;
    const page = this.client.getJson(`/v1.0/users?${query}`);
    page.catch(() => undefined);
    return page;
  }
}
