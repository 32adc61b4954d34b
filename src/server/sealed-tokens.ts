/**
 * Sealed tokens for paging cursors and download links: a small JSON payload sealed (src/crypto/aead.ts) with the
 * purpose bound to it and an expiry inside, so a token is opaque to the consumer, cannot be altered, cannot be
 * used for another purpose, and stops working when it expires. Replicas sharing the secret accept each other's
 * tokens.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { deriveKey, EnvelopeError, open, seal } from '../crypto/aead.js';

export type SealPurpose = 'cursor' | 'download';

export type Unsealed<T> = { ok: true; payload: T } | { ok: false; reason: 'malformed' | 'tampered' | 'expired' };

export class Sealer {
  private readonly key: KeyObject;

  constructor(secret: Buffer) {
    if (secret.length < 32) throw new Error('the sealing secret must hold at least 32 bytes');
    this.key = createSecretKey(deriveKey(secret, 'graph-privacy-proxy/sealed-tokens/v1'));
  }

  seal(purpose: SealPurpose, payload: object, ttlSeconds: number, now = Date.now()): string {
    const plain = Buffer.from(JSON.stringify({ ...payload, exp: Math.floor(now / 1000) + ttlSeconds }));
    return seal(this.key, purpose, [], plain).toString('base64url');
  }

  open<T extends object>(purpose: SealPurpose, token: string, now = Date.now()): Unsealed<T> {
    if (!/^[A-Za-z0-9_-]{40,4096}$/.test(token)) return { ok: false, reason: 'malformed' };
    let plain: Buffer;
    try {
      plain = open(this.key, purpose, [], Buffer.from(token, 'base64url'));
    } catch (error) {
      if (error instanceof EnvelopeError && error.code === 'EnvelopeMalformed') return { ok: false, reason: 'malformed' };
      return { ok: false, reason: 'tampered' };
    }
    const payload = JSON.parse(plain.toString('utf8')) as T & { exp: number };
    if (payload.exp * 1000 <= now) return { ok: false, reason: 'expired' };
    return { ok: true, payload };
  }
}
