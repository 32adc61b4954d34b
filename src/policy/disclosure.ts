/**
 * What each consumer can see, generated from the live policy set, for staff and works councils: per consumer,
 * the reports it may call and, per report, which columns it gets in clear, as pseudonyms, generalised or not at
 * all, or which cohorts with which minimum sizes, noise and budget. Plain language; the policy version hash
 * names exactly which rules are in force. Shared by /disclosure (JSON) and /disclosure.html.
 */
import { findColumn, findReport, type ColumnSpec, type Period } from '../catalogue/catalogue.js';
import type { PolicySet } from './load.js';
import { planCohorts, type CohortPlan } from '../cohort/report-users.js';
import { suppressesAlike } from '../cohort/release.js';
import { bandLabels } from '../sanitize/generalize.js';
import { budgetPlan } from './budget-plan.js';
import { jointCohortPlan, scoreGrantFor } from './decide.js';
import { discreteLaplaceMargin95 } from '../cohort/accuracy.js';
import { scoreNoiseScale } from '../score/org-scores.js';
import { SCORE_CATEGORIES } from '../score/categories.js';
import { exactStatement, noiseStatement } from './explain.js';
import type { ColumnAction, RowsRule } from './schema.js';
import { PATTERN_RETENTION_DAYS, RELEASE_RETENTION_DAYS } from '../store/store.js';

export interface RowsDisclosure {
  readonly report: string;
  readonly kind: 'rows';
  readonly inClear: string[];
  readonly pseudonymised: string[];
  readonly generalised: { readonly column: string; readonly to: string }[];
  readonly notReleased: string[];
  readonly rareCombinations?: { readonly columns: string[]; readonly k: number };
  readonly smallGroups?: string;
}

export interface CohortDisclosure {
  readonly report: string;
  readonly kind: 'cohorts';
  readonly groupedBy: string[];
  readonly k: number;
  readonly kC: number;
  readonly sums: { readonly column: string; readonly cappedAt: number }[];
  readonly noise?: {
    readonly epsilonPerRelease: number;
    readonly epsilonPerYear: number | null;
    /** 95% margins below the organisation: people (users, active users) and each sum, by column header. */
    readonly margins95: { readonly users: number; readonly activeUsers: number; readonly sums: Readonly<Record<string, number>> };
    /** The plain-language statement: accuracy, post-processing, cost. */
    readonly statement: string;
  };
  /** Without noise: the plain statement that the figures are exact, and what comparing two releases can reveal. */
  readonly exact?: string;
  /** Where the consumer reads these cohorts: the report's own URL and /cohorts. */
  readonly endpoints: string[];
  /**
   * Periods whose releases are suppressed within a larger organisation table, because other tools read the same
   * report, the org score counts people from its rows, or the report's cohorts are released for several periods
   * (policy/decide.ts jointCohortPlan): its dimensions, k, k_c, the score categories suppressed with it (their
   * titles) and the periods suppressed as one with it (all of them, itself included; empty: none). Absent when
   * nothing changes it.
   */
  readonly sharedTable?: { readonly periods: string[]; readonly groupedBy: string[]; readonly k: number; readonly kC: number; readonly withScore: string[]; readonly withPeriods: string[] }[];
}

