/**
 * Small numbers in reports about groups of people. Counts reports: a count of 1..k-1 people or actions is
 * emptied (Graph's own "no data" form), and so are both sides of an active/inactive pair (or total/active)
 * when either side is emptied or is 1..k_c-1, so that a released total cannot give the missing side away (G2).
 * Team and group reports: a row about fewer than k people (active users, members) is withheld.
 */
import { findColumn, type ColumnSpec, type ReportSpec } from '../catalogue/catalogue.js';

export interface SmallCountRule {
  readonly k: number;
  readonly kC: number;
  /** Count columns whose 1..k-1 values are emptied (storage bytes and durations are not counts of anyone). */
  readonly columns: readonly ColumnSpec[];
  /** [part, other]: complements within a total (`X Active`/`X Inactive`), or [Active, Total]. */
  readonly pairs: readonly { readonly part: ColumnSpec; readonly other: ColumnSpec; readonly otherIsTotal: boolean }[];
}

export function smallCountRule(report: ReportSpec, k: number, kC: number): SmallCountRule | undefined {
  if (report.shape !== 'counts') return undefined;
  const columns = report.columns.filter((c) => c.role === 'metric' && c.kind === 'int' && !c.header.includes('(Byte)'));
  const pairs: { part: ColumnSpec; other: ColumnSpec; otherIsTotal: boolean }[] = [];
  for (const column of columns) {
    const m = /^(.*) Active$/.exec(column.header);
    if (m === null) continue;
    const inactive = findColumn(report, `${m[1]} Inactive`);
    if (inactive !== undefined) pairs.push({ part: column, other: inactive, otherIsTotal: false });
  }
  const active = findColumn(report, 'Active');
  const total = findColumn(report, 'Total');
  if (active !== undefined && total !== undefined) pairs.push({ part: active, other: total, otherIsTotal: true });
  return { k, kC, columns, pairs };
}

/**
 * The columns to empty in one row, given each column's upstream value (null: no data). Pure: the CSV and the
 * JSON sanitiser read values their own way and empty the cells they release.
 */
export function smallCountsToEmpty(rule: SmallCountRule, valueOf: (column: ColumnSpec) => number | null): Set<ColumnSpec> {
  const empty = new Set<ColumnSpec>();
  const small = (v: number | null, below: number) => v !== null && v >= 1 && v < below;
  for (const column of rule.columns) if (small(valueOf(column), rule.k)) empty.add(column);
  for (const { part, other, otherIsTotal } of rule.pairs) {
    const partValue = valueOf(part);
    const otherValue = valueOf(other);
    const complement = otherIsTotal ? (otherValue === null || partValue === null ? null : otherValue - partValue) : otherValue;
    if (empty.has(part) || (!otherIsTotal && empty.has(other)) || small(partValue, rule.kC) || small(complement, rule.kC)) {
      empty.add(part);
      if (!otherIsTotal) empty.add(other);
    }
  }
  return empty;
}
