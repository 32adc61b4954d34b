/**
 * Signed, expiring tokens of the simulated tenant, all stateless (HMAC-SHA256 JWTs): Entra access tokens,
 * pre-authenticated report download tokens (whose claims name tenant and app, as Graph's do) and skip tokens.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const b64 = (data: string | Buffer) => Buffer.from(data).toString('base64url');

export class TokenSigner {
  constructor(private readonly secret: Buffer) {}

  sign(claims: Record<string, unknown>): string {
    const body = `${b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64(JSON.stringify(claims))}`;
    return `${body}.${createHmac('sha256', this.secret).update(body).digest('base64url')}`;
  }

  /** The claims of a token this signer made, or undefined for anything else (forged, malformed). */
  verify(token: string): Record<string, unknown> | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const expected = createHmac('sha256', this.secret).update(`${parts[0]}.${parts[1]}`).digest();
    const given = Buffer.from(parts[2]!, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const claims: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
      return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }
}