export interface ConsumerDisclosure {
  readonly consumer: string;
  readonly policy: string;
  readonly description: string;
  readonly formats: string[];
  readonly periods: string[];
  readonly singleDates: boolean;
  readonly orgScore: boolean;
  /** The score's endpoints and the dimensions it can be cut by (empty without the score permission). */
  readonly scoreEndpoints: string[];
  /**
   * With the score and noisy cohorts: what one score release costs and the 95% margins of each category's
   * numerator and denominator below the organisation (the score's `numeratorMargin95`, `denominatorMargin95`).
   */
  readonly scoreNoise?: { readonly epsilonPerRelease: number; readonly numeratorMargin95: number; readonly denominatorMargin95: number };
  /**
   * With the score: the smallest group its categories show (k_org, never below k; the largest among the policies
   * granted the score, whose table this one is suppressed within) and k_c for one-sided counts.
   */
  readonly scoreMinimums?: { readonly kOrg: number; readonly kC: number };
  /** How often a fresh release is made: at each Microsoft refresh (daily) or once a week, served unchanged in between. */
  readonly freshReleases: 'daily' | 'weekly';
  /** This consumer's yearly share of the organisation's privacy budget (null: no noisy release, or none set). */
  readonly epsilonPerYear: number | null;
  /** Whether it may read the policy preview (counts and risk figures of every tool's releases). */
  readonly policyPreview: boolean;
  readonly reports: (RowsDisclosure | CohortDisclosure)[];
}

export interface Disclosure {
  readonly policyVersion: string;
  readonly consumers: ConsumerDisclosure[];
  /** The yearly privacy loss per person across all consumers (epsilon, basic composition; 0: all figures exact). */
  readonly organisationEpsilonPerYear: number;
  /** That yearly loss in plain words. */
  readonly organisationStatement: string;
  /** What no consumer ever gets, whatever a policy says. */
  readonly neverReleased: string[];
  /** How Microsoft's own behaviour shapes what tools see (naming changes, rows without a name). */
  readonly goodToKnow: string[];
  /** What the proxy itself records and holds, and for how long (what is and is not tracked). */
  readonly keptByProxy: string[];
}

export const NEVER_RELEASED = [
  'Any report or column that no policy names: everything is denied unless a rule releases it.',
  "Microsoft Graph's own access tokens and download links, and its error messages.",
  'A cohort with fewer people than its policy\'s minimum size (the same "suppressed" marker as an empty one).',
  'Per-person rows for a tool whose policy gives it cohorts only.',
  'Columns Microsoft adds to its reports in future, until a policy names them.',
];

export const GOOD_TO_KNOW = [
  "Pseudonyms are derived from user names as Microsoft writes them in its reports. When the organisation switches Microsoft's \"display concealed user, group, and site names\" setting, Microsoft writes every name in the other form from its next daily refresh, so every pseudonym changes: a tool's per-person history starts again from that day (switching back restores the earlier pseudonyms). The proxy logs and counts each such switch.",
  "Where Microsoft gives a row no usable name (it writes '(Unknown)' for several different people, or a temporary placeholder after a change), the row is released with an empty pseudonym, never with one shared by different people; in group figures each such row counts as one person outside the directory.",
];

/**
 * What the proxy itself records and holds (README "Audit log", "Snapshots", "Releases", the Store; deploy/OPERATIONS.md
 * "Backups"): the works council's question "what is tracked about me?", answered for the proxy, not only per tool.
 */
export const KEPT_BY_PROXY = [
  "An audit line per request: which tool asked for which report, period and format, when, under which policy version, the outcome, and counts (rows in, out and withheld, groups hidden, budget spent). Never a name, an e-mail address, a pseudonym or any figure about a person. The lines go to the proxy's standard output and are kept as long as the operators keep its logs.",
  "Microsoft's reports as fetched (per person, with names), and what each tool was served of them, only while current: encrypted (AES-256-GCM) in temporary files or the shared store, fetched again after the snapshot lifetime the operators set (one hour by default); and the directory's department, office and other attributes the groups use, per person, in memory only, to count people in groups.",
  `The group figures and adoption scores it released, so that a repeat request gets the same figures (kept ${RELEASE_RETENTION_DAYS} days); the organisation-wide adoption score of each day (the trend, shown for six months; no group below the organisation, no person) and the privacy budget each tool spent per year, kept until the operators delete them; and, per Microsoft refresh, which groups its releases hid and showed (as hashes, kept ${PATTERN_RETENTION_DAYS} days).`,
  "The history of the policy sets that went live (when, and what each change exposed or hid), kept until the operators delete it: it names policies and tools, never a person.",
];

