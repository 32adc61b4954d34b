import t from 'tap';
import { discreteLaplace, keyedUniforms, stickyNoise, type NoiseContext } from '../../src/cohort/noise.js';

const context = (key: Buffer): NoiseContext => ({ key, release: 'release-of-2026-11-20' });

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
  t.not(JSON.stringify(draw(a)), JSON.stringify(draw({ ...a, release: 'release-of-2026-11-21' })), 'a new snapshot is a new release');
  t.equal(discreteLaplace(0, 0.3, 0.7), 0);
  const [u1, u2] = keyedUniforms(Buffer.alloc(32), ['x']);
  t.ok(u1 > 0 && u1 < 1 && u2 > 0 && u2 < 1);
});
