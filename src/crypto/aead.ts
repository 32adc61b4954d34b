/**
 * The product's one authenticated encryption and one key derivation. `seal`/`open`: AES-256-GCM in one
 * versioned envelope, with what the bytes are for (`purpose`) and where they belong (`context`) bound as
 * associated data, so a sealed value moved to another use or place fails to open. `deriveKey`: HKDF-SHA-256.
 * Spill files, sealed tokens and shared snapshots seal through here; sealing and pseudonym keys are derived here.
 *
 * Envelope, version 2: `0x02 | nonce (12 random bytes) | ciphertext | GCM tag (16 bytes)`.
 * Associated data: `0x02 | lp(purpose) | u32be(number of context parts) | lp(part)...`, where `lp(x)` is
 * `u32be(byte length of x) | x` (UTF-8; numbers in decimal), so no two (purpose, context) pairs encode alike.
 * (Version 1 was the sealed tokens' own format, with the purpose alone as associated data; it is not read.)
 */
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { ProductError } from '../errors/catalogue.js';

export const ENVELOPE_VERSION = 2;
/** AES-256: keys are 32 bytes. */
export const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Bytes an envelope adds to its plaintext (version, nonce, tag). */
export const ENVELOPE_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES;

/**
 * Every use of sealing, one name each: a spill-file record, a paging cursor, a download link, a shared
 * snapshot's record in Redis.
 */
export type SealPurpose = 'spill-record' | 'cursor' | 'download' | 'shared-snapshot-record';

/** Where a sealed value belongs within its purpose (record index, snapshot key...); may be empty. */
export type SealContext = readonly (string | number)[];

/**
 * A 32-byte AES key, as bytes or as a KeyObject. A key used for many envelopes (sealed tokens, spill files) is
 * best held as a KeyObject (`createSecretKey`): Node turns a Buffer key into one on every cipher, which cost more
 * than sealing a cursor itself (measured in bench/proxy-vs-forwarding.ts profiles).
 */
export type SealKey = Buffer | KeyObject;

/** Why an envelope did not open: not an envelope of this version, or it fails authentication. */
export class EnvelopeError extends ProductError<'EnvelopeMalformed' | 'EnvelopeRejected'> {
  constructor(readonly code: 'EnvelopeMalformed' | 'EnvelopeRejected') {
    super(code === 'EnvelopeMalformed' ? 'the sealed value is not an envelope of this version' : 'the sealed value fails authentication (another key, purpose or context, or altered)');
    this.name = 'EnvelopeError';
  }
}

function lengthPrefixed(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function associatedData(purpose: SealPurpose, context: SealContext): Buffer {
  const count = Buffer.alloc(4);
  count.writeUInt32BE(context.length);
  return Buffer.concat([Buffer.from([ENVELOPE_VERSION]), lengthPrefixed(purpose), count, ...context.map((part) => lengthPrefixed(String(part)))]);
}

/**
 * The envelope under a given nonce. Only for test vectors: a nonce must never repeat under a key, which
 * `seal`'s random nonces guarantee.
 */
export function sealWithNonce(key: SealKey, purpose: SealPurpose, context: SealContext, plaintext: Buffer | readonly Buffer[], nonce: Buffer): Buffer {
  return Buffer.concat(envelopeParts(key, purpose, context, plaintext, nonce));
}

/** The envelope's bytes in pieces, in order: the plaintext's pieces are encrypted one after the other. */
function envelopeParts(key: SealKey, purpose: SealPurpose, context: SealContext, plaintext: Buffer | readonly Buffer[], nonce: Buffer): Buffer[] {
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(associatedData(purpose, context));
  const parts = [Buffer.concat([Buffer.from([ENVELOPE_VERSION]), nonce])];
  for (const piece of Buffer.isBuffer(plaintext) ? [plaintext] : plaintext) parts.push(cipher.update(piece));
  parts.push(cipher.final(), cipher.getAuthTag());
  return parts;
}

/** Seals `plaintext` under a 32-byte `key` for `purpose` at `context`, with a random nonce. */
export function seal(key: SealKey, purpose: SealPurpose, context: SealContext, plaintext: Buffer): Buffer {
  return sealWithNonce(key, purpose, context, plaintext, randomBytes(NONCE_BYTES));
}

/**
 * `seal` of the plaintext's pieces joined, as the envelope's bytes in pieces (their concatenation is the
 * envelope): for a writer that writes them as they are (a vectored write) instead of copying them into one
 * buffer twice, plaintext and envelope (the spill file's records, 64 KiB or more each).
 */
export function sealPieces(key: SealKey, purpose: SealPurpose, context: SealContext, plaintext: readonly Buffer[]): Buffer[] {
  return envelopeParts(key, purpose, context, plaintext, randomBytes(NONCE_BYTES));
}

/** The plaintext of an envelope sealed with the same key, purpose and context; throws `EnvelopeError`. */
export function open(key: SealKey, purpose: SealPurpose, context: SealContext, envelope: Buffer): Buffer {
  if (envelope.length < ENVELOPE_OVERHEAD || envelope[0] !== ENVELOPE_VERSION) throw new EnvelopeError('EnvelopeMalformed');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, envelope.subarray(1, 1 + NONCE_BYTES));
    decipher.setAAD(associatedData(purpose, context));
    decipher.setAuthTag(envelope.subarray(envelope.length - TAG_BYTES));
    return Buffer.concat([decipher.update(envelope.subarray(1 + NONCE_BYTES, envelope.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new EnvelopeError('EnvelopeRejected');
  }
}

/**
 * A 32-byte key derived from `secret` by HKDF-SHA-256 (RFC 5869), with `salt` naming the use and version
 * (e.g. 'graph-privacy-proxy/sealed-tokens/v1') and `info` the scope within it (empty, or e.g. key id,
 * epoch and consumer for pseudonyms). The same inputs always give the same key.
 */
export function deriveKey(secret: Buffer, salt: string, info = ''): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.from(salt, 'utf8'), Buffer.from(info, 'utf8'), KEY_BYTES));
}

/**
 * `deriveKey` as a KeyObject, for keys used with HMAC many times (pseudonyms, the keyed row order): Node turns a
 * Buffer key into a KeyObject on every `createHmac`, about 8x the cost of the HMAC itself on Node 24.
 */
export function deriveHmacKey(secret: Buffer, salt: string, info = ''): KeyObject {
  return createSecretKey(deriveKey(secret, salt, info));
}
