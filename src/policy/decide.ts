/**
 * What a policy decides for one report request, before any data is read: denied (and why), cohort, or rows
 * with the plan to sanitise them. The server and `policy test` both decide through here, so a test case
 * exercises exactly the rules the proxy applies.
 */
import { findReport, STANDARD_PERIODS, type Period, type ReportSpec } from '../catalogue/catalogue.js';
import type { CohortGrant } from '../cohort/cohort-releases.js';
import { DIRECTORY_ATTRIBUTES } from '../cohort/directory.js';
import type { ScoreGrant } from '../score/org-scores.js';
import { ORGANIZATION, parseDimension } from '../cohort/aggregate.js';
import { categoryCompanions, SCORE_SOURCE_REPORTS } from '../score/score-facts.js';
import { NESTED_PERIODS, periodGroup } from '../cohort/tables-made.js';
import { planCohorts, type CohortPlan, type CompanionMeasure } from '../cohort/report-users.js';
import { planRows, type RowsPlan } from '../sanitize/plan.js';
import { pseudonymizer, type PseudonymKeyring, type PseudonymMemo } from '../sanitize/pseudonyms.js';
import type { LoadedPolicy, PolicySet } from './load.js';
import type { CohortRule, ResolvedPolicy, RowsRule } from './schema.js';

export type { CohortRule } from './schema.js';

export interface ReportRequest {
  readonly report: ReportSpec;
  readonly format: 'csv' | 'json';
  readonly period?: Period;
  readonly date?: string;
}

export type ReportDecision =
  | { readonly kind: 'denied'; readonly reason: string }
  | { readonly kind: 'cohort'; readonly policy: LoadedPolicy; readonly rule: CohortRule }
  | { readonly kind: 'rows'; readonly policy: LoadedPolicy; readonly rule: RowsRule };

/**
 * Why a policy refuses the time window of a request (a period it does not list, or a single day when it does not
 * set `dates: true`), or undefined. Every surface that reads a report's data (the report URL, /cohorts,
 * /org-score) asks this, so a window one surface refuses is refused by all.
 */
export function windowDenial(policy: ResolvedPolicy, request: { readonly period?: string; readonly date?: string }): string | undefined {
  if (request.period !== undefined && !(policy.periods as readonly string[]).includes(request.period)) {
    return `The policy for this consumer does not release period ${request.period}; allowed: ${policy.periods.join(', ')}.`;
  }
  // Single days are off unless the policy turns them on: one day's activity singles people out more than a period.
  if (request.date !== undefined && !policy.dates) return 'The policy for this consumer does not release single-date reports; ask for a period.';
  return undefined;
}

export function decideReport(loaded: LoadedPolicy | undefined, request: ReportRequest): ReportDecision {
  const denied = (reason: string): ReportDecision => ({ kind: 'denied', reason });
  if (loaded === undefined) return denied('No policy grants this consumer access to any report.');
  const { policy } = loaded;
  const name = request.report.name;
  const key = Object.keys(policy.reports).find((r) => findReport(r) === request.report);
  const rule = key === undefined ? undefined : policy.reports[key];
  if (rule === undefined || rule === 'deny') return denied(`The policy for this consumer does not release ${name}.`);
  if (!policy.formats.includes(request.format)) {
    return denied(`The policy for this consumer does not release ${name} as ${request.format.toUpperCase()}.`);
  }
  const window = windowDenial(policy, request);
  if (window !== undefined) return denied(window);
  return 'cohort' in rule ? { kind: 'cohort', policy: loaded, rule } : { kind: 'rows', policy: loaded, rule };
}

/** The sanitising plan of a rows decision for one consumer: its k, and its pseudonym key where one is needed. */
export function rowsPlanFor(decision: Extract<ReportDecision, { kind: 'rows' }>, report: ReportSpec, consumer: string, keyring: PseudonymKeyring, memo?: PseudonymMemo): RowsPlan {
  const { policy } = decision.policy;
  const needsKey = Object.values(decision.rule.rows).includes('pseudonymize');
  const pseudonymize = needsKey && policy.pseudonyms !== undefined ? pseudonymizer(keyring, { ...policy.pseudonyms, consumer }, memo) : undefined;
  return planRows(report, decision.rule, policy.k, { kC: policy.kC, ...(pseudonymize !== undefined ? { pseudonymize } : {}) });
}

