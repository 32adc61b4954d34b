/**
 * Accuracy and noise scale of cohort releases, both ways (after OpenDP's `discrete_laplacian_scale_to_accuracy`
 * and `accuracy_to_discrete_laplacian_scale`, and Tumult Analytics' accuracy-first use of them): a policy states
 * either epsilon (and sees the margins it buys) or the 95% margin it needs for counts of people (and sees the
 * epsilon it costs). Sums are noised at their clip times the count scale (one person moves a sum by at most its
 * clip, G12), so each measure costs the same share of epsilon and a sum's margin is about clip x the count's.
 *
 * Epsilon accounting (basic composition): a person is in one cell of each released sub-organisation dimension
 * (parallel composition within a dimension) and adds to every measure of it, so one release costs
 * dimensions x measures / scale. Organisation totals are exact (protected by suppression, not noise).
 *
 * Margins: for discrete-Laplace noise Z of scale b, P(Z = z) = (1 - p) / (1 + p) p^|z| with p = exp(-1/b), and
 * P(|Z| >= a) = 2 p^a / (1 + p) for whole a >= 1. The margin at confidence 1 - alpha is the smallest whole m with
 * P(|Z| > m) <= alpha: the released figure is within +-m of the true one with probability at least 1 - alpha.
 */
export const CONFIDENCE = 0.95;
const ALPHA = 1 - CONFIDENCE;

/** The margin of discrete-Laplace noise of `scale` at significance `alpha` (scale 0: no noise, margin 0). */
export function discreteLaplaceMargin(scale: number, alpha: number = ALPHA): number {
  if (!(scale > 0)) return 0;
  const p = Math.exp(-1 / scale);
  // P(|Z| > m) = 2 p^(m+1) / (1 + p) <= alpha  <=>  m + 1 >= log(alpha (1 + p) / 2) / log p
  const m = Math.max(0, Math.ceil(Math.log((alpha * (1 + p)) / 2) / Math.log(p) - 1e-12) - 1);
  return tailBeyond(scale, m) <= alpha ? m : m + 1;
}

/** The 95% margin of discrete-Laplace noise of `scale`. */
export const discreteLaplaceMargin95 = (scale: number): number => discreteLaplaceMargin(scale, ALPHA);

/** P(|Z| > m) for discrete-Laplace noise of `scale`. */
function tailBeyond(scale: number, m: number): number {
  const p = Math.exp(-1 / scale);
  return (2 * p ** (m + 1)) / (1 + p);
}

/**
 * The largest discrete-Laplace scale whose margin at `alpha` is at most `margin` people (a whole number >= 1):
 * the least noise (and so the least epsilon) that meets the accuracy asked for.
 */
export function discreteLaplaceScaleFor(margin: number, alpha: number = ALPHA): number {
  if (!Number.isInteger(margin) || margin < 1) throw new RangeError(`a margin is a whole number of at least 1, not ${margin}`);
  // tailBeyond grows with the scale: bisect on it (60 halvings pin the scale far below any double's precision that matters).
  let low = 0;
  let high = margin;
  while (tailBeyond(high, margin) <= alpha) high *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2;
    if (tailBeyond(mid, margin) <= alpha) low = mid;
    else high = mid;
  }
  return low;
}

/** The noise of one cohort release: its cost, the scale of each measure, and their 95% margins. */
export interface CohortNoise {
  /** What one fresh release of the table costs. */
  readonly epsilon: number;
  /** Discrete-Laplace scale of users and active users (sensitivity 1) and of each sum (sensitivity its clip). */
  readonly scales: { readonly users: number; readonly active: number; readonly sums: readonly number[] };
  /** The 95% margins of the same, in people and in the sums' units. */
  readonly margins95: { readonly users: number; readonly active: number; readonly sums: readonly number[] };
}

/** A policy's noise setting: the epsilon per release, or the 95% margin for counts of people (exactly one). */
export interface NoiseSetting {
  readonly epsilon?: number;
  readonly margin95?: number;
}

/**
 * The noise of a cohort release with `dimensions` released sub-organisation dimensions and sums clipped at
 * `clips`, from the policy's setting (either way round).
 */
export function cohortNoise(setting: NoiseSetting, dimensions: number, clips: readonly number[]): CohortNoise {
  const shares = Math.max(1, dimensions) * (2 + clips.length);
  if ((setting.epsilon === undefined) === (setting.margin95 === undefined)) throw new RangeError('a noise setting states exactly one of epsilon and margin95');
  const count = setting.epsilon !== undefined ? shares / setting.epsilon : discreteLaplaceScaleFor(setting.margin95!);
  const epsilon = setting.epsilon ?? shares / count;
  const sums = clips.map((clip) => clip * count);
  const margin = discreteLaplaceMargin95(count);
  return { epsilon, scales: { users: count, active: count, sums }, margins95: { users: margin, active: margin, sums: sums.map(discreteLaplaceMargin95) } };
}

/** Rounds up to cents: a stated margin is never smaller than the computed one. */
const ceil2 = (n: number) => Math.ceil(n * 100 - 1e-9) / 100;

/**
 * The released mean of a noisy sum over noisy users, and its 95% margin, from released figures only
 * (post-processing: it costs no epsilon). The true mean of clipped values lies in [0, clip], so the mean is
 * released within it. Both noisy figures are within their 97.5% margins a and c together with probability at
 * least 95% (union bound); then the true mean lies in [(S - a) / (U + c), (S + a) / (U - c)], and the margin is
 * the farther end (at most the distance to 0 or clip, whichever is farther, when U - c <= 0).
 */
export function noisyMean(sum: number, users: number, scales: { readonly sum: number; readonly users: number }, clip: number): { mean: number | null; margin95: number | null } {
  if (users <= 0) return { mean: null, margin95: null };
  const mean = Math.min(clip, Math.max(0, sum / users));
  const a = discreteLaplaceMargin(scales.sum, ALPHA / 2);
  const c = discreteLaplaceMargin(scales.users, ALPHA / 2);
  const widest = Math.max(mean, clip - mean);
  const margin = users - c <= 0 ? widest : Math.min(widest, Math.max(mean - Math.max(0, sum - a) / (users + c), (sum + a) / (users - c) - mean));
  // The released mean is rounded to cents: its margin allows for that too.
  return { mean: Math.round(mean * 100) / 100, margin95: ceil2(margin + 0.005) };
}
