/**
 * Sticky, keyed, integer noise for cohort cells (privacy.md G4, G5): discrete Laplace, P(x) proportional to
 * exp(-|x| / scale), sampled as the difference of two geometric variables whose uniforms come from
 * HMAC(noise key, release id, dimension, cell, measure), the release id naming the report, period, release
 * epoch, settings and data (cohort/release.ts), never the consumer: the same release gets the same noise on
 * every call, restart and replica and for every consumer; another key gives other noise. The output
 * is an integer by construction (no continuous Laplace, no rounding of a floating-point sample).
 */
import { createHmac } from 'node:crypto';

/** Two uniforms in (0, 1), 53 bits each, from one HMAC. */
export function keyedUniforms(key: Buffer, parts: readonly string[]): [number, number] {
  const mac = createHmac('sha256', key).update(parts.join('\u0000')).digest();
  const uniform = (offset: number) => (mac.readUInt32BE(offset) * 2 ** 21 + (mac.readUInt32BE(offset + 4) >>> 11) + 0.5) / 2 ** 53;
  return [uniform(0), uniform(8)];
}

/** A discrete-Laplace sample of the given scale from two uniforms (scale 0: no noise). */
export function discreteLaplace(scale: number, u1: number, u2: number): number {
  if (scale <= 0) return 0;
  const logP = -1 / scale;
  const geometric = (u: number) => Math.floor(Math.log(u) / logP);
  return geometric(u1) - geometric(u2);
}

/** What the noise of one release is bound to (everything but the cell and the measure): key and release id. */
export interface NoiseContext {
  readonly key: Buffer;
  /** The release id (cohort/release.ts releaseId): a new release, new noise; a new consumer, the same. */
  readonly release: string;
}

export function stickyNoise(context: NoiseContext, dimension: string, cell: readonly string[], measure: string, scale: number): number {
  const [u1, u2] = keyedUniforms(context.key, [context.release, dimension, ...cell, measure]);
  return discreteLaplace(scale, u1, u2);
}