function generalisedTo(action: Exclude<ColumnAction, 'keep' | 'drop' | 'pseudonymize'>): string {
  const g = action.generalize;
  if (typeof g === 'string') return `the ${g} only (the first day of it)`;
  return `bands: ${bandLabels(g.bands, ' or more').join(', ')}`;
}

function rowsDisclosure(reportName: string, rule: RowsRule, k: number): RowsDisclosure {
  const spec = findReport(reportName)!;
  const byColumn = new Map<ColumnSpec, ColumnAction>();
  for (const [name, action] of Object.entries(rule.rows)) {
    const column = findColumn(spec, name);
    if (column !== undefined) byColumn.set(column, action);
  }
  const inClear: string[] = [];
  const pseudonymised: string[] = [];
  const generalised: { column: string; to: string }[] = [];
  const notReleased: string[] = [];
  for (const column of spec.columns) {
    const action = byColumn.get(column);
    if (action === undefined || action === 'drop') notReleased.push(column.header);
    else if (action === 'keep') inClear.push(column.header);
    else if (action === 'pseudonymize') pseudonymised.push(column.header);
    else generalised.push({ column: column.header, to: generalisedTo(action) });
  }
  const quasi = rule.quasiIdentifiers.map((q) => findColumn(spec, q)?.header ?? q);
  return {
    report: spec.name, kind: 'rows', inClear, pseudonymised, generalised, notReleased,
    ...(quasi.length > 0 ? { rareCombinations: { columns: quasi, k } } : {}),
    ...(spec.peopleColumn !== undefined ? { smallGroups: `rows about fewer than ${k} people are withheld` } : {}),
    ...(spec.shape === 'counts' ? { smallGroups: `counts of 1 to ${k - 1} are left empty` } : {}),
  };
}

/** The organisation tables (by period) that suppress a plan otherwise than it would alone; periods grouped. */
function sharedTables(set: PolicySet, plan: CohortPlan, periods: readonly string[]): NonNullable<CohortDisclosure['sharedTable']> {
  const out: { periods: string[]; groupedBy: string[]; k: number; kC: number; withScore: string[]; withPeriods: string[] }[] = [];
  for (const period of periods) {
    const joint = jointCohortPlan(set, { report: plan.report, period: period as Period });
    if (suppressesAlike(plan, joint)) continue;
    const withScore = (joint!.companions ?? []).map((c) => SCORE_CATEGORIES.find((category) => category.id === c.name)?.title ?? c.name);
    const withPeriods = (joint!.periods ?? []).map((p) => p.period);
    const table = { groupedBy: joint!.dimensions.map((d) => d.name), k: joint!.k, kC: joint!.kC, withScore, withPeriods };
    const same = out.find((o) => o.k === table.k && o.kC === table.kC && o.groupedBy.join() === table.groupedBy.join() && o.withScore.join() === table.withScore.join() && o.withPeriods.join() === table.withPeriods.join());
    if (same !== undefined) same.periods.push(period);
    else out.push({ periods: [period], ...table });
  }
  return out;
}

