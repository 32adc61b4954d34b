import t from 'tap';
import { discreteLaplaceMargin, discreteLaplaceMargin95, discreteLaplaceScaleFor } from '../../src/cohort/accuracy.js';
import { KeyedRandomBits, sampleDiscreteLaplace, stickyNoise, type NoiseContext } from '../../src/cohort/noise.js';

/** A context whose measures are named by a release label (the proxy's are digests of the data: cohort/release.ts). */
const context = (key: Buffer, release = 'release-of-2026-11-20'): NoiseContext => ({ key, measureId: (dimension, measure, scale) => `${release} ${dimension} ${measure} ${scale}` });

t.test('G5: over many cells the noise follows the discrete Laplace distribution (chi-square)', async (t) => {
  const scale = 3;
  const n = 40_000;
  const ctx = context(Buffer.alloc(32, 7));
  const counts = new Map<number, number>();
  let integers = 0;
  for (let i = 0; i < n; i++) {
    const x = stickyNoise(ctx, 'department', [`cell ${i}`], 'users', scale);
    if (Number.isInteger(x)) integers++;
    counts.set(x, (counts.get(x) ?? 0) + 1);
  }
  t.equal(integers, n, 'every sample is an integer');
  const p = Math.exp(-1 / scale);
  const pmf = (x: number) => ((1 - p) / (1 + p)) * p ** Math.abs(x);
  // Bins -8..8, with the tails pooled, so every expected count is well above 5.
  let chi = 0;
  let bins = 0;
  for (let x = -8; x <= 8; x++) {
    const expected = n * (x === -8 || x === 8 ? pmf(x) / (1 - p) : pmf(x));
    const observed = x === -8 ? [...counts].filter(([v]) => v <= -8).reduce((s, [, c]) => s + c, 0) : x === 8 ? [...counts].filter(([v]) => v >= 8).reduce((s, [, c]) => s + c, 0) : counts.get(x) ?? 0;
    chi += (observed - expected) ** 2 / expected;
    bins++;
  }
  // 16 degrees of freedom: the 0.999 quantile is 39.25.
  t.ok(chi < 39.25, `chi-square ${chi.toFixed(1)} over ${bins} bins`);
});

t.test('G4/G5: noise is sticky per cell and keyed; scale 0 is no noise', async (t) => {
  const a = context(Buffer.alloc(32, 1));
  const b = context(Buffer.alloc(32, 2));
  const cells = Array.from({ length: 200 }, (_, i) => [`D${i}`]);
  const draw = (c: NoiseContext) => cells.map((cell) => stickyNoise(c, 'department', cell, 'users', 5));
  t.same(draw(a), draw(a), 'the same key, the same noise');
  t.not(JSON.stringify(draw(a)), JSON.stringify(draw(b)), 'another key, other noise');
  t.not(JSON.stringify(draw(a)), JSON.stringify(draw(context(Buffer.alloc(32, 1), 'release-of-2026-11-21'))), 'other data, another measure id: other noise');
  t.not(JSON.stringify(draw(a)), JSON.stringify(cells.map((cell) => stickyNoise(a, 'department', cell, 'users', 6))), 'another scale, another measure id: other noise');
  t.equal(stickyNoise(a, 'department', ['D1'], 'users', 0), 0, 'scale 0: no noise');
});

t.test('G5: the exact sampler at a scale that is no whole number still follows the distribution (chi-square)', async (t) => {
  const scale = 1.7320508075688772; // sqrt(3): taken as the exact rational this double is
  const n = 30_000;
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const x = sampleDiscreteLaplace(scale, new KeyedRandomBits(Buffer.alloc(32, 3), [`draw ${i}`]));
    counts.set(x, (counts.get(x) ?? 0) + 1);
  }
  const p = Math.exp(-1 / scale);
  const pmf = (x: number) => ((1 - p) / (1 + p)) * p ** Math.abs(x);
  let chi = 0;
  for (let x = -5; x <= 5; x++) {
    const tail = (sign: number) => [...counts].filter(([v]) => sign * v >= 5).reduce((s, [, c]) => s + c, 0);
    const expected = n * (Math.abs(x) === 5 ? pmf(x) / (1 - p) : pmf(x));
    const observed = x === -5 ? tail(-1) : x === 5 ? tail(1) : counts.get(x) ?? 0;
    chi += (observed - expected) ** 2 / expected;
  }
  // 10 degrees of freedom: the 0.999 quantile is 29.59.
  t.ok(chi < 29.59, `chi-square ${chi.toFixed(1)} over 11 bins`);
});

t.test('the keyed bit stream: uniform integers without modulo bias, deterministic per key and parts', async (t) => {
  const draw = (parts: string[]) => {
    const bits = new KeyedRandomBits(Buffer.alloc(32, 9), parts);
    return Array.from({ length: 6000 }, () => Number(bits.uniformBelow(3n)));
  };
  const values = draw(['a']);
  t.same(draw(['a']), values, 'the same key and parts, the same stream');
  t.not(JSON.stringify(draw(['b'])), JSON.stringify(values));
  const counts = [0, 1, 2].map((v) => values.filter((x) => x === v).length);
  t.ok(counts.every((c) => Math.abs(c - 2000) < 150), `each of 0, 1, 2 about a third of the time (${counts.join(', ')})`);
  const big = new KeyedRandomBits(Buffer.alloc(32, 9), ['big']).uniformBelow(2n ** 100n + 7n);
  t.ok(big >= 0n && big < 2n ** 100n + 7n, 'integers beyond 53 bits');
});

t.test('accuracy both ways: a margin asked for gives the largest scale that meets it, and the margin holds 95% of the time', async (t) => {
  for (const margin of [1, 2, 3, 5, 8, 20, 100]) {
    const scale = discreteLaplaceScaleFor(margin);
    t.equal(discreteLaplaceMargin95(scale), margin, `margin ${margin}: scale ${scale.toFixed(4)} meets it`);
    t.ok(discreteLaplaceMargin95(scale * 1.001) > margin, 'and a larger scale would not');
  }
  t.equal(discreteLaplaceMargin(1, 0.05), 3, 'scale 1: P(|x| > 3) = 2 e^-4 / (1 + e^-1) = 0.027; P(|x| > 2) = 0.073');
  t.throws(() => discreteLaplaceScaleFor(0), /whole number/);
  const scale = discreteLaplaceScaleFor(5);
  let inside = 0;
  for (let i = 0; i < 20_000; i++) if (Math.abs(sampleDiscreteLaplace(scale, new KeyedRandomBits(Buffer.alloc(32, 5), [String(i)]))) <= 5) inside++;
  t.ok(inside / 20_000 >= 0.94, `within the margin ${(100 * inside / 20_000).toFixed(1)}% of the time`);
});
