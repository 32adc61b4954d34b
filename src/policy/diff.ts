/**
 * What changes between two policy sets, per consumer and report, classified by exposure: what a consumer
 * newly sees (a report, a column or a finer treatment of it, a lower k, a dimension, a period, single dates,
 * less noise, more budget, a permission), what it no longer sees, and changes that move neither way. `policy
 * diff`, the reload log line and the policy history all use this one summary, exposure increases first.
 */
import { cohortNoise } from '../cohort/accuracy.js';
import { ORGANIZATION } from '../cohort/aggregate.js';
import { findColumn, findReport, type ReportSpec } from '../catalogue/catalogue.js';
import { resolvePolicy, type CohortRule, type ColumnAction, type ResolvedPolicy, type RowsRule } from './schema.js';

/**
 * What a diff reads of a policy set: load.ts's `PolicySet` has this shape. Named here rather than imported,
 * because the loader diffs every reload and so imports this module (no cycle, not even for a type).
 */
export interface ComparedPolicySet {
  readonly policies: readonly { readonly policy: ResolvedPolicy }[];
  policyFor(consumerId: string): { readonly policy: ResolvedPolicy } | undefined;
}

/** 'more': the consumer can see or infer more than before; 'less': less; 'changed': neither (wording, keys). */
export type ExposureDirection = 'more' | 'less' | 'changed';

export interface PolicyChange {
  readonly direction: ExposureDirection;
  readonly consumer: string;
  /** The report's catalogue name, absent for consumer-wide settings. */
  readonly report?: string;
  readonly text: string;
}

const MARK: Record<ExposureDirection, string> = { more: '+', less: '-', changed: '~' };
const ORDER: Record<ExposureDirection, number> = { more: 0, less: 1, changed: 2 };

/** How much of a column a treatment shows, to order treatments (bands: finer is more). */
function exposureOf(action: ColumnAction | undefined): number {
  if (action === undefined || action === 'drop') return 0;
  if (action === 'pseudonymize') return 1;
  if (action === 'keep') return 100;
  const g = action.generalize;
  if (g === 'month') return 2;
  if (g === 'week') return 3;
  return 2 + g.bands.length / 100; // more band boundaries tell values apart more finely
}

function describeAction(action: ColumnAction | undefined): string {
  if (action === undefined || action === 'drop') return 'not released';
  if (action === 'keep') return 'in clear';
  if (action === 'pseudonymize') return 'as a pseudonym';
  const g = action.generalize;
  return typeof g === 'string' ? `generalised to the ${g}` : `in bands ${g.bands.join('/')}`;
}

/** A rule's columns keyed by catalogue header (so 'sendCount' and 'Send Count' are one column). */
function columnsOf(spec: ReportSpec, rule: RowsRule): Map<string, ColumnAction> {
  const out = new Map<string, ColumnAction>();
  for (const [name, action] of Object.entries(rule.rows)) out.set(findColumn(spec, name)?.header ?? name, action);
  return out;
}

function headersOf(spec: ReportSpec, names: readonly string[]): Set<string> {
  return new Set(names.map((n) => findColumn(spec, n)?.header ?? n));
}

/** The side of a consumer that no policy governs: nothing released. */
const NO_POLICY = resolvePolicy({ name: '', description: '', consumers: [], reports: {} });

/** A policy's rules keyed by the report's catalogue name ('deny' and unnamed reports are absent alike). */
function rulesOf(policy: ResolvedPolicy): Map<string, RowsRule | CohortRule> {
  const out = new Map<string, RowsRule | CohortRule>();
  for (const [name, rule] of Object.entries(policy.reports)) {
    if (rule === 'deny') continue;
    out.set(findReport(name)?.name ?? name, rule);
  }
  return out;
}

const added = <T>(before: Iterable<T>, after: Iterable<T>) => [...after].filter((x) => ![...before].includes(x));

