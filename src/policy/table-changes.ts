/**
 * What a policy change does within Graph's current refresh to the organisation's cohort tables (policy/decide.ts
 * jointCohortPlan), which `policy diff` per consumer does not show: releases of a refresh are suppressed within
 * the patterns its earlier releases made (cohort/tables-made.ts TablesMade), so a change that widens a table (a
 * dimension, a period grouped with it, the score's linked category, a lower k or k_c) holds the cells it would show
 * for the first time beside cells already shown until Graph's next refresh (metric gpp_cells_held_until_refresh),
 * and one that narrows it keeps the wider table until then. One 'changed' line per consumer and report whose
 * releases it touches; `policy diff` and the reload log line print them after the consumers' own changes.
 */
import { findReport, STANDARD_PERIODS, type Period, type ReportSpec } from '../catalogue/catalogue.js';
import type { CohortPlan } from '../cohort/report-users.js';
import { SCORE_CATEGORIES } from '../score/categories.js';
import { budgetPlan } from './budget-plan.js';
import { jointCohortPlan } from './decide.js';
import type { PolicyChange } from './diff.js';
import type { PolicySet } from './load.js';

type Tables = Pick<PolicySet, 'policies'>;

/** What makes a table: its dimensions, grouped periods, linked score categories, k and k_c. */
function shapeOf(plan: CohortPlan): { dimensions: string[]; periods: string[]; companions: string[]; k: number; kC: number } {
  return {
    dimensions: plan.dimensions.map((d) => d.name), periods: (plan.periods ?? []).map((p) => p.period),
    companions: (plan.companions ?? []).map((c) => c.name), k: plan.k, kC: plan.kC,
  };
}

/** A score category's title (Meetings), as the disclosure names it. */
const titleOf = (id: string) => SCORE_CATEGORIES.find((category) => category.id === id)?.title ?? id;

const missing = (from: readonly string[], to: readonly string[]) => to.filter((x) => !from.includes(x));

/** How the table of one report and period changes: what it gains (widening) and loses (narrowing); undefined if alike or new. */
function tableChange(before: Tables, after: Tables, report: ReportSpec, period: Period): { wider: string[]; narrower: string[] } | undefined {
  const a = jointCohortPlan(before, { report, period });
  const b = jointCohortPlan(after, { report, period });
  // A table no release of the refresh made (or none left) holds nothing back.
  if (a === undefined || b === undefined) return undefined;
  const x = shapeOf(a);
  const y = shapeOf(b);
  const wider = [
    ...missing(x.dimensions, y.dimensions).map((d) => `grouped by ${d}`),
    ...missing(x.periods, y.periods).filter((p) => p !== period).map((p) => `one table with ${p}`),
    ...missing(x.companions, y.companions).map((c) => `linked to the score's ${titleOf(c)}`),
    ...(y.k < x.k ? [`k ${x.k} -> ${y.k}`] : []),
    ...(y.kC < x.kC ? [`k_c ${x.kC} -> ${y.kC}`] : []),
  ];
  const narrower = [
    ...missing(y.dimensions, x.dimensions).map((d) => `no longer grouped by ${d}`),
    ...missing(y.periods, x.periods).filter((p) => p !== period).map((p) => `no longer one table with ${p}`),
    ...missing(y.companions, x.companions).map((c) => `no longer linked to the score's ${titleOf(c)}`),
  ];
  return wider.length === 0 && narrower.length === 0 ? undefined : { wider, narrower };
}

/** The consumers whose cohort releases of `report` the set grants for some period (in either format). */
function readersOf(set: Tables, report: ReportSpec): string[] {
  return set.policies.flatMap(({ policy }) => {
    const name = Object.keys(policy.reports).find((r) => findReport(r) === report);
    const rule = name === undefined ? undefined : policy.reports[name];
    return typeof rule === 'object' && 'cohort' in rule ? [...policy.consumers] : [];
  });
}

/**
 * The lines for every consumer reading cohorts of a report whose organisation table a change from `before` to
 * `after` widens or narrows, in any standard period: what holds until Graph's next refresh.
 */
