/**
 * The book of releases: for each release slot (report or score, window, settings) the release of the current
 * epoch, made once and served unchanged to every consumer until the next epoch (Graph's next refresh, or the
 * next week), so a directory change within the day releases nothing new; the budget charge of noisy releases
 * (their noisy measures, each once for the organisation, with each consumer's share); and, once a consumer's
 * budget or the organisation's is spent, the last release the consumer was served, marked stale, never recomputed (privacy.md G6, G7; issue 15, items 3 and 6). The book is kept in
 * the Store (`NoiseSettings.releases`), so this holds across restarts and replicas; without one, in memory.
 */
import type { BudgetStore, ReleaseStore, StoredRelease } from '../store/store.js';
import type { NoisyMeasure, ReleaseSlot } from './release.js';

/** What the book needs of a release. */
export interface BookedRelease {
  readonly id: string;
  readonly slot: ReleaseSlot;
  /** 0 for an exact (suppression-only) release. */
  readonly epsilon: number;
  /** Its noisy measures (none when exact): what a consumer reading it is charged for. */
  readonly measures: readonly NoisyMeasure[];
}

/** A kept release's measures; one kept before measures were charged is one measure, its id, at its epsilon. */
export function storedMeasures(stored: StoredRelease): NoisyMeasure[] {
  return stored.measures !== undefined ? stored.measures.map((m) => ({ id: m.id, epsilon: m.epsilon })) : stored.epsilon > 0 ? [{ id: stored.id, epsilon: stored.epsilon }] : [];
}

/** Where noise keys, the budget ledger and the clock come from; without key and ledger a noisy policy is refused. */
export interface NoiseSettings {
  readonly key?: Buffer;
  readonly ledger?: BudgetStore;
  /** The clock the budget year is read from (tests inject a year of days). */
  readonly now?: () => Date;
  /** Where releases are kept (the Store's); without it, in this process's memory only. */
  readonly releases?: ReleaseStore;
  /**
   * The organisation's yearly limit (epsilon per person across all consumers) in force, if any: past it no fresh
   * noisy release is made for anyone, and each consumer is served its last release, stale.
   */
  readonly organisationEpsilonPerYear?: () => number | undefined;
}

/** How one kind of release is kept: its stored form, and the release again from that form. */
export interface ReleaseCodec<R extends BookedRelease> {
  store(release: R): StoredRelease;
  /** Throws StoreCorruptError when the stored release does not fit (the release then is not served). */
  revive(stored: StoredRelease): R;
}

/** The release book in memory (one process; what a proxy without a Store, and unit tests, use). */
export class MemoryReleaseStore implements ReleaseStore {
  private readonly bySlot = new Map<string, StoredRelease>();
  private readonly servedTo = new Map<string, StoredRelease>();
  async current(slot: string): Promise<StoredRelease | undefined> {
    return this.bySlot.get(slot);
  }
  async commit(release: StoredRelease): Promise<StoredRelease> {
    const kept = this.bySlot.get(release.slot);
    if (kept !== undefined && kept.epoch >= release.epoch) return kept;
    this.bySlot.set(release.slot, release);
    return release;
  }
  async lastServed(consumer: string, slot: string): Promise<StoredRelease | undefined> {
    return this.servedTo.get(`${consumer}\u0000${slot}`);
  }
  async served(consumer: string, release: StoredRelease): Promise<void> {
    this.servedTo.set(`${consumer}\u0000${release.slot}`, release);
  }
}

/** A consumer's budget after a release: whether this read was charged, its share spent, its yearly limit, the organisation's. */
export interface BudgetState {
  readonly charged: boolean;
  readonly spent: number;
  readonly epsilonPerYear: number;
  readonly organisation: { readonly spent: number; readonly epsilonPerYear: number | null };
}

export interface Served<R> {
  readonly release: R;
  /** The consumer's budget is spent: this is the last release it was served, not the current one. */
  readonly stale: boolean;
  readonly budget?: BudgetState;
}

/**
 * A noisy release refused (fail closed): the proxy has no noise key or budget ledger (`NoiseNotConfigured`), or
 * the consumer's or the organisation's privacy budget for the year is spent and the consumer was never served a
 * release of this slot to fall back on (`PrivacyBudgetExhausted`, privacy.md G6, G7).
 */
export class NoisyReleaseRefused extends Error {
  constructor(readonly code: 'NoiseNotConfigured' | 'PrivacyBudgetExhausted', message: string) {
    super(message);
    this.name = 'NoisyReleaseRefused';
  }
}

/** Refuses a noisy plan the proxy cannot serve: no noise key, no ledger or no yearly budget. */
export function requireNoise(settings: NoiseSettings, epsilonPerYear: number | undefined): { key: Buffer; ledger: BudgetStore; epsilonPerYear: number } {
  if (settings.key === undefined || settings.ledger === undefined || epsilonPerYear === undefined) {
    throw new NoisyReleaseRefused('NoiseNotConfigured', 'This policy releases noisy figures, but the proxy has no noise key or budget ledger configured.');
  }
  return { key: settings.key, ledger: settings.ledger, epsilonPerYear };
}

