/**
 * What a policy set's noisy releases cost in a year, before it goes live (issue 15, item 6): per policy, the
 * epsilon its consumer spends polling everything it may read once per fresh release (so whether its yearly
 * budget lasts, and how long it does), and per person across all consumers, the organisation's yearly privacy
 * loss (releases with the same settings are one release, shared by every consumer that reads them). Basic
 * composition: the epsilons of distinct releases add up.
 */
import { findReport } from '../catalogue/catalogue.js';
import { releasesPerYear } from '../cohort/release.js';
import { planCohorts } from '../cohort/report-users.js';
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
  /** Epsilon per person per year across all consumers: the sum over distinct releases. */
  readonly organisation: number;
}

interface Slot {
  /** Releases with the same key are one release, whichever policy grants them. */
  readonly key: string;
  readonly epsilon: number;
  readonly perYear: number;
}

/** The noisy release slots a policy grants, each with its yearly count and epsilon. */
function noisySlots(policy: ResolvedPolicy): Slot[] {
  const perRelease = releasesPerYear(policy.freshReleases);
  const dates = policy.dates ? [{ window: 'date', perYear: perRelease * DATES_SERVED }] : [];
  const settings = `${policy.k} ${policy.kC} ${policy.kOrg} ${policy.freshReleases}`;
  const slots: Slot[] = [];
  const epsilons: number[] = [];
  for (const [name, rule] of Object.entries(policy.reports)) {
    if (typeof rule !== 'object' || !('cohort' in rule) || rule.cohort.noise === undefined) continue;
    const report = findReport(name);
    if (report === undefined) continue;
    // What one release costs: stated, or derived from the margin the rule asks for (cohort/accuracy.ts).
    const { epsilon } = planCohorts(report, rule, policy.k, policy.kC).noise!;
    epsilons.push(epsilon);
    const periods = report.periods.filter((p) => (policy.periods as readonly string[]).includes(p)).map((window) => ({ window, perYear: perRelease }));
    for (const { window, perYear } of [...periods, ...(report.parameters === 'periodOrDate' ? dates : [])]) {
      slots.push({ key: `${report.name} ${window} ${settings} ${JSON.stringify(rule.cohort)}`, epsilon, perYear });
    }
  }
  if (policy.permissions.includes('score') && epsilons.length > 0) {
    const epsilon = Math.max(...epsilons);
    const dimensions = [...new Set(Object.values(policy.reports).flatMap((r) => (typeof r === 'object' && 'cohort' in r ? r.cohort.by : [])))].sort().join(',');
    const periods = SCORE_PERIODS.filter((p) => (policy.periods as readonly string[]).includes(p)).map((window) => ({ window, perYear: perRelease }));
    for (const { window, perYear } of [...periods, ...dates]) slots.push({ key: `score ${window} ${settings} ${dimensions} ${epsilon}`, epsilon, perYear });
  }
  return slots;
}

/** Epsilon shown to two decimals, rounded up: a stated need never understates what a year spends. */
const round = (n: number) => Math.ceil(n * 100 - 1e-9) / 100;

export function budgetPlan(policies: readonly ResolvedPolicy[]): SetBudgetPlan {
  const distinct = new Map<string, Slot>();
  const plans = policies.map((policy): PolicyBudgetPlan => {
    const slots = noisySlots(policy);
    for (const slot of slots) distinct.set(slot.key, slot);
    const needed = slots.reduce((sum, slot) => sum + slot.epsilon * slot.perYear, 0);
    const budget = policy.privacyBudget?.epsilonPerYear ?? null;
    const lastsDays = budget === null || needed <= budget + 1e-9 ? null : Math.floor((365 * budget) / needed);
    return { policy: policy.name, slots: slots.length, releasesPerSlot: releasesPerYear(policy.freshReleases), needed: round(needed), budget, lastsDays };
  });
  const organisation = [...distinct.values()].reduce((sum, slot) => sum + slot.epsilon * slot.perYear, 0);
  return { policies: plans, organisation: round(organisation) };
}

/** Plain lines for `policy explain` and `policy check`: what the set's noise costs a person in a year. */
export function describeBudgetPlan(plan: SetBudgetPlan): { lines: string[]; warnings: string[] } {
  const lines: string[] = [];
  const warnings: string[] = [];
  for (const p of plan.policies) {
    if (p.slots === 0) continue;
    lines.push(`policy '${p.policy}': ${p.slots} noisy releases it may read, each made afresh ${p.releasesPerSlot} times a year: epsilon ${p.needed} per year polling everything${p.budget !== null ? ` (budget ${p.budget})` : ''}`);
    if (p.lastsDays !== null) warnings.push(`policy '${p.policy}': its yearly budget (epsilon ${p.budget}) runs out after about ${p.lastsDays} days of polling everything it may read once per fresh release (that needs epsilon ${p.needed}); raise privacyBudget, set freshReleases: weekly, or release fewer noisy reports and periods`);
  }
  lines.push(`yearly privacy loss per person, across all consumers: epsilon ${plan.organisation}${plan.organisation === 0 ? ' (no noisy releases: figures are exact, protected by suppression only)' : ''}`);
  if (plan.organisation > MEANINGFUL_EPSILON_PER_YEAR) {
    warnings.push(`the yearly privacy loss per person across all consumers is epsilon ${plan.organisation}, above ${MEANINGFUL_EPSILON_PER_YEAR}: at that level the noise is not a meaningful differential-privacy guarantee, only a blur; say so in the disclosure, or release less often (freshReleases: weekly), fewer noisy reports, or exact figures protected by suppression alone`);
  }
  return { lines, warnings };
}
