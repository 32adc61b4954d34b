/**
 * What a policy set's noisy releases cost in a year, before it goes live (issue 15, item 6): per policy, the
 * epsilon its consumer spends polling everything it may read once per fresh release (so whether its yearly
 * budget lasts, and how long it does), and per person across all consumers, the organisation's yearly privacy
 * loss: the sum over distinct noisy measures (cohort/release.ts noisyMeasureId: report or score, window,
 * dimension, measure and scale), each paid once whichever policies release it, as the proxy charges them. By
 * default that total is also the proxy's organisation limit (GPP_ORGANISATION_EPSILON_PER_YEAR sets another).
 * Basic composition: the epsilons of distinct measures add up.
 */
import { findReport } from '../catalogue/catalogue.js';
import { ORGANIZATION } from '../cohort/aggregate.js';
import { DIRECTORY_ATTRIBUTES } from '../cohort/directory.js';
import { releasesPerYear } from '../cohort/release.js';
import { cohortMeasures } from '../cohort/render.js';
import { planCohorts } from '../cohort/report-users.js';
import { SCORE_CATEGORIES } from '../score/categories.js';
import { scoreNoiseScale } from '../score/org-scores.js';
import type { PolicySet } from './load.js';
import type { ResolvedPolicy } from './schema.js';

/** Graph serves single dates of the last 28 days: each is a release of its own on each fresh release day. */
const DATES_SERVED = 28;
const SCORE_PERIODS = ['D7', 'D30', 'D90', 'D180'];

/** Above this yearly epsilon per person a differential-privacy guarantee says little (policy check says so). */
export const MEANINGFUL_EPSILON_PER_YEAR = 10;

export interface PolicyBudgetPlan {
  readonly policy: string;
  /** Noisy release slots the consumer may read (report or score x period, or date), each released afresh per epoch. */
  readonly slots: number;
  /** Fresh releases per year of each slot under the policy's `freshReleases`. */
  readonly releasesPerSlot: number;
  /** Epsilon per year polling everything once per fresh release. */
  readonly needed: number;
  /** The policy's yearly budget (null: none set). */
  readonly budget: number | null;
  /** Days the budget lasts at that pace (null: the whole year or no noise). */
  readonly lastsDays: number | null;
}

export interface SetBudgetPlan {
  readonly policies: PolicyBudgetPlan[];
  /** Epsilon per person per year across all consumers: the sum over distinct noisy measures. */
  readonly organisation: number;
}

interface PlannedMeasure {
  /** Measures with the same key are one, whichever policy releases them (the same draws, paid once). */
  readonly key: string;
  readonly epsilon: number;
  /** Fresh draws a year; a daily and a weekly policy drawing it from the same day's data share the weekly ones. */
  readonly perYear: number;
}

/** The noisy measures a policy's releases draw, with the number of its noisy release slots. */
function noisyMeasures(policy: ResolvedPolicy): { slots: number; measures: PlannedMeasure[] } {
  const perRelease = releasesPerYear(policy.freshReleases);
  const dates = policy.dates ? [{ window: 'date', perYear: perRelease * DATES_SERVED }] : [];
  const measures: PlannedMeasure[] = [];
  const epsilons: number[] = [];
  let slots = 0;
  for (const [name, rule] of Object.entries(policy.reports)) {
    if (typeof rule !== 'object' || !('cohort' in rule) || rule.cohort.noise === undefined) continue;
    const report = findReport(name);
    if (report === undefined) continue;
    // Scales as the proxy draws them: stated, or derived from the margin the rule asks for (cohort/accuracy.ts).
    const plan = planCohorts(report, rule, policy.k, policy.kC);
    epsilons.push(plan.noise!.epsilon);
    const periods = report.periods.filter((p) => (policy.periods as readonly string[]).includes(p)).map((window) => ({ window, perYear: perRelease }));
    for (const { window, perYear } of [...periods, ...(report.parameters === 'periodOrDate' ? dates : [])]) {
      slots++;
      for (const dimension of plan.dimensions.filter((d) => d.name !== ORGANIZATION)) {
        for (const m of cohortMeasures(plan)) measures.push({ key: `${report.name} ${window} ${dimension.name} ${m.measure} ${m.scale}`, epsilon: m.sensitivity / m.scale, perYear });
      }
    }
  }
  if (policy.permissions.includes('score') && epsilons.length > 0) {
    // As policy/decide.ts scoreGrantFor grants it: the declared directory attributes, the largest rule epsilon.
    const declared = new Set(Object.values(policy.reports).flatMap((r) => (typeof r === 'object' && 'cohort' in r ? r.cohort.by : [])));
    const dimensions = DIRECTORY_ATTRIBUTES.filter((a) => declared.has(a));
    const scale = scoreNoiseScale(dimensions.length, Math.max(...epsilons));
    const periods = SCORE_PERIODS.filter((p) => (policy.periods as readonly string[]).includes(p)).map((window) => ({ window, perYear: perRelease }));
    for (const { window, perYear } of [...periods, ...dates]) {
      slots++;
      for (const dimension of dimensions) {
        for (const category of SCORE_CATEGORIES) {
          for (const m of ['numerator', 'denominator']) measures.push({ key: `score ${window} ${dimension} ${category.id} ${m} ${scale}`, epsilon: 1 / scale, perYear });
        }
      }
    }
  }
  return { slots, measures };
}

