/**
 * The organisation's adoption score from suppressed cohort tables only (never from rows): per category its
 * numerator, denominator and points (0-100), its definition and the reports behind it; the total over the
 * categories that were released, also as a percentage of their maximum. Per-cohort scores have the same
 * shape, with nulls where a category (or the whole cohort) was suppressed (G8).
 */
import type { CategoryTable } from './score-facts.js';

export interface CategoryScore {
  readonly id: string;
  readonly title: string;
  readonly numerator: number | null;
  readonly denominator: number | null;
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

/** Score rows for every cell of the tables' declared dimensions (organisation first). */
export function scoreRows(tables: readonly CategoryTable[]): ScoreRow[] {
  const first = tables[0]!.table;
  return first.cells.flatMap((cell, id) => {
    if (cell.state === 'hidden') return [];
    const categories = tables.map(({ category, table }) => {
      const c = table.cells[id]!;
      const released = c.state === 'released';
      return {
        id: category.id, title: category.title,
        numerator: released ? c.active : null, denominator: released ? c.users : null,
        points: released ? round1((100 * c.active) / c.users) : null,
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