/** The cohort plan of a cohort decision: its dimensions and metrics under the policy's k and k_c. */
export function cohortPlanFor(decision: Extract<ReportDecision, { kind: 'cohort' }>, report: ReportSpec): CohortPlan {
  const { policy } = decision.policy;
  return planCohorts(report, decision.rule, policy.k, policy.kC);
}

/**
 * The organisation's cohort table of one report and window: every dimension that any policy of the set releases
 * as cohorts of that report and window (in either format), at the largest k and k_c among those policies, with
 * no metrics (it decides suppression only; with the score's companions, the sums of the columns tied to their
 * counts, which bound them). Consumers may collude and join their outputs (privacy.md's threat
 * model), so each consumer's release is suppressed as part of this one table: a tool reading departments and
 * another reading offices never see together what suppression hides from each. Where the report's cohorts are
 * released for several periods, they are one table too (CohortPlan.periods). Undefined when no policy releases
 * cohorts of the report for the window.
 */
export function jointCohortPlan(set: Pick<PolicySet, 'policies'>, request: Omit<ReportRequest, 'format'>): CohortPlan | undefined {
  const own = windowCohortPlan(set, request);
  if (own !== undefined && request.date !== undefined && dayNestsInPeriods(set, request.report)) return organisationOnly(own);
  if (own === undefined || request.period === undefined || !NESTED_PERIODS.includes(request.period)) return own;
  // The periods nest (whoever was active over 7 days was over 30): every period the report's cohorts are released
  // for is one table with this one, at the union of their dimensions and the largest k and k_c.
  const group = NESTED_PERIODS.flatMap((period) => {
    const plan = period === request.period ? own : windowCohortPlan(set, { ...request, period });
    return plan === undefined ? [] : [{ period, plan }];
  });
  return group.length < 2 ? own : periodGroup(group, request.period);
}

/**
 * Whether some policy of `set` releases `report`'s cohorts for a standard period. A single day nests in the periods
 * that hold it (whoever was active yesterday was over the last 7 days), and days are not one table with periods
 * (each of the 28 days would join the group, and days do not nest in one another), so a day's cohorts beside them
 * are the organisation's only (red team, test/redteam/date-period-nesting.test.ts). The same holds for a report
 * the org score reads, where some policy may read the score by a dimension (always for a period): a day's
 * OneDrive cells beside the score's hidden Content collaboration cells (red team,
 * test/redteam/score-day-other-report.test.ts).
 */
export function dayNestsInPeriods(set: Pick<PolicySet, 'policies'>, report: ReportSpec): boolean {
  if (NESTED_PERIODS.some((period) => windowCohortPlan(set, { report, period }) !== undefined)) return true;
  return SCORE_SOURCE_REPORTS.includes(report) && set.policies.some((p) => p.policy.permissions.includes('score') && ownScoreGrant(p).dimensions.length > 0);
}

/** A plan cut to its organisation dimension (none if it has none). */
const organisationOnly = (plan: CohortPlan): CohortPlan => ({ ...plan, dimensions: plan.dimensions.filter((d) => d.name === ORGANIZATION) });

