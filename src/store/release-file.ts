/**
 * The embedded store's release book: each slot's release of its latest epoch and the last release each consumer
 * was served, in an append-only, fsync'd file (a release line, then the lines that point at it), so a restart
 * serves the epoch's release unchanged (a directory change within the day releases nothing new) and a consumer
 * whose budget is spent still gets its last release, stale. Replayed whole when opened; releases past
 * `RELEASE_RETENTION_DAYS` and releases nothing points at are dropped, and the file is compacted when most of
 * its lines are superseded.
 */
import { AppendOnlyFile } from './append-only-file.js';
import { parseServedRelease, parseStoredRelease, StoreCorruptError, type StoredRelease } from './records.js';
import { releaseExpired, type ReleaseStore } from './store.js';

/** Compact when the file holds more than this many lines beyond twice the live ones. */
const COMPACTION_SLACK = 256;

export class ReleaseFile implements ReleaseStore {
  /** Release id -> release, for every release a slot or a consumer points at. */
  private readonly releases = new Map<string, StoredRelease>();
  /** Slot -> id of its release. */
  private readonly currentBySlot = new Map<string, string>();
  /** Consumer and slot -> id of the release last served. */
  private readonly servedBy = new Map<string, string>();
  private lineCount = 0;

  private constructor(
    private readonly file: AppendOnlyFile,
    private readonly now: () => Date,
  ) {}

  /**
   * Opens (or creates) the file and replays it. A torn, unterminated tail is cut off (that release was never
   * served); any other invalid line, or a line pointing at a release the file does not hold, refuses it with
   * `StoreCorruptError` (file:line).
   */
  static async open(path: string, now: () => Date = () => new Date()): Promise<ReleaseFile> {
    const file = await AppendOnlyFile.open(path);
    const book = new ReleaseFile(file, now);
    try {
      file.lines.forEach((line, i) => {
        if (line.trim() === '') return;
        const where = `${path}:${i + 1}`;
        if (line.startsWith('{"consumer"')) {
          const served = parseServedRelease(line, where);
          if (!book.releases.has(served.release)) throw new StoreCorruptError(where, 'points at a release the file does not hold');
          book.servedBy.set(servedKey(served.consumer, served.slot), served.release);
        } else {
          book.adopt(parseStoredRelease(line, where));
        }
        book.lineCount++;
      });
      book.dropExpired();
      await book.compactIfBloated();
    } catch (error) {
      await file.close();
      throw error;
    }
    return book;
  }

  async current(slot: string): Promise<StoredRelease | undefined> {
    const id = this.currentBySlot.get(slot);
    return id === undefined ? undefined : this.releases.get(id);
  }

  commit(release: StoredRelease): Promise<StoredRelease> {
    return this.file.serially(async (append) => {
      const held = this.currentBySlot.get(release.slot);
      const kept = held === undefined ? undefined : this.releases.get(held);
      if (kept !== undefined && kept.epoch >= release.epoch) return kept;
      await append(JSON.stringify(release));
      this.lineCount++;
      this.adopt(release);
      this.collect();
      return release;
    });
  }

  async lastServed(consumer: string, slot: string): Promise<StoredRelease | undefined> {
    const id = this.servedBy.get(servedKey(consumer, slot));
    return id === undefined ? undefined : this.releases.get(id);
  }

  served(consumer: string, release: StoredRelease): Promise<void> {
    return this.file.serially(async (append, rewrite) => {
      const key = servedKey(consumer, release.slot);
      if (this.servedBy.get(key) === release.id) return;
      if (!this.releases.has(release.id)) {
        // Served after the slot moved on (another request committed a later epoch meanwhile): keep it as well.
        await append(JSON.stringify(release));
        this.lineCount++;
        this.releases.set(release.id, release);
      }
      await append(JSON.stringify({ consumer, slot: release.slot, release: release.id }));
      this.lineCount++;
      this.servedBy.set(key, release.id);
      this.collect();
      if (this.bloated()) {
        const lines = this.liveLines();
        await rewrite(lines);
        this.lineCount = lines.length;
      }
    });
  }

  close(): Promise<void> {
    return this.file.close();
  }

  /** A release read back: it becomes its slot's release unless the slot holds a later epoch. */
  private adopt(release: StoredRelease): void {
    this.releases.set(release.id, release);
    const held = this.currentBySlot.get(release.slot);
    const kept = held === undefined ? undefined : this.releases.get(held);
    if (kept === undefined || kept.epoch <= release.epoch) this.currentBySlot.set(release.slot, release.id);
  }

  private dropExpired(): void {
    const now = this.now();
    for (const [slot, id] of this.currentBySlot) if (releaseExpired(this.releases.get(id)!.epoch, now)) this.currentBySlot.delete(slot);
    for (const [key, id] of this.servedBy) if (releaseExpired(this.releases.get(id)!.epoch, now)) this.servedBy.delete(key);
    this.collect();
  }

  /** Forgets releases nothing points at any more. */
  private collect(): void {
    const live = new Set([...this.currentBySlot.values(), ...this.servedBy.values()]);
    for (const id of this.releases.keys()) if (!live.has(id)) this.releases.delete(id);
  }

  private liveLines(): string[] {
    const served = [...this.servedBy].map(([key, release]) => {
      const [consumer, slot] = key.split('\u0000') as [string, string];
      return JSON.stringify({ consumer, slot, release });
    });
    return [...[...this.releases.values()].map((r) => JSON.stringify(r)), ...served];
  }

  private bloated(): boolean {
    return this.lineCount > 2 * (this.releases.size + this.servedBy.size) + COMPACTION_SLACK;
  }

  private compactIfBloated(): Promise<void> {
    return this.file.serially(async (_append, rewrite) => {
      if (!this.bloated()) return;
      const lines = this.liveLines();
      await rewrite(lines);
      this.lineCount = lines.length;
    });
  }
}

const servedKey = (consumer: string, slot: string) => `${consumer}\u0000${slot}`;