/** The changes from `before` to `after` for every consumer either set names, exposure increases first. */
export function diffPolicySets(before: ComparedPolicySet, after: ComparedPolicySet): PolicyChange[] {
  const changes: PolicyChange[] = [];
  const consumers = [...new Set([...before.policies, ...after.policies].flatMap((p) => p.policy.consumers))].sort();
  for (const consumer of consumers) {
    const push = (direction: ExposureDirection, text: string, report?: string) => changes.push({ direction, consumer, ...(report !== undefined ? { report } : {}), text });
    const old = before.policyFor(consumer)?.policy;
    const now = after.policyFor(consumer)?.policy;
    // A permission (the org score, the policy preview) releases figures as a report does.
    const grants = (policy: ResolvedPolicy) => rulesOf(policy).size > 0 || policy.permissions.length > 0;
    const permissions = (policy: ResolvedPolicy) => (policy.permissions.length > 0 ? `, permissions ${policy.permissions.map((p) => `'${p}'`).join(', ')}` : '');
    if (old === undefined && now !== undefined) {
      const count = rulesOf(now).size;
      push(grants(now) ? 'more' : 'changed', `now governed by policy '${now.name}' (${count} report${count === 1 ? '' : 's'} released${permissions(now)}; before: no policy, everything denied)`);
    } else if (old !== undefined && now === undefined) {
      push(grants(old) ? 'less' : 'changed', `no longer governed by any policy (was '${old.name}'${permissions(old)}): everything is denied`);
    }
    const o = old ?? NO_POLICY;
    const n = now ?? NO_POLICY;
    if (old !== undefined && now !== undefined) {
      if (old.name !== now.name) push('changed', `policy renamed '${old.name}' -> '${now.name}'`);
      if (old.description !== now.description) push('changed', 'description changed (the disclosure page says it)');
      for (const setting of ['k', 'kC', 'kOrg'] as const) {
        const a = old[setting];
        const b = now[setting];
        if (a !== b) push(b < a ? 'more' : 'less', `${setting} ${a} -> ${b}${b < a ? ' (smaller groups and rarer rows released)' : ''}`);
      }
      for (const f of added(old.formats, now.formats)) push('more', `format ${f} newly allowed`);
      for (const f of added(now.formats, old.formats)) push('less', `format ${f} no longer allowed`);
      for (const p of added(old.periods, now.periods)) push('more', `period ${p} newly allowed`);
      for (const p of added(now.periods, old.periods)) push('less', `period ${p} no longer allowed`);
      if (old.dates !== now.dates) push(now.dates ? 'more' : 'less', now.dates ? 'single-date requests newly allowed' : 'single-date requests no longer allowed');
      for (const p of added(old.permissions, now.permissions)) push('more', `permission '${p}' newly granted`);
      for (const p of added(now.permissions, old.permissions)) push('less', `permission '${p}' withdrawn`);
      const budget = (p: ResolvedPolicy) => p.privacyBudget?.epsilonPerYear ?? 0;
      if (budget(old) !== budget(now)) push(budget(now) > budget(old) ? 'more' : 'less', `privacy budget ${budget(old) || 'none'} -> ${budget(now) || 'none'} epsilon per year`);
      const keyOf = (p: ResolvedPolicy) => (p.pseudonyms === undefined ? 'none' : `${p.pseudonyms.keyId} epoch ${p.pseudonyms.epoch}`);
      if (keyOf(old) !== keyOf(now)) push('changed', `pseudonym key ${keyOf(old)} -> ${keyOf(now)} (pseudonyms under the new key cannot be linked to the old ones)`);
    }
    const oldRules = rulesOf(o);
    const newRules = rulesOf(n);
    for (const report of [...new Set([...oldRules.keys(), ...newRules.keys()])].sort()) {
      const a = oldRules.get(report);
      const b = newRules.get(report);
      const spec = findReport(report);
      if (a === undefined && b !== undefined) {
        push('more', `newly released: ${'rows' in b ? `rows (${[...(spec !== undefined ? columnsOf(spec, b) : new Map<string, ColumnAction>())].filter(([, x]) => x !== 'drop').map(([c, x]) => `${c} ${describeAction(x)}`).join(', ')})` : `cohorts by ${b.cohort.by.join(', ')}`}`, report);
        continue;
      }
      if (a !== undefined && b === undefined) {
        if (now !== undefined) push('less', 'no longer released', report);
        continue;
      }
      if (a === undefined || b === undefined || spec === undefined) continue;
      if ('rows' in a && 'cohort' in b) {
        push('less', `rows replaced by cohorts by ${b.cohort.by.join(', ')}`, report);
        continue;
      }
      if ('cohort' in a && 'rows' in b) {
        push('more', 'cohorts replaced by per-person rows', report);
        continue;
      }
      if ('rows' in a && 'rows' in b) diffRows(spec, a, b, (d, text) => push(d, text, report));
      if ('cohort' in a && 'cohort' in b) diffCohorts(a, b, (d, text) => push(d, text, report));
    }
  }
  return changes.sort((x, y) => ORDER[x.direction] - ORDER[y.direction]);
}

