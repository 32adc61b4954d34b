/**
 * Sealed tokens for paging cursors and download links: AES-256-GCM over a small JSON payload, with the
 * purpose as associated data and an expiry inside, so a token is opaque to the consumer, cannot be altered,
 * cannot be used for another purpose, and stops working when it expires. Replicas sharing the secret accept
 * each other's tokens.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export type SealPurpose = 'cursor' | 'download';

const VERSION = 1;

export type Unsealed<T> = { ok: true; payload: T } | { ok: false; reason: 'malformed' | 'tampered' | 'expired' };

export class Sealer {
  private readonly key: Buffer;

  constructor(secret: Buffer) {
    if (secret.length < 32) throw new Error('the sealing secret must hold at least 32 bytes');
    this.key = Buffer.from(hkdfSync('sha256', secret, Buffer.from('graph-privacy-proxy/sealed-tokens/v1'), Buffer.alloc(0), 32));
  }

  seal(purpose: SealPurpose, payload: object, ttlSeconds: number, now = Date.now()): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(purpose));
    const plain = Buffer.from(JSON.stringify({ ...payload, exp: Math.floor(now / 1000) + ttlSeconds }));
    return Buffer.concat([Buffer.from([VERSION]), iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]).toString('base64url');
  }

  open<T extends object>(purpose: SealPurpose, token: string, now = Date.now()): Unsealed<T> {
    if (!/^[A-Za-z0-9_-]{40,4096}$/.test(token)) return { ok: false, reason: 'malformed' };
    const bytes = Buffer.from(token, 'base64url');
    if (bytes[0] !== VERSION || bytes.length < 1 + 12 + 16 + 2) return { ok: false, reason: 'malformed' };
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(1, 13));
      decipher.setAAD(Buffer.from(purpose));
      decipher.setAuthTag(bytes.subarray(bytes.length - 16));
      plain = Buffer.concat([decipher.update(bytes.subarray(13, bytes.length - 16)), decipher.final()]);
    } catch {
      return { ok: false, reason: 'tampered' };
    }
    const payload = JSON.parse(plain.toString('utf8')) as T & { exp: number };
    if (payload.exp * 1000 <= now) return { ok: false, reason: 'expired' };
    return { ok: true, payload };
  }
}