export class ReleaseBook<R extends BookedRelease> {
  /** Slot -> the release of its latest epoch, as revived (so a release is not decoded on every request). */
  private readonly current = new Map<string, R>();
  /** Consumer and slot -> the id of the last release recorded as served to it. */
  private readonly servedIds = new Map<string, string>();
  /** Slot -> the tail of its serialised decisions (two requests of one epoch must not both make a release). */
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly releases: ReleaseStore;

  constructor(
    private readonly noise: NoiseSettings,
    private readonly codec: ReleaseCodec<R>,
  ) {
    this.releases = noise.releases ?? new MemoryReleaseStore();
  }

  /**
   * The release `consumer` is served for `at` (a slot and the epoch of the data now held): the one already made
   * for this epoch (or a later one) if any, here, before a restart or on another replica, else the one `make`
   * makes, which then becomes the slot's release (so nothing is recomputed within an epoch). A noisy release's
   * measures are charged to the consumer's share (`epsilonPerYear` limits it) and, those nobody read yet, to the
   * organisation's total (`organisationEpsilonPerYear` limits it); past either, the consumer's last release of
   * the slot is served stale.
   */
  serve(at: ReleaseSlot, make: () => Promise<R>, consumer: string, epsilonPerYear?: number): Promise<Served<R>> {
    const { slot } = at;
    const previous = this.queues.get(slot) ?? Promise.resolve();
    const decided = previous.catch(() => undefined).then(() => this.decide(at, make, consumer, epsilonPerYear));
    const tail = decided.catch(() => undefined);
    this.queues.set(slot, tail);
    void tail.then(() => {
      if (this.queues.get(slot) === tail) this.queues.delete(slot);
    });
    return decided;
  }

  /** The slot's release of `at`'s epoch or a later one: remembered here, or kept in the store. */
  private async made(at: ReleaseSlot): Promise<R | undefined> {
    const known = this.current.get(at.slot);
    if (known !== undefined && known.slot.epoch >= at.epoch) return known;
    const stored = await this.releases.current(at.slot);
    if (stored === undefined || stored.epoch < at.epoch) return undefined;
    return this.remember(stored);
  }

  private remember(stored: StoredRelease): R {
    const known = this.current.get(stored.slot);
    const release = known !== undefined && known.id === stored.id ? known : this.codec.revive(stored);
    this.current.set(stored.slot, release);
    return release;
  }

  private async decide(at: ReleaseSlot, make: () => Promise<R>, consumer: string, epsilonPerYear: number | undefined): Promise<Served<R>> {
    let release = await this.made(at);
    if (release === undefined) {
      // The first release of an epoch wins, on every replica: another may have committed one meanwhile.
      const made = await make();
      const committed = await this.releases.commit(this.codec.store(made));
      release = committed.id === made.id ? made : this.codec.revive(committed);
      this.current.set(at.slot, release);
    }
    if (release.epsilon === 0) {
      await this.recordServed(consumer, release);
      return { release, stale: false };
    }
    const { ledger, epsilonPerYear: limit } = requireNoise(this.noise, epsilonPerYear);
    const organisationLimit = this.noise.organisationEpsilonPerYear?.();
    const limits = { consumer: limit, ...(organisationLimit !== undefined ? { organisation: organisationLimit } : {}) };
    const charge = await ledger.chargeMeasures(consumer, release.measures, limits, this.noise.now?.() ?? new Date());
    const organisation = { spent: charge.organisationSpent, epsilonPerYear: organisationLimit ?? null };
    if (!charge.ok) {
      const last = await this.releases.lastServed(consumer, at.slot);
      if (last === undefined) {
        throw new NoisyReleaseRefused('PrivacyBudgetExhausted', charge.refusedBy === 'organisation'
          ? `The organisation's privacy budget for the year (epsilon ${charge.limit} per person, across all consumers) is spent. Releases already made stay available; new ones resume on 1 January (UTC).`
          : `This consumer's privacy budget for the year (epsilon ${charge.limit}) is spent. Releases already paid for stay available; new ones resume on 1 January (UTC).`);
      }
      return { release: this.codec.revive(last), stale: true, budget: { charged: false, spent: charge.spent, epsilonPerYear: limit, organisation } };
    }
    await this.recordServed(consumer, release);
    return { release, stale: false, budget: { charged: charge.charged, spent: charge.spent, epsilonPerYear: limit, organisation } };
  }

  private async recordServed(consumer: string, release: R): Promise<void> {
    const key = `${consumer}\u0000${release.slot.slot}`;
    if (this.servedIds.get(key) === release.id) return;
    await this.releases.served(consumer, this.codec.store(release));
    this.servedIds.set(key, release.id);
  }
}