export function refreshHoldChanges(before: Tables, after: Tables): PolicyChange[] {
  const changes: PolicyChange[] = [];
  // Only reports whose cohorts some consumer reads after the change: another table's cells reach no one.
  const reports = new Set(after.policies.flatMap(({ policy }) => Object.entries(policy.reports).flatMap(([name, rule]) => (typeof rule === 'object' && 'cohort' in rule ? [findReport(name)] : []))));
  for (const report of reports) {
    if (report === undefined) continue;
    const periods = STANDARD_PERIODS.filter((p) => report.periods.includes(p));
    const changed = periods.flatMap((period) => {
      const change = tableChange(before, after, report, period);
      return change === undefined ? [] : [{ period, ...change }];
    });
    if (changed.length === 0) continue;
    const wider = [...new Set(changed.flatMap((c) => c.wider))];
    const narrower = [...new Set(changed.flatMap((c) => c.narrower))];
    const windows = changed.map((c) => c.period).join(', ');
    const parts = [
      ...(wider.length > 0 ? [`its organisation table for ${windows} widens (${wider.join('; ')}): until Graph's next refresh, a cell it would show for the first time beside cells today's releases showed is served suppressed (counted by gpp_cells_held_until_refresh), and the cells it hides are hidden at once, so figures served today can disappear until then`] : []),
      ...(narrower.length > 0 ? [`its organisation table for ${windows} narrows (${narrower.join('; ')}): until Graph's next refresh its releases are still suppressed within the tables today's releases were made in, so cells the new set alone would show can stay hidden until then`] : []),
    ];
    const text = `${parts.join('; ')}; from the next refresh the new set's own pattern (what policy preview shows) applies`;
    for (const consumer of [...new Set(readersOf(after, report))].sort()) changes.push({ direction: 'changed', consumer, report: report.name, text });
  }
  return changes;
}

/**
 * The organisation's planned yearly privacy loss per person (budget-plan.ts: what `policy check` prints, and by
 * default the proxy's organisation limit, GPP_ORGANISATION_EPSILON_PER_YEAR) when a change moves it: a period, a
 * dimension or a noisy report added raises what a person may lose in a year, and the limit with it, though no
 * consumer's privacyBudget changed.
 */
export function organisationLossChanges(before: Tables, after: Tables): PolicyChange[] {
  const a = budgetPlan(before.policies.map((p) => p.policy)).organisation;
  const b = budgetPlan(after.policies.map((p) => p.policy)).organisation;
  if (a === b) return [];
  return [{
    direction: b > a ? 'more' : 'less', consumer: '(organisation)',
    text: `yearly privacy loss per person across all consumers: epsilon ${a} -> ${b} (by default also the proxy's organisation limit, unless GPP_ORGANISATION_EPSILON_PER_YEAR sets one)`,
  }];
}

/**
 * A consumer's k or k_c changed where its cohorts of a report are suppressed within a shared table whose own k and
 * k_c stay above both (the score's k_org, another tool's k): the diff's `k 5 -> 8` then changes nothing served of
 * that report, which it says.
 */
export function sharedTableKChanges(before: Tables, after: Tables): PolicyChange[] {
  const changes: PolicyChange[] = [];
  for (const { policy } of after.policies) {
    const old = before.policies.find((p) => p.policy.consumers.some((c) => policy.consumers.includes(c)))?.policy;
    if (old === undefined || (old.k === policy.k && old.kC === policy.kC)) continue;
    for (const [name, rule] of Object.entries(policy.reports)) {
      const report = findReport(name);
      if (report === undefined || typeof rule !== 'object' || !('cohort' in rule)) continue;
      const periods = STANDARD_PERIODS.filter((p) => report.periods.includes(p) && policy.periods.includes(p));
      const tables = periods.map((period) => [jointCohortPlan(before, { report, period }), jointCohortPlan(after, { report, period })] as const);
      const unchanged = tables.length > 0 && tables.every(([a, b]) => a !== undefined && b !== undefined && a.k === b.k && a.kC === b.kC && b.k >= Math.max(old.k, policy.k) && b.kC >= Math.max(old.kC, policy.kC));
      if (!unchanged) continue;
      const [, table] = tables[0]!;
      for (const consumer of policy.consumers) {
        changes.push({ direction: 'changed', consumer, report: report.name, text: `the change of k or k_c changes nothing served of this report: its groups are hidden at k ${table!.k} and k_c ${table!.kC} in a shared table (policy explain says which)` });
      }
    }
  }
  return changes;
}

/** The changes a policy diff lists beside each consumer's own: the organisation's yearly loss, then the tables held until the next refresh. */
export function setWideChanges(before: Tables, after: Tables): PolicyChange[] {
  return [...organisationLossChanges(before, after), ...sharedTableKChanges(before, after), ...refreshHoldChanges(before, after)];
}
