/**
 * The organisation's adoption score from suppressed cohort tables only (never from rows): per category its
 * numerator, denominator and points (0-100), its definition and the reports behind it; the total over the
 * categories that were released, also as a percentage of their maximum. Per-cohort scores have the same
 * shape, with nulls where a category (or the whole cohort) was suppressed (G8).
 *
 * With noise (the policy's cohorts are noisy), every category's numerator and denominator come with their 95%
 * margin, as cohort figures do (`numeratorMargin95`, `denominatorMargin95`: the noisy figure is within that
 * distance of the true one 95% of the time; 0 for the exact organisation row, null when suppressed). Points are
 * computed from the noisy figures and carry no margin of their own. An exact score has no margin fields.
 */
import { ORGANIZATION } from '../cohort/aggregate.js';
import { NOT_IN_DIRECTORY } from '../cohort/directory.js';
import { discreteLaplaceMargin95 } from '../cohort/accuracy.js';
import { stickyNoise, type NoiseContext } from '../cohort/noise.js';
import type { CategoryTable } from './score-facts.js';

/**
 * Noise on a score release's sub-organisation cells: per category, numerator and denominator each get sticky
 * discrete-Laplace noise of `scale` keyed by the figure (cohort/release.ts noisyMeasureId; organisation figures stay exact, as cohorts' do).
 */
export interface ScoreNoise {
  readonly context: NoiseContext;
  readonly scale: number;
}

export interface CategoryScore {
  readonly id: string;
  readonly title: string;
  readonly numerator: number | null;
  /** With noise: the numerator's 95% margin (0 for the organisation, null when suppressed). */
  readonly numeratorMargin95?: number | null;
  readonly denominator: number | null;
  /** With noise: the denominator's 95% margin (0 for the organisation, null when suppressed). */
  readonly denominatorMargin95?: number | null;
  readonly points: number | null;
  readonly definition: string;
  readonly reports: readonly string[];
  readonly suppressed: boolean;
}

export interface ScoreRow {
  readonly dimension: string;
  readonly cohort: readonly string[];
  readonly total: { readonly points: number | null; readonly max: number; readonly percentage: number | null };
  readonly categories: CategoryScore[];
  readonly suppressed: boolean;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** Score rows for every cell of the tables' declared dimensions (organisation first), with `noise` if given. */
export function scoreRows(tables: readonly CategoryTable[], noise?: ScoreNoise): ScoreRow[] {
  const first = tables[0]!.table;
  const margin95 = noise === undefined ? undefined : discreteLaplaceMargin95(noise.scale);
  return first.cells.flatMap((cell, id) => {
    if (cell.state === 'hidden') return [];
    const noisy = noise !== undefined && cell.dimension !== ORGANIZATION;
    // People outside the directory are the same cohort in every dimension: one cell, one draw.
    const dimension = cell.key[0] === NOT_IN_DIRECTORY && cell.key.length === 1 ? NOT_IN_DIRECTORY : cell.dimension;
    const jitter = (category: string, measure: string, value: number) => (noisy ? Math.max(0, value + stickyNoise(noise.context, dimension, cell.key, `${category} ${measure}`, noise.scale)) : value);
    const categories = tables.map(({ category, table }) => {
      const c = table.cells[id]!;
      const released = c.state === 'released';
      const denominator = jitter(category.id, 'denominator', c.users);
      const numerator = Math.min(denominator, jitter(category.id, 'numerator', c.active));
      const margin = margin95 === undefined ? undefined : released ? (noisy ? margin95 : 0) : null;
      return {
        id: category.id, title: category.title,
        numerator: released ? numerator : null, ...(margin !== undefined ? { numeratorMargin95: margin } : {}),
        denominator: released ? denominator : null, ...(margin !== undefined ? { denominatorMargin95: margin } : {}),
        points: released ? (denominator > 0 ? round1((100 * numerator) / denominator) : 0) : null,
        definition: category.definition, reports: category.reports, suppressed: !released,
      };
    });
    const released = categories.filter((c) => !c.suppressed);
    const points = released.length === 0 ? null : round1(released.reduce((s, c) => s + c.points!, 0));
    const max = 100 * released.length;
    return [{
      dimension: cell.dimension, cohort: cell.key,
      total: { points, max, percentage: points === null ? null : round1((100 * points) / max) },
      categories, suppressed: released.length === 0,
    }];
  });
}