/** Epsilon shown to two decimals, rounded up: a stated need never understates what a year spends. */
const round = (n: number) => Math.ceil(n * 100 - 1e-9) / 100;

export function budgetPlan(policies: readonly ResolvedPolicy[]): SetBudgetPlan {
  const distinct = new Map<string, PlannedMeasure>();
  const plans = policies.map((policy): PolicyBudgetPlan => {
    const { slots, measures } = noisyMeasures(policy);
    for (const m of measures) {
      const known = distinct.get(m.key);
      if (known === undefined || known.perYear < m.perYear) distinct.set(m.key, m);
    }
    const needed = measures.reduce((sum, m) => sum + m.epsilon * m.perYear, 0);
    const budget = policy.privacyBudget?.epsilonPerYear ?? null;
    const lastsDays = budget === null || needed <= budget + 1e-9 ? null : Math.floor((365 * budget) / needed);
    return { policy: policy.name, slots, releasesPerSlot: releasesPerYear(policy.freshReleases), needed: round(needed), budget, lastsDays };
  });
  const organisation = [...distinct.values()].reduce((sum, m) => sum + m.epsilon * m.perYear, 0);
  return { policies: plans, organisation: round(organisation) };
}

const planned = new WeakMap<PolicySet, number>();

/** The set's planned organisation total (budgetPlan), memoised per set: the proxy's default organisation limit. */
export function plannedOrganisationEpsilon(set: PolicySet): number {
  let total = planned.get(set);
  if (total === undefined) planned.set(set, (total = budgetPlan(set.policies.map((p) => p.policy)).organisation));
  return total;
}

/** Plain lines for `policy explain` and `policy check`: what the set's noise costs a person in a year. */
export function describeBudgetPlan(plan: SetBudgetPlan): { lines: string[]; warnings: string[] } {
  const lines: string[] = [];
  const warnings: string[] = [];
  // Weekly is the least often a release can be made fresh: advise it only to a noisy policy that is not weekly yet.
  const daily = (p: PolicyBudgetPlan) => p.slots > 0 && p.releasesPerSlot > releasesPerYear('weekly');
  for (const p of plan.policies) {
    if (p.slots === 0) continue;
    lines.push(`policy '${p.policy}': ${p.slots} noisy releases it may read, each made afresh ${p.releasesPerSlot} times a year: epsilon ${p.needed} per year polling everything${p.budget !== null ? ` (budget ${p.budget})` : ''}`);
    if (p.lastsDays !== null) warnings.push(`policy '${p.policy}': its yearly budget (epsilon ${p.budget}) runs out after about ${p.lastsDays} days of polling everything it may read once per fresh release (that needs epsilon ${p.needed}); raise privacyBudget${daily(p) ? ', set freshReleases: weekly,' : ''} or release fewer noisy reports and periods`);
  }
  lines.push(`yearly privacy loss per person, across all consumers: epsilon ${plan.organisation}${plan.organisation === 0 ? ' (no noisy releases: figures are exact, protected by suppression only)' : ' (a figure two policies release at the same scale counts once); by default also the organisation limit: past it the proxy makes no fresh noisy release for anyone and serves the last one, stale (GPP_ORGANISATION_EPSILON_PER_YEAR sets another limit)'}`);
  if (plan.organisation > MEANINGFUL_EPSILON_PER_YEAR) {
    warnings.push(`the yearly privacy loss per person across all consumers is epsilon ${plan.organisation}, above ${MEANINGFUL_EPSILON_PER_YEAR}: at that level the noise is not a meaningful differential-privacy guarantee, only a blur; say so in the disclosure, or release ${plan.policies.some(daily) ? 'less often (freshReleases: weekly), ' : ''}fewer noisy reports, or exact figures protected by suppression alone`);
  }
  return { lines, warnings };
}
