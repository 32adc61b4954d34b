/**
 * Sticky, keyed, integer noise for cohort cells (privacy.md G4, G5): discrete Laplace, P(x) proportional to
 * exp(-|x| / scale), drawn by exact integer sampling (Canonne, Kamath and Steinke 2020, "The Discrete Gaussian
 * for Differential Privacy", algorithms 1 and 2) from a keyed random bit stream: HMAC-SHA256 in counter mode
 * under a key derived from HMAC(noise key, noisy measure id, cell), the measure id naming the report, period,
 * refresh date, data, dimension, measure and scale (cohort/release.ts noisyMeasureId), never the consumer or the
 * policy: the same figure gets the same noise on every call, restart and replica, for every consumer and every
 * policy that releases it at that scale; another key gives other noise.
 *
 * Precision: the sampler uses integers and exact rationals only (BigInt), no floating-point logarithm, so the
 * output distribution is exactly the discrete Laplace of the given scale (the scale, a double, is taken as the
 * exact rational it is), provided the bits are uniform. The bits come from HMAC-SHA256 as a pseudorandom
 * function: indistinguishable from uniform to anyone without the noise key. Floating-point samplers leak
 * through the gaps and rounding of their output (Mironov 2012); this one has none.
 */
import { createHmac } from 'node:crypto';

/** A deterministic stream of random bits: HMAC-SHA256(seed, counter) blocks. */
export class KeyedRandomBits {
  private readonly seed: Buffer;
  private block = Buffer.alloc(0);
  private offset = 0;
  private counter = 0;

  constructor(key: Buffer, parts: readonly string[]) {
    this.seed = createHmac('sha256', key).update(parts.join('\u0000')).digest();
  }

  private byte(): number {
    if (this.offset === this.block.length) {
      const counter = Buffer.alloc(8);
      counter.writeBigUInt64BE(BigInt(this.counter++));
      this.block = createHmac('sha256', this.seed).update(counter).digest();
      this.offset = 0;
    }
    return this.block[this.offset++]!;
  }

  /** A uniform integer in [0, n), by rejection (no modulo bias). */
  uniformBelow(n: bigint): bigint {
    if (n <= 0n) throw new RangeError('uniformBelow needs n >= 1');
    if (n === 1n) return 0n;
    const bits = (n - 1n).toString(2).length;
    const bytes = Math.ceil(bits / 8);
    const mask = (1n << BigInt(bits)) - 1n;
    for (;;) {
      let value = 0n;
      for (let i = 0; i < bytes; i++) value = (value << 8n) | BigInt(this.byte());
      value &= mask;
      if (value < n) return value;
    }
  }

  /** True with probability numerator / denominator (0 <= numerator <= denominator). */
  bernoulli(numerator: bigint, denominator: bigint): boolean {
    return this.uniformBelow(denominator) < numerator;
  }
}

/** True with probability exp(-numerator / denominator), for a rational in [0, 1] (CKS20 algorithm 1). */
function bernoulliExpFraction(bits: KeyedRandomBits, numerator: bigint, denominator: bigint): boolean {
  let k = 1n;
  while (bits.bernoulli(numerator, denominator * k)) k++;
  return k % 2n === 1n;
}

/** True with probability exp(-numerator / denominator), for any non-negative rational. */
function bernoulliExp(bits: KeyedRandomBits, numerator: bigint, denominator: bigint): boolean {
  let rest = numerator;
  while (rest > denominator) {
    if (!bernoulliExpFraction(bits, 1n, 1n)) return false;
    rest -= denominator;
  }
  return bernoulliExpFraction(bits, rest, denominator);
}

/** A positive finite double as the exact fraction [numerator, denominator] it is. */
function exactFraction(x: number): [bigint, bigint] {
  if (!(x > 0) || !Number.isFinite(x)) throw new RangeError(`a noise scale is a positive number, not ${x}`);
  let denominator = 1n;
  while (!Number.isInteger(x)) {
    x *= 2; // exact: a double times 2 is a double
    denominator *= 2n;
  }
  return [BigInt(x), denominator];
}

/**
 * A discrete-Laplace sample of the given scale (CKS20 algorithm 2, with scale = t / s as an exact fraction):
 * P(x) = (1 - p) / (1 + p) p^|x| with p = exp(-1 / scale). Scale 0: no noise.
 */
export function sampleDiscreteLaplace(scale: number, bits: KeyedRandomBits): number {
  if (scale === 0) return 0;
  const [t, s] = exactFraction(scale);
  for (;;) {
    const u = bits.uniformBelow(t);
    if (!bernoulliExp(bits, u, t)) continue;
    let v = 0n;
    while (bernoulliExp(bits, 1n, 1n)) v++;
    const y = (u + t * v) / s; // geometric: P(y) proportional to exp(-y s / t)
    const negative = bits.bernoulli(1n, 2n);
    if (negative && y === 0n) continue;
    return Number(negative ? -y : y);
  }
}

/**
 * What the noise of a release is bound to: the noise key, and the id of each noisy measure it draws (one measure
 * of one dimension at one scale, from one data: cohort/release.ts noisyMeasureId). The id names what is released,
 * never the consumer, the policy or settings that do not change a figure (k, k_c, other dimensions or metrics):
 * two releases of the same cell and measure at the same scale from the same data get the same draw, so colluding
 * consumers have nothing to average.
 */
export interface NoiseContext {
  readonly key: Buffer;
  measureId(dimension: string, measure: string, scale: number): string;
}

export function stickyNoise(context: NoiseContext, dimension: string, cell: readonly string[], measure: string, scale: number): number {
  const bits = new KeyedRandomBits(context.key, [context.measureId(dimension, measure, scale), ...cell]);
  return sampleDiscreteLaplace(scale, bits);
}
