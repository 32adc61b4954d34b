/**
 * Keyed pseudonyms (privacy.md G10, G11): pseudonym = key id + HMAC-SHA256 of the canonical identifier under a
 * key derived by HKDF from a master secret, per consumer and epoch. The same person keeps one pseudonym for one
 * consumer within one epoch, and gets unrelated ones for another consumer or after the epoch is rotated.
 * Master secrets come from the environment or a key file, never from a policy.
 */
import { createHmac } from 'node:crypto';
import { deriveHmacKey } from '../crypto/aead.js';
import { ProductError } from '../errors/catalogue.js';

/** Master secrets by key id. Each must hold at least 32 bytes of key material. */
export type PseudonymKeyring = ReadonlyMap<string, Buffer>;

export const MIN_SECRET_BYTES = 32;
const HKDF_SALT = 'graph-privacy-proxy/pseudonyms/v1';

export interface PseudonymScope {
  readonly keyId: string;
  readonly epoch: number;
  readonly consumer: string;
}

export class PseudonymKeyError extends ProductError<'PseudonymKeyError'> {
  readonly code = 'PseudonymKeyError';
}

/** The canonical form an identifier is pseudonymised in: trimmed and lower-cased. */
export function canonicalIdentifier(value: string): string {
  return value.trim().toLowerCase();
}

/**
 * Pseudonyms already computed, per (key id, epoch, consumer) and canonical identifier: a report served again
 * (the next snapshot, the other format) costs a lookup instead of an HMAC. Bounded: past `maxEntries` the
 * oldest entries go first. A new scope (another consumer, a rotated key or epoch) never reads another's entries;
 * `clear()` drops everything (policy reload).
 */
export class PseudonymMemo {
  private readonly entries = new Map<string, string>();

  constructor(readonly maxEntries = 65_536) {}

  get size(): number {
    return this.entries.size;
  }

  /** The memoised form of `compute` for one scope (the scope's text must name key id, epoch and consumer). */
  memoize(scope: string, compute: (canonical: string) => string): (canonical: string) => string {
    const prefix = `${scope}\u0000`;
    return (canonical) => {
      const key = prefix + canonical;
      let pseudonym = this.entries.get(key);
      if (pseudonym === undefined) {
        pseudonym = compute(canonical);
        if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
        this.entries.set(key, pseudonym);
      }
      return pseudonym;
    };
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * Builds the pseudonymiser of one (key id, epoch, consumer); fails when the key id has no secret. With a memo,
 * pseudonyms computed before for the same scope are looked up.
 */
export function pseudonymizer(keyring: PseudonymKeyring, scope: PseudonymScope, memo?: PseudonymMemo): (value: string) => string {
  const secret = keyring.get(scope.keyId);
  if (secret === undefined) throw new PseudonymKeyError(`no pseudonym secret is configured for key id '${scope.keyId}'`);
  if (secret.length < MIN_SECRET_BYTES) throw new PseudonymKeyError(`the pseudonym secret for key id '${scope.keyId}' is shorter than ${MIN_SECRET_BYTES} bytes`);
  const info = `${scope.keyId}\u0000${scope.epoch}\u0000${scope.consumer}`;
  const key = deriveHmacKey(secret, HKDF_SALT, info);
  const prefix = `${scope.keyId}.${scope.epoch}.`;
  const compute = (canonical: string) => prefix + createHmac('sha256', key).update(canonical).digest('base64url');
  const pseudonym = memo === undefined ? compute : memo.memoize(info, compute);
  return (value) => pseudonym(canonicalIdentifier(value));
}

/**
 * Reads a keyring from `keyId=secret` pairs separated by commas or new lines; a secret is base64 (or hex with a
 * `hex:` prefix). Used for the `GPP_PSEUDONYM_KEYS` variable and for key files.
 */
export function parseKeyring(text: string): PseudonymKeyring {
  const keyring = new Map<string, Buffer>();
  for (const entry of text.split(/[,\n]/).map((e) => e.trim()).filter((e) => e.length > 0 && !e.startsWith('#'))) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new PseudonymKeyError('each pseudonym key entry must read keyId=secret');
    const keyId = entry.slice(0, eq).trim();
    const encoded = entry.slice(eq + 1).trim();
    const secret = encoded.startsWith('hex:') ? Buffer.from(encoded.slice(4), 'hex') : Buffer.from(encoded, 'base64');
    if (secret.length < MIN_SECRET_BYTES) throw new PseudonymKeyError(`the pseudonym secret for key id '${keyId}' is shorter than ${MIN_SECRET_BYTES} bytes`);
    if (keyring.has(keyId)) throw new PseudonymKeyError(`pseudonym key id '${keyId}' is given twice`);
    keyring.set(keyId, secret);
  }
  return keyring;
}
