/**
 * The tenant directory for cohort joins, from Graph: `/admin/reportSettings` first (with concealed names on,
 * report rows carry hashes instead of UPNs, so a join would silently match no one: refused with a clear error
 * instead), then every page of `/users` with the cohort attributes. Cached for a time-to-live, fetched
 * single-flight; it holds identifiers, so it stays in memory and is never logged or released.
 */
import { ConcealedNamesError, DIRECTORY_ATTRIBUTES, Directory, type DirectoryEntry } from '../cohort/directory.js';
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
    const directory = await Directory.fromPages(this.pages());
    if (this.ttlMs > 0) this.cached = { directory, expiresAt: Date.now() + this.ttlMs };
    return directory;
  }

  /** Every page of `/users` with the cohort attributes, one page's entries at a time. */
  private async *pages(): AsyncGenerator<DirectoryEntry[]> {
    let skipToken: string | undefined;
    for (let page = 0; ; page++) {
      if (page >= this.maxPages) throw new UpstreamError('BadResponse', `the directory has more than ${this.maxPages} pages`);
      const query = `$select=${SELECT}&$top=999${skipToken !== undefined ? `&$skiptoken=${encodeURIComponent(skipToken)}` : ''}`;
      const body = (await this.client.getJson(`/v1.0/users?${query}`)) as { value?: unknown };
      if (!Array.isArray(body?.value)) throw new UpstreamError('BadResponse', 'a /users page has no value array');
      yield body.value.filter((entry): entry is DirectoryEntry => typeof entry === 'object' && entry !== null);
      skipToken = nextSkipToken(body);
      if (skipToken === undefined) return;
    }
  }
}