export function disclosureOf(set: PolicySet): Disclosure {
  const consumers: ConsumerDisclosure[] = [];
  for (const loaded of set.policies) {
    const { policy } = loaded;
    const { k, kC } = policy;
    const reports: (RowsDisclosure | CohortDisclosure)[] = [];
    for (const [name, rule] of Object.entries(policy.reports).sort(([a], [b]) => a.localeCompare(b))) {
      if (rule === 'deny') continue;
      if ('rows' in rule) reports.push(rowsDisclosure(name, rule, k));
      else {
        const spec = findReport(name)!;
        const plan = planCohorts(spec, rule, k, kC);
        const { noise } = plan;
        const shared = sharedTables(set, plan, policy.periods);
        reports.push({
          report: spec.name, kind: 'cohorts', groupedBy: [...rule.cohort.by], k, kC,
          endpoints: [`/v1.0/reports/${spec.name}`, `/cohorts/${spec.name}`],
          ...(noise === undefined ? { exact: exactStatement(k, kC, policy.freshReleases) } : {}),
          ...(shared.length > 0 ? { sharedTable: shared } : {}),
          sums: Object.entries(rule.cohort.metrics ?? {}).map(([column, { clip }]) => ({ column: findColumn(spec, column)?.header ?? column, cappedAt: clip })),
          ...(noise !== undefined ? {
            noise: {
              epsilonPerRelease: noise.epsilon, epsilonPerYear: policy.privacyBudget?.epsilonPerYear ?? null,
              margins95: { users: noise.margins95.users, activeUsers: noise.margins95.active, sums: Object.fromEntries(Object.keys(rule.cohort.metrics ?? {}).map((column, i) => [findColumn(spec, column)?.header ?? column, noise.margins95.sums[i]!])) },
              statement: noiseStatement(spec, rule, policy)!,
            },
          } : {}),
        });
      }
    }
    const grant = policy.permissions.includes('score') ? scoreGrantFor(loaded, set) : undefined;
    const scoreMargin = grant?.noise === undefined ? undefined : discreteLaplaceMargin95(scoreNoiseScale(grant.dimensions.length, grant.noise.epsilon));
    for (const consumer of policy.consumers) {
      consumers.push({
        consumer, policy: policy.name, description: policy.description.trim(),
        formats: [...policy.formats], periods: [...policy.periods],
        singleDates: policy.dates, orgScore: policy.permissions.includes('score'),
        scoreEndpoints: policy.permissions.includes('score') ? ['/org-score', ...scoreDimensions(policy.reports).map((d) => `/org-score?by=${d}`), '/ (the dashboard)'] : [],
        ...(grant !== undefined ? { scoreMinimums: { kOrg: grant.joint?.kOrg ?? grant.kOrg, kC: grant.joint?.kC ?? grant.kC } } : {}),
        ...(grant?.noise !== undefined && scoreMargin !== undefined ? { scoreNoise: { epsilonPerRelease: grant.noise.epsilon, numeratorMargin95: scoreMargin, denominatorMargin95: scoreMargin } } : {}),
        freshReleases: policy.freshReleases, epsilonPerYear: reports.some((r) => r.kind === 'cohorts' && r.noise !== undefined) ? (policy.privacyBudget?.epsilonPerYear ?? null) : null,
        policyPreview: policy.permissions.includes('preview'), reports,
      });
    }
  }
  consumers.sort((a, b) => a.consumer.localeCompare(b.consumer));
  const organisation = budgetPlan(set.policies.map((p) => p.policy)).organisation;
  const organisationStatement =
    organisation === 0
      ? 'No tool gets noisy figures: every group figure released is exact, protected by hiding small groups only.'
      : `Across all tools, what is released about a person in a year adds up to a privacy loss of epsilon ${organisation} (each release counted once, whichever tools read it).${organisation > 10 ? ' That is well above 10, where the noise still blurs the figures but is no longer a meaningful mathematical guarantee on its own; the group-size rules above are what protect people.' : ''}`;
  return { policyVersion: set.version, consumers, organisationEpsilonPerYear: organisation, organisationStatement, neverReleased: NEVER_RELEASED, goodToKnow: GOOD_TO_KNOW, keptByProxy: KEPT_BY_PROXY };
}

/** The directory dimensions a policy's cohorts declare (the score's `by`). */
function scoreDimensions(reports: PolicySet['policies'][number]['policy']['reports']): string[] {
  return [...new Set(Object.values(reports).flatMap((r) => (typeof r === 'object' && 'cohort' in r ? r.cohort.by.filter((d) => d !== 'organization') : [])))].sort();
}
