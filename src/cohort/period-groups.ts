/**
 * A report's periods as one table (CohortPlan.periods): the windows nest (whoever was active over 7 days was over
 * 30), so every period a report's cohorts are released for is suppressed with the others (suppress.ts
 * suppressNested). policy/decide.ts jointCohortPlan groups the periods the live policy set releases;
 * `PeriodGroupsMade` keeps, per report and Graph refresh, the group its releases were made with, so that a policy
 * change within the refresh never releases a period apart from the group its kept releases were made in.
 */
import { STANDARD_PERIODS, type Period, type ReportSpec } from '../catalogue/catalogue.js';
import { parseDimension } from './aggregate.js';
import type { CohortPlan } from './report-users.js';

/**
 * The periods that nest, shortest first: the standard ones, then ALL (Copilot's whole history, which holds the
 * others: red team, test/redteam/copilot-all-period-nesting.test.ts).
 */
export const NESTED_PERIODS: readonly Period[] = [...STANDARD_PERIODS, 'ALL'];

/**
 * `live` (jointCohortPlan's plan for `period`) united with `made`, the group of the same report's
 * periods releases of the same Graph refresh were already made with: every period of either, at the union of their
 * dimensions and the largest k and k_c (a period in both keeps `live`'s companions and metrics). Releases of one
 * refresh are kept by consumers, and a policy change within the refresh that ends a group (a period dropped: an
 * exposure decrease) would otherwise release a period alone beside the group's releases, which its pattern was
 * made to agree with (red team, test/redteam/period-group-reload.test.ts). A change that narrows keeps the group
 * as made; one that widens it (a period, a dimension, a larger k) makes a new group pattern, as a new policy does.
 */
export function withPeriodsMade(live: CohortPlan, made: CohortPlan, period: Period): CohortPlan {
  const tables = new Map<Period, CohortPlan>([...(made.periods ?? []), ...(live.periods ?? [{ period, plan: live }])].map((t) => [t.period, t.plan]));
  const group = NESTED_PERIODS.flatMap((p) => (tables.has(p) ? [{ period: p, plan: tables.get(p)! }] : []));
  return periodGroup(group, period);
}

/** One table over nested periods (CohortPlan.periods): each period's plan at the union of dimensions, the largest k and k_c; the plan of `period`'s. */
export function periodGroup(group: readonly { readonly period: Period; readonly plan: CohortPlan }[], period: Period): CohortPlan {
  const names = [...new Set(group.flatMap((g) => g.plan.dimensions.map((d) => d.name)))].sort();
  const k = Math.max(...group.map((g) => g.plan.k));
  const kC = Math.max(...group.map((g) => g.plan.kC));
  const unified = ({ periods: _periods, ...plan }: CohortPlan): CohortPlan => ({ ...plan, dimensions: names.map(parseDimension), k, kC });
  const own = group.find((g) => g.period === period)!.plan;
  return group.length < 2 ? unified(own) : { ...unified(own), periods: group.map((g) => ({ period: g.period, plan: unified(g.plan) })) };
}

/** How many (report, refresh date) groups are kept: every date Graph serves (28 days) for every report, and more. */
const GROUPS_KEPT = 4096;

/**
 * The period group each report's releases of a Graph refresh were made with (the union of every group met for
 * it), in memory: a restart keeps none, as the directory pins (sources.ts DirectoryPins). Bounded: past
 * GROUPS_KEPT the one least recently released goes first.
 */
export class PeriodGroupsMade {
  private readonly groups = new Map<string, CohortPlan>();
  /** The org score's periods per refresh date (score/org-scores.ts ScoreGrant.periods). */
  private readonly scorePeriods = new Map<string, readonly Period[]>();

  /**
   * The periods the org score's categories for `period` of the refresh `refreshDate` are one table over: `live`
   * (the grant's, several periods or none) united with those the score's releases of the refresh were already
   * made with, shortest first; remembered when several. Undefined: `period` alone.
   */
  scorePeriodsFor(period: Period, refreshDate: string | null, live: readonly Period[] | undefined): readonly Period[] | undefined {
    if (refreshDate === null || !NESTED_PERIODS.includes(period)) return live;
    const made = this.scorePeriods.get(refreshDate) ?? [];
    const periods = NESTED_PERIODS.filter((p) => made.includes(p) || live?.includes(p) === true || (made.length > 0 && p === period));
    if (periods.length < 2) return live;
    remember(this.scorePeriods, refreshDate, periods);
    return sameList(periods, live) ? live : periods;
  }

  /**
   * The table a release of `report`'s `period` of the refresh `refreshDate` (YYYY-MM-DD; null: an empty report) is
   * suppressed within: `live` (the live policy set's joint plan, jointCohortPlan; else the consumer's plan) united
   * with the group releases of the refresh were already made with (withPeriodsMade); a group of several periods is
   * remembered for the refresh. A single day or an empty report: `live`.
   */
  groupFor(report: ReportSpec, period: Period | undefined, refreshDate: string | null, live: CohortPlan): CohortPlan {
    if (period === undefined || refreshDate === null || !NESTED_PERIODS.includes(period)) return live;
    const key = `${report.name} ${refreshDate}`;
    const made = this.groups.get(key);
    const group = made === undefined ? live : withPeriodsMade(live, made, period);
    if (group.periods !== undefined) remember(this.groups, key, group);
    return group;
  }
}

/** Sets `key` most recently used (last): past GROUPS_KEPT, the one least recently released goes. */
function remember<T>(map: Map<string, T>, key: string, value: T): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > GROUPS_KEPT) map.delete(map.keys().next().value!);
}

const sameList = (a: readonly Period[], b: readonly Period[] | undefined) => b !== undefined && a.length === b.length && a.every((p, i) => p === b[i]);
