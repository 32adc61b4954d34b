/**
 * The book of releases: for each release slot (report or score, window, settings) the release of the current
 * epoch, made once and served unchanged to every consumer until the next epoch (Graph's next refresh, or the
 * next week), so a directory change within the day releases nothing new; the budget charge of noisy releases
 * (per organisation, with each consumer's share); and, once a consumer's budget is spent, the last release it
 * was served, marked stale, never recomputed (privacy.md G6, G7; issue 15, items 3 and 6).
 */
import type { BudgetStore } from '../store/store.js';
import type { ReleaseSlot } from './release.js';

/** What the book needs of a release. */
export interface BookedRelease {
  readonly id: string;
  readonly slot: ReleaseSlot;
  /** 0 for an exact (suppression-only) release. */
  readonly epsilon: number;
}

/** Where noise keys, the budget ledger and the clock come from; without key and ledger a noisy policy is refused. */
export interface NoiseSettings {
  readonly key?: Buffer;
  readonly ledger?: BudgetStore;
  /** The clock the budget year is read from (tests inject a year of days). */
  readonly now?: () => Date;
}

/** A consumer's budget after a release: whether this read was charged, its share spent, its yearly limit. */
export interface BudgetState {
  readonly charged: boolean;
  readonly spent: number;
  readonly epsilonPerYear: number;
}

export interface Served<R> {
  readonly release: R;
  /** The consumer's budget is spent: this is the last release it was served, not the current one. */
  readonly stale: boolean;
  readonly budget?: BudgetState;
}

/**
 * A noisy release refused (fail closed): the proxy has no noise key or budget ledger (`NoiseNotConfigured`), or
 * the consumer's privacy budget for the year is spent and it was never served a release of this slot to fall
 * back on (`PrivacyBudgetExhausted`, privacy.md G6, G7).
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
  /** Slot -> the release of its latest epoch. */
  private readonly current = new Map<string, R>();
  /** Consumer and slot -> the last release that consumer was served (what it gets, stale, once its budget is spent). */
  private readonly lastServed = new Map<string, R>();
  /** Slot -> the tail of its serialised decisions (two requests of one epoch must not both make a release). */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly noise: NoiseSettings) {}

  /**
   * The release `consumer` is served for `at` (a slot and the epoch of the data now held): the one already made
   * for this epoch (or a later one) if any, else the one `make` makes, which then becomes the slot's release (so
   * nothing is recomputed within an epoch). A noisy release is charged to the consumer's share (`epsilonPerYear`
   * limits it); past it, the consumer's last release of the slot is served stale.
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

  private async decide(at: ReleaseSlot, make: () => Promise<R>, consumer: string, epsilonPerYear: number | undefined): Promise<Served<R>> {
    const { slot } = at;
    const made = this.current.get(slot);
    const release = made !== undefined && made.slot.epoch >= at.epoch ? made : await make();
    const served = `${consumer}\u0000${slot}`;
    if (release.epsilon === 0) {
      this.current.set(slot, release);
      this.lastServed.set(served, release);
      return { release, stale: false };
    }
    const { ledger, epsilonPerYear: limit } = requireNoise(this.noise, epsilonPerYear);
    const charge = await ledger.charge(consumer, release.id, release.epsilon, limit, this.noise.now?.() ?? new Date());
    if (!charge.ok) {
      const last = this.lastServed.get(served);
      if (last === undefined) {
        throw new NoisyReleaseRefused('PrivacyBudgetExhausted', `This consumer's privacy budget for the year (epsilon ${charge.limit}) is spent. Releases already paid for stay available; new ones resume on 1 January (UTC).`);
      }
      return { release: last, stale: true, budget: { charged: false, spent: charge.spent, epsilonPerYear: limit } };
    }
    this.current.set(slot, release);
    this.lastServed.set(served, release);
    return { release, stale: false, budget: { charged: charge.charged, spent: charge.spent, epsilonPerYear: limit } };
  }
}
