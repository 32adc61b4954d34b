/**
 * Plain-language explanation of what one policy does to one report: per column, what a consumer receives and
 * why, and which k applies. Shared by `policy explain` and, later, the disclosure page.
 */
import { planCohorts, type CohortPlan } from '../cohort/report-users.js';
import { findColumn, findReport, type ColumnSpec, type ReportSpec } from '../catalogue/catalogue.js';
import { bandLabels } from '../sanitize/generalize.js';
import type { CohortRule, ColumnAction, ResolvedPolicy } from './schema.js';
import type { ReleaseCadence } from '../cohort/release.js';


/** The 95% margins of a noisy cohort plan, per measure: `users ±5, active users ±5, Call Count sum ±9, ...`. */
export function noiseMargins(plan: CohortPlan): string {
  const noise = plan.noise!;
  return [`users ±${noise.margins95.users}`, `active users ±${noise.margins95.active}`, ...plan.metrics.map((m, i) => `${m.column.header} sum ±${noise.margins95.sums[i]}`)].join(', ');
}

/** How noisy figures are post-processed, in one sentence (the same words in explain, the disclosure and the README). */
export const NOISE_POST_PROCESSING = 'every noisy figure is released with its 95% margin; a noisy figure below 0 is released as 0, and a mean is the noisy sum over the noisy people, within 0 and the cap';

/**
 * The plain-language statement of a cohort rule's noise: how accurate the figures are, how they are
 * post-processed and what one release costs. Undefined without noise. Shared by explain and the disclosure.
 */
export function noiseStatement(spec: ReportSpec, rule: CohortRule, policy: ResolvedPolicy): string | undefined {
  if (rule.cohort.noise === undefined) return undefined;
  const plan = planCohorts(spec, rule, policy.k, policy.kC);
  const noise = plan.noise!;
  const stated = rule.cohort.noise.margin95 !== undefined ? ` (from the stated margin of ±${rule.cohort.noise.margin95} people)` : '';
  const budget = policy.privacyBudget?.epsilonPerYear;
  const cadence = policy.freshReleases === 'weekly' ? 'once a week' : "at each of Microsoft's daily refreshes";
  return `figures for groups below the whole organisation carry random noise, the same on every call for the same release (made ${cadence} and served unchanged in between); 95% of the time each is within its margin of the true figure: ${noiseMargins(plan)}; ${NOISE_POST_PROCESSING}; the organisation total is exact. One fresh release costs epsilon ${round3(noise.epsilon)}${stated} once for the organisation, whichever tools read it${budget !== undefined ? `; each consumer's share of the organisation's privacy loss (the releases it reads) is at most ${budget} per year` : ''}.`;
}

/**
 * What a suppression-only cohort release is, in plain words (issue 15 item 6: an honest option, said honestly; shared by explain and the disclosure):
 * exact figures, the group sizes that hide a group (`k`, `kC`), how often a fresh release is made and what
 * comparing two releases can reveal.
 */
export function exactStatement(k: number, kC: number, cadence: ReleaseCadence): string {
  const period = cadence === 'weekly' ? 'week' : 'day';
  return `figures are exact (no noise): groups are protected only by hiding them. A group of fewer than ${k} people is hidden, and so is a group with 1 to ${kC - 1} inactive people or fewer than ${kC} active ones (so nobody's inactivity can be read off; a group where everyone was active is shown), and any group from which a hidden one could be worked out. A fresh release is made ${cadence === 'weekly' ? 'once a week' : "at each of Microsoft's daily refreshes"} and served unchanged until the next, whatever changes meanwhile. Comparing two releases shows how a group changed from one ${period} to another: when someone joins, leaves or moves, the group's figures change by that person's activity, mixed with everyone else's change in the same ${period}, so the difference can reveal something about what the people who changed did. Nothing finer than one release per ${period} is shown`;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

function describeAction(action: ColumnAction | undefined, policy: ResolvedPolicy): string {
  if (action === undefined) return 'dropped: the policy does not name it (columns are dropped unless a rule passes them)';
  if (action === 'drop') return 'dropped: the policy says drop';
  if (action === 'keep') return 'passed unchanged';
  if (action === 'pseudonymize') {
    const key = policy.pseudonyms;
    return `replaced by a keyed pseudonym${key !== undefined ? ` (key '${key.keyId}', epoch ${key.epoch})` : ''}: stable for this consumer, different for every other consumer and key epoch, not reversible by the consumer`;
  }
  const g = action.generalize;
  if (typeof g === 'string') return `generalised to the ${g} (a date becomes the first day of its ${g})`;
  return `put into bands: ${bandLabels(g.bands, ' or more').join(', ')}`;
}

/** Lines explaining `policy` for `reportName`; throws for a report the catalogue does not know. */
export function explainReport(policy: ResolvedPolicy, reportName: string): string[] {
  const spec = findReport(reportName);
  if (spec === undefined) throw new Error(`unknown report '${reportName}'`);
  const { k, kC } = policy;
  const name = Object.keys(policy.reports).find((r) => findReport(r) === spec);
  const rule = name === undefined ? undefined : policy.reports[name];
  const lines = [`Policy '${policy.name}' for consumers ${policy.consumers.join(', ')}, report ${spec.name}:`];
  if (rule === undefined || rule === 'deny') {
    lines.push(rule === undefined ? '  denied: the policy does not name this report, and unnamed reports are denied' : '  denied: the policy denies this report explicitly');
    return lines;
  }
  lines.push(`  allowed as ${policy.formats.join(' and ')}, for periods ${policy.periods.join(', ')}${policy.dates ? ' and single dates' : ''}`);
  if ('rows' in rule) {
    const byColumn = new Map<ColumnSpec, ColumnAction>();
    for (const [column, action] of Object.entries(rule.rows)) {
      const col = findColumn(spec, column);
      if (col !== undefined) byColumn.set(col, action);
    }
    const quasi = rule.quasiIdentifiers.map((q) => findColumn(spec, q)).filter((c): c is ColumnSpec => c !== undefined);
    lines.push('  one row per person; per column:');
    for (const column of spec.columns) {
      const note = quasi.includes(column) ? ` [quasi-identifier: each combination must occur at least ${k} times]` : '';
      lines.push(`    ${column.header} (${column.role}): ${describeAction(byColumn.get(column), policy)}${note}`);
    }
    if (quasi.length > 0) {
      lines.push(`  k = ${k}: rows whose combination of ${quasi.map((c) => c.header).join(', ')} occurs fewer than ${k} times are withheld (suppressed)`);
    }
    lines.push('  columns Graph adds in future are dropped (and counted in the audit log)');
  } else {
    const { by, metrics = {} } = rule.cohort;
    lines.push(`  no rows: people are counted in groups by ${by.join('; ')}`);
    lines.push(`  k = ${k}: a group of 1 to ${k - 1} people is shown as suppressed, exactly like an empty group; k_c = ${kC}: a group with fewer than ${kC} active people, or with 1 to ${kC - 1} inactive people, is suppressed too (a group where everyone was active is shown: that singles nobody out)`);
    for (const [column, { clip }] of Object.entries(metrics)) {
      lines.push(`    ${findColumn(spec, column)?.header ?? column}: summed per group, each person's value capped at ${clip}`);
    }
    const noise = noiseStatement(spec, rule, policy);
    lines.push(noise !== undefined ? `  noise: ${noise}` : `  exact: ${exactStatement(k, kC, policy.freshReleases)}.`);
    lines.push('  every other column is not released');
  }
  return lines;
}
