/**
 * Consumer API keys: stored only as SHA-256 digests (keys are 256-bit random, so a fast digest is the right
 * tool, as with GitHub tokens), looked up by comparing the presented key's digest with every stored digest in
 * constant time, with no early exit. One consumer may hold several keys, which is how keys are rotated.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY_PREFIX = 'gpp_';
const ENTRY = /^([a-z0-9][a-z0-9._-]{0,63})\s*[=:]\s*(?:sha256:)?([0-9a-f]{64})$/;

export class ConsumerKeyError extends Error {
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
  private constructor(private readonly entries: readonly { consumer: string; digest: Buffer }[]) {}

  /**
   * Reads `consumer=sha256:<hex digest>` entries, one per line or comma-separated; `#` starts a comment.
   * Plain keys are refused: the file must never hold a usable secret.
   */
  static parse(text: string): ConsumerKeys {
    const entries: { consumer: string; digest: Buffer }[] = [];
    const lines = text.split(/[\n,]/).map((l) => l.replace(/#.*$/, '').trim()).filter((l) => l.length > 0);
    for (const [i, line] of lines.entries()) {
      const m = ENTRY.exec(line);
      if (m === null) throw new ConsumerKeyError(`consumer key entry ${i + 1} must read consumer-id=sha256:<64 hex digits> (store the key's digest, never the key)`);
      entries.push({ consumer: m[1]!, digest: Buffer.from(m[2]!, 'hex') });
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

  /** The consumer a presented key belongs to, if any. Takes the same time whichever entry matches. */
  consumerFor(presented: string): string | undefined {
    const digest = createHash('sha256').update(presented, 'utf8').digest();
    let found: string | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, digest) && found === undefined) found = entry.consumer;
    }
    return found;
  }
}