/** The organisation's table of one report and window alone (jointCohortPlan before the periods are grouped). */
function windowCohortPlan(set: Pick<PolicySet, 'policies'>, request: Omit<ReportRequest, 'format'>): CohortPlan | undefined {
  // A period the report does not have (ALL beside the Teams report) is no table: Graph refuses it, and a policy
  // listing it for another report's sake puts nothing of it into this report's group (red team,
  // test/redteam/all-period-group-refusal.test.ts).
  if (request.period !== undefined && !request.report.periods.includes(request.period)) return undefined;
  const plans = set.policies.flatMap((loaded) => {
    const decision = (['csv', 'json'] as const).map((format) => decideReport(loaded, { ...request, format })).find((d) => d.kind === 'cohort');
    return decision?.kind === 'cohort' ? [cohortPlanFor(decision, request.report)] : [];
  });
  // The score's categories read from this report alone count the same people from the same rows: where the set
  // also grants the score for this window, they are one table with the cohorts (the score's dimensions, k_org and
  // k_c included), so neither surface bounds what the other hides. Where no policy releases the report's cohorts
  // for the window, the table still exists for the score's sake (nobody reads its cohorts): Meetings is then
  // linked, and grouped with the report's other periods, in every window the score is granted for (red team,
  // test/redteam/score-meetings-linked-one-period.test.ts).
  const score = scoreTableFor(set, request);
  const companions = score === undefined ? [] : categoryCompanions(request.report.name);
  const linked = companions.length > 0 ? score : undefined;
  if (plans.length === 0 && linked === undefined) return undefined;
  const names = [...new Set([...plans.flatMap((plan) => plan.dimensions.map((d) => d.name)), ...(linked?.dimensions ?? [])])].sort();
  // With companions, the sums any policy releases of the columns tied to their counts: a shown cell's sums bound them.
  const tied = tiedToCompanions(companions);
  const metrics = linked === undefined ? [] : [...new Map(plans.flatMap((p) => p.metrics).filter((m) => tied(m.column.header)).map((m) => [`${m.column.header} ${m.clip}`, m])).values()];
  return {
    report: request.report, dimensions: names.map(parseDimension), metrics,
    k: Math.max(...plans.map((p) => p.k), linked?.kOrg ?? 0), kC: Math.max(...plans.map((p) => p.kC), linked?.kC ?? 0),
    ...(linked !== undefined ? { companions } : {}),
  };
}

/**
 * The organisation's score table (scoreGrantFor's `joint`: every directory attribute of every policy granted the
 * score, at their largest k_org, never below k, and k_c) when some policy may read the score for `window`.
 */
function scoreTableFor(set: Pick<PolicySet, 'policies'>, window: { readonly period?: string; readonly date?: string }): { dimensions: string[]; kOrg: number; kC: number } | undefined {
  const policies = set.policies.filter((p) => p.policy.permissions.includes('score'));
  if (!policies.some((p) => windowDenial(p.policy, window) === undefined)) return undefined;
  const granted = policies.map(ownScoreGrant);
  return { dimensions: [ORGANIZATION, ...DIRECTORY_ATTRIBUTES.filter((a) => granted.some((g) => g.dimensions.includes(a)))], kOrg: Math.max(...granted.map((g) => g.kOrg)), kC: Math.max(...granted.map((g) => g.kC)) };
}

/**
 * The organisation's cohort tables the score's categories are companions of, for a score window (the score
 * suppresses those categories as those tables do): one per score report whose cohorts some policy of `set`
 * releases for the window.
 */
export function linkedCohortPlans(set: Pick<PolicySet, 'policies'>, window: { readonly period?: Period; readonly date?: string }): CohortPlan[] {
  return SCORE_SOURCE_REPORTS.flatMap((report) => {
    const joint = jointCohortPlan(set, { report, ...window });
    return joint?.companions !== undefined ? [joint] : [];
  });
}

/** Whether a column (header) is tied to a companion's count: a shown cell's sums of it bound the count. */
const tiedToCompanions = (companions: readonly CompanionMeasure[]) => (header: string) => companions.some((c) => c.countedBy === header || c.tiedTo?.(header) === true);

/**
 * The metric columns (headers) an organisation table of `report` holding score companions may sum, whatever the
 * window (jointCohortPlan's metrics): what the score's validation pass keeps per row of the report
 * (score-facts.ts scoreFactsSummarizer).
 */
export function linkedMetricHeaders(set: Pick<PolicySet, 'policies'>, report: ReportSpec): string[] {
  const tied = tiedToCompanions(categoryCompanions(report.name));
  const headers = set.policies.flatMap(({ policy }) => {
    const key = Object.keys(policy.reports).find((r) => findReport(r) === report);
    const rule = key === undefined ? undefined : policy.reports[key];
    return rule === undefined || rule === 'deny' || !('cohort' in rule) ? [] : planCohorts(report, rule, policy.k, policy.kC).metrics.map((m) => m.column.header);
  });
  return [...new Set(headers)].filter(tied);
}

/**
 * What a cohort decision grants: the rule compiled with the policy's k and k_c, the policy's name and budget,
 * and the organisation's table it is suppressed within (jointCohortPlan of `set` for the request's report and window).
 */