function diffRows(spec: ReportSpec, a: RowsRule, b: RowsRule, push: (d: ExposureDirection, text: string) => void): void {
  const before = columnsOf(spec, a);
  const after = columnsOf(spec, b);
  for (const column of spec.columns.map((c) => c.header)) {
    const x = before.get(column);
    const y = after.get(column);
    const ex = exposureOf(x);
    const ey = exposureOf(y);
    if (ex === ey && JSON.stringify(x ?? 'drop') === JSON.stringify(y ?? 'drop')) continue;
    if (ex === 0 && ey === 0) continue;
    push(ey > ex ? 'more' : ey < ex ? 'less' : 'changed', `'${column}' ${describeAction(y)} (was ${describeAction(x)})`);
  }
  const qa = headersOf(spec, a.quasiIdentifiers);
  const qb = headersOf(spec, b.quasiIdentifiers);
  const released = (columns: Map<string, ColumnAction>, q: string) => exposureOf(columns.get(q)) > 0;
  // A quasi-identifier matters only while its column is released in both sets; otherwise the column line says it.
  for (const q of added(qb, qa).filter((q) => released(after, q))) push('more', `'${q}' no longer a quasi-identifier (rarer combinations released)`);
  for (const q of added(qa, qb).filter((q) => released(before, q))) push('less', `'${q}' now a quasi-identifier (rows with rare combinations withheld)`);
  const na = Object.keys(a.notIdentifying ?? {});
  const nb = Object.keys(b.notIdentifying ?? {});
  for (const c of added(na, nb)) push('changed', `'${c}' declared not identifying: "${b.notIdentifying![c]}"`);
  if ((a.allowClearIdentifiers === undefined) !== (b.allowClearIdentifiers === undefined)) {
    push(b.allowClearIdentifiers !== undefined ? 'more' : 'less', b.allowClearIdentifiers !== undefined ? `identifiers may be passed in clear: "${b.allowClearIdentifiers.reason}"` : 'identifiers may no longer be passed in clear');
  }
}

function diffCohorts(a: CohortRule, b: CohortRule, push: (d: ExposureDirection, text: string) => void): void {
  for (const d of added(a.cohort.by, b.cohort.by)) push('more', `newly grouped by ${d}`);
  for (const d of added(b.cohort.by, a.cohort.by)) push('less', `no longer grouped by ${d}`);
  const ma = a.cohort.metrics ?? {};
  const mb = b.cohort.metrics ?? {};
  for (const m of added(Object.keys(ma), Object.keys(mb))) push('more', `sum of '${m}' newly released (clip ${mb[m]!.clip})`);
  for (const m of added(Object.keys(mb), Object.keys(ma))) push('less', `sum of '${m}' no longer released`);
  for (const m of Object.keys(ma).filter((m) => mb[m] !== undefined && mb[m].clip !== ma[m]!.clip)) {
    push(mb[m]!.clip > ma[m]!.clip ? 'more' : 'less', `'${m}' clipped at ${mb[m]!.clip} (was ${ma[m]!.clip}: one person moves a sum by at most that)`);
  }
  const na = noiseSetting(a);
  const nb = noiseSetting(b);
  if (na !== nb) {
    if (nb === undefined) push('more', `noise removed (was ${na}): figures below the organisation are exact`);
    else if (na === undefined) push('less', `noise added (${nb})`);
    else {
      const [ea, eb] = [releaseEpsilon(a), releaseEpsilon(b)];
      push(eb > ea ? 'more' : 'less', `noise ${na} -> ${nb} (${eb > ea ? 'less' : 'more'} noise: epsilon per release ${round3(ea)} -> ${round3(eb)}${sameShape(a, b) ? '' : `, with ${b.cohort.by.filter((d) => d !== ORGANIZATION).join(', ')}`})`);
    }
  }
}

/** A rule's noise as the policy states it: `epsilon 1` or `margin ±5`. */
const noiseSetting = (rule: CohortRule): string | undefined => {
  const noise = rule.cohort.noise;
  return noise === undefined ? undefined : noise.epsilon !== undefined ? `epsilon ${noise.epsilon}` : `margin ±${noise.margin95}`;
};

/** What one release under the rule costs, however its noise is stated (accuracy.ts). */
const releaseEpsilon = (rule: CohortRule): number =>
  cohortNoise(rule.cohort.noise!, rule.cohort.by.filter((d) => d !== ORGANIZATION).length, Object.values(rule.cohort.metrics ?? {}).map((m) => m.clip)).epsilon;

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** Whether two rules split their epsilon alike (the same dimensions and sums), so the noise setting alone moved it. */
const sameShape = (a: CohortRule, b: CohortRule): boolean =>
  JSON.stringify([a.cohort.by, a.cohort.metrics ?? {}]) === JSON.stringify([b.cohort.by, b.cohort.metrics ?? {}]);

/** One line per change, e.g. `+ licence-tool getOffice365ActiveUserDetail: 'Display Name' in clear (was not released)`. */
export function formatChange(c: PolicyChange): string {
  return `${MARK[c.direction]} ${c.consumer}${c.report !== undefined ? ` ${c.report}` : ''}: ${c.text}`;
}

/** Counts and lines of a diff, for log lines and the history. */
export interface DiffSummary {
  readonly more: number;
  readonly less: number;
  readonly changed: number;
  readonly lines: string[];
}

/** `changes` may join several diffs (a consumer's own, the set's): lines are ordered by direction again, exposure increases first (a stable sort). */
export function diffSummary(changes: readonly PolicyChange[]): DiffSummary {
  const ordered = [...changes].sort((x, y) => ORDER[x.direction] - ORDER[y.direction]);
  return {
    more: changes.filter((c) => c.direction === 'more').length,
    less: changes.filter((c) => c.direction === 'less').length,
    changed: changes.filter((c) => c.direction === 'changed').length,
    lines: ordered.map(formatChange),
  };
}
