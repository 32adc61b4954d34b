/**
 * Consumer API keys: stored only as SHA-256 digests (keys are 256-bit random, so a fast digest is the right
 * tool, as with GitHub tokens), looked up by comparing the presented key's digest with every stored digest in
 * constant time, with no early exit. One consumer may hold several keys, which is how keys are rotated; an
 * entry may carry `expires=<instant>`, after which its key is refused (the old key of a rotation).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ProductError } from '../errors/catalogue.js';

const KEY_PREFIX = 'gpp_';
const ENTRY = /^([a-z0-9][a-z0-9._-]{0,63})\s*[=:]\s*(?:sha256:)?([0-9a-f]{64})(?:\s+expires=(\S+))?$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?Z)?$/;

interface Entry {
  readonly consumer: string;
  readonly digest: Buffer;
  /** Milliseconds since the epoch from which the key is refused. */
  readonly expiresAt?: number;
}

/** Whose key was presented: a consumer, the consumer of a key that has expired, or no one. */
export type KeyLookup = { readonly consumer: string } | { readonly expired: string } | undefined;

export class ConsumerKeyError extends ProductError<'ConsumerKeyError'> {
  readonly code = 'ConsumerKeyError';
}

export function hashConsumerKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new random consumer key (shown once; only its digest is stored). */
export function newConsumerKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

export class ConsumerKeys {
  private constructor(private readonly entries: readonly Entry[]) {}

  /**
   * Reads `consumer=sha256:<hex digest>[ expires=<YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z>]` entries, one per line
   * or comma-separated; `#` starts a comment. A date alone means 00:00 UTC that day. Plain keys are refused:
   * the file must never hold a usable secret. Throws `ConsumerKeyError` for a malformed entry or a digest
   * listed twice.
   */
  static parse(text: string): ConsumerKeys {
    const entries: Entry[] = [];
    const lines = text.split(/[\n,]/).map((l) => l.replace(/#.*$/, '').trim()).filter((l) => l.length > 0);
    for (const [i, line] of lines.entries()) {
      const m = ENTRY.exec(line);
      if (m === null) throw new ConsumerKeyError(`consumer key entry ${i + 1} must read consumer-id=sha256:<64 hex digits> [expires=<date>] (store the key's digest, never the key)`);
      const expires = m[3];
      const expiresAt = expires === undefined ? undefined : Date.parse(expires.length === 10 ? `${expires}T00:00:00Z` : expires);
      if (expires !== undefined && (!INSTANT.test(expires) || Number.isNaN(expiresAt))) {
        throw new ConsumerKeyError(`consumer key entry ${i + 1}: expires must be a UTC date YYYY-MM-DD or instant YYYY-MM-DDTHH:MM[:SS]Z, not '${expires.slice(0, 40)}'`);
      }
      // One key belongs to one consumer: with the same digest twice, the first entry would silently win.
      const twin = entries.findIndex((e) => e.digest.toString('hex') === m[2]);
      if (twin !== -1) throw new ConsumerKeyError(`consumer key entries ${twin + 1} (${entries[twin]!.consumer}) and ${i + 1} (${m[1]}) hold the same key digest; each key must be listed once, for one consumer`);
      entries.push({ consumer: m[1]!, digest: Buffer.from(m[2]!, 'hex'), ...(expiresAt !== undefined ? { expiresAt } : {}) });
    }
    return new ConsumerKeys(entries);
  }

  static of(keys: Readonly<Record<string, string | readonly string[]>>): ConsumerKeys {
    return ConsumerKeys.parse(
      Object.entries(keys)
        .flatMap(([consumer, k]) => (typeof k === 'string' ? [k] : k).map((key) => `${consumer}=sha256:${hashConsumerKey(key)}`))
        .join('\n'),
    );
  }

  get size(): number {
    return this.entries.length;
  }

  /** Whose key `presented` is, if anyone's. Compares with every entry, so the time does not depend on which matches. */
  lookup(presented: string, now = Date.now()): KeyLookup {
    const digest = createHash('sha256').update(presented, 'utf8').digest();
    let found: Entry | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, digest) && found === undefined) found = entry;
    }
    if (found === undefined) return undefined;
    return found.expiresAt !== undefined && now >= found.expiresAt ? { expired: found.consumer } : { consumer: found.consumer };
  }

  /** The consumer a presented key belongs to, if it is known and has not expired. */
  consumerFor(presented: string, now = Date.now()): string | undefined {
    const found = this.lookup(presented, now);
    return found !== undefined && 'consumer' in found ? found.consumer : undefined;
  }
}