export function cohortGrantFor(decision: Extract<ReportDecision, { kind: 'cohort' }>, request: Omit<ReportRequest, 'format'>, set: Pick<PolicySet, 'policies'>): CohortGrant {
  const { policy } = decision.policy;
  const full = cohortPlanFor(decision, request.report);
  // A single day beside periods: the organisation only (dayNestsInPeriods).
  const plan = request.date !== undefined && dayNestsInPeriods(set, request.report) ? organisationOnly(full) : full;
  const joint = jointCohortPlan(set, request);
  return {
    policyName: policy.name, plan, cadence: policy.freshReleases, ...(joint !== undefined ? { joint } : {}),
    ...(policy.privacyBudget !== undefined ? { epsilonPerYear: policy.privacyBudget.epsilonPerYear } : {}),
  };
}

/**
 * What a policy grants for the org score: every directory attribute it declares as a cohort dimension (the
 * score's `by`, protected as one table), its k_org (never below its k: G1's floor holds for score cells too) and
 * k_c, and noise when any of its cohorts is noisy (at the largest epsilon among them), so the score by a dimension
 * is never more exact than the cohorts beside it. Consumers may collude (privacy.md's threat model): the grant is
 * suppressed within the organisation's score table, every dimension of every policy of `set` granted the score at
 * the largest k_org and k_c (`joint`, left out where it is the grant's own).
 */
export function scoreGrantFor(loaded: LoadedPolicy, set: Pick<PolicySet, 'policies'>, window?: { readonly period?: Period; readonly date?: string }): ScoreGrant {
  const own = ownScoreGrant(loaded);
  const granted = set.policies.filter((p) => p.policy.permissions.includes('score')).map(ownScoreGrant);
  const joint = {
    dimensions: DIRECTORY_ATTRIBUTES.filter((a) => granted.some((g) => g.dimensions.includes(a))),
    kOrg: Math.max(own.kOrg, ...granted.map((g) => g.kOrg)), kC: Math.max(own.kC, ...granted.map((g) => g.kC)),
  };
  const alike = joint.dimensions.length === own.dimensions.length && joint.kOrg === own.kOrg && joint.kC === own.kC;
  const linked = window === undefined ? [] : linkedCohortPlans(set, window);
  // The categories nest across periods (files over 7 days => over 30): every standard period some policy may read
  // the score for is one table with this one (score/org-scores.ts).
  const scored = (period: Period) => set.policies.some((p) => p.policy.permissions.includes('score') && windowDenial(p.policy, { period }) === undefined);
  const periods = window?.period !== undefined && STANDARD_PERIODS.includes(window.period) ? STANDARD_PERIODS.filter(scored) : [];
  // A single day nests in the periods the score is read for (every score policy grants one): the organisation only.
  if (window?.date !== undefined) return { ...own, dimensions: [], joint: { ...joint, dimensions: [] }, ...(linked.length > 0 ? { linked } : {}), dayOnly: true };
  return { ...own, ...(alike ? {} : { joint }), ...(linked.length > 0 ? { linked } : {}), ...(periods.length > 1 && periods.includes(window!.period!) ? { periods } : {}) };
}

function ownScoreGrant(loaded: LoadedPolicy): ScoreGrant {
  const { policy } = loaded;
  const rules = Object.entries(policy.reports).flatMap(([name, rule]) => (typeof rule === 'object' && 'cohort' in rule ? [{ report: findReport(name), rule }] : []));
  const declared = new Set(rules.flatMap(({ rule }) => rule.cohort.by));
  // What one release of each noisy rule costs: stated, or derived from its margin (cohort/accuracy.ts).
  const epsilons = rules.flatMap(({ report, rule }) => (rule.cohort.noise !== undefined && report !== undefined ? [planCohorts(report, rule, policy.k, policy.kC).noise!.epsilon] : []));
  return {
    policyName: policy.name, dimensions: DIRECTORY_ATTRIBUTES.filter((a) => declared.has(a)), kOrg: Math.max(policy.kOrg, policy.k), kC: policy.kC, cadence: policy.freshReleases,
    ...(epsilons.length > 0 ? { noise: { epsilon: Math.max(...epsilons) } } : {}),
    ...(policy.privacyBudget !== undefined ? { epsilonPerYear: policy.privacyBudget.epsilonPerYear } : {}),
  };
}
