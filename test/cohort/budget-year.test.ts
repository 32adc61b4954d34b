/**
 * A budget that lasts by design (issue 15, item 6): a simulated year (an injected clock, one Graph refresh a
 * day) of a consumer polling, every day, everything the vendor policy lets it read (every cohort report
 * and period, and the score), through the services the proxy serves with. Nothing is refused and nothing goes
 * stale; the consumer's share stays within its yearly budget. With a budget too small, the consumer is served
 * its last release, marked stale, never a fresh one. The shipped vendor policy is exact (spends nothing); its
 * noisy example (policies/examples/) is the one whose budget is tested.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { findReport, type Period, type ReportSpec } from '../../src/catalogue/catalogue.js';
import type { ReportCall } from '../../src/catalogue/odata.js';
import { CohortReleases } from '../../src/cohort/cohort-releases.js';
import { Directory } from '../../src/cohort/directory.js';
import type { DirectoryLookup, LeasedSnapshot, SnapshotSource } from '../../src/cohort/sources.js';
import { budgetPlan } from '../../src/policy/budget-plan.js';
import { cohortGrantFor, decideReport, scoreGrantFor } from '../../src/policy/decide.js';
import { loadPolicySet, type LoadedPolicy } from '../../src/policy/load.js';
import type { ResolvedPolicy } from '../../src/policy/schema.js';
import { SampleReports } from '../../src/policy/sample-reports.js';
import { OrgScores } from '../../src/score/org-scores.js';
import { BudgetLedger } from '../../src/store/budget-ledger.js';
import { noisyVendorPolicies } from '../helpers/vendor-policy.js';

const CONSUMER = 'adoption-dashboard';
const SCORE_PERIODS: readonly Period[] = ['D7', 'D30', 'D90', 'D180'];

/** Graph's reports as refreshed on the clock's day: the sample tenant's rows, dated that day. */
class DailySnapshots implements SnapshotSource {
  readonly stats = { hits: 0 };
  day = '';
  private readonly held = new Map<string, LeasedSnapshot>();
  constructor(private readonly sample: SampleReports) {}
  async lease(call: ReportCall): Promise<LeasedSnapshot> {
    const key = `${call.report.name} ${call.period} ${this.day}`;
    let snapshot = this.held.get(key);
    if (snapshot === undefined) {
      // One snapshot per report, period and day, as the proxy's cache holds it (yesterday's are dropped).
      for (const old of [...this.held.keys()].filter((k) => !k.endsWith(this.day))) this.held.delete(old);
      const bytes = Buffer.from(this.sample.csv(call.report, call.period!).toString('utf8').replaceAll(this.sample.tenant.refreshDate, this.day), 'utf8');
      snapshot = { csv: async function* () { yield bytes; }, release() {} };
      this.held.set(key, snapshot);
    }
    return snapshot;
  }
}

/** The vendor dashboard's policy: the shipped one (exact) or its noisy example (policies/examples/). */
async function vendorPolicy(variant: 'shipped' | 'noisy'): Promise<LoadedPolicy> {
  const loaded = await loadPolicySet(variant === 'shipped' ? 'policies' : await noisyVendorPolicies());
  if (!loaded.ok) throw new Error(`the ${variant} vendor policies do not load`);
  return loaded.set.policyFor(CONSUMER)!;
}

/** Every (report, period) the policy releases as cohorts. */
function cohortCalls(loaded: LoadedPolicy): { call: ReportCall; report: ReportSpec }[] {
  return Object.keys(loaded.policy.reports).flatMap((name) => {
    const report = findReport(name)!;
    return report.periods.filter((p) => (loaded.policy.periods as readonly string[]).includes(p)).flatMap((period) => {
      const call: ReportCall = { version: 'v1.0', report, period };
      return decideReport(loaded, { report, format: 'json', period }).kind === 'cohort' ? [{ call, report }] : [];
    });
  });
}

async function pollYear(loaded: LoadedPolicy, days: number, onDay?: (day: string, stale: boolean[]) => void) {
  const sample = new SampleReports({ users: 120 });
  const snapshots = new DailySnapshots(sample);
  const entries = sample.directory();
  const directory: DirectoryLookup = { current: async () => new Directory(entries) };
  const ledger = await BudgetLedger.open(join(await mkdtemp(join(tmpdir(), 'gpp-year-')), 'ledger.jsonl'));
  let now = new Date('2027-01-01T08:00:00Z');
  const noise = { key: randomBytes(32), ledger, now: () => now };
  const cohorts = new CohortReleases(snapshots, directory, noise);
  const scores = new OrgScores({ snapshots, directory, noise });
  const calls = cohortCalls(loaded);
  const scoreGrant = scoreGrantFor(loaded, { policies: [loaded] });
  const periods = SCORE_PERIODS.filter((p) => (loaded.policy.periods as readonly string[]).includes(p));
  let fresh = 0;
  for (let day = 0; day < days; day++) {
    now = new Date(Date.UTC(2027, 0, 1 + day, 8));
    snapshots.day = now.toISOString().slice(0, 10);
    const stale: boolean[] = [];
    for (const { call, report } of calls) {
      const decision = decideReport(loaded, { report, format: 'json', period: call.period! });
      if (decision.kind !== 'cohort') throw new Error('not a cohort decision');
      const release = await cohorts.release(call, cohortGrantFor(decision, call, { policies: [loaded] }), 'v1', CONSUMER);
      stale.push(release.stale);
      if (release.budget?.charged === true) fresh++;
    }
    if (loaded.policy.permissions.includes('score')) {
      for (const period of periods) {
        const release = await scores.compute({ period }, scoreGrant, CONSUMER);
        stale.push(release.stale);
        if (release.budget?.charged === true) fresh++;
      }
    }
    onDay?.(snapshots.day, stale);
  }
  const spent = await ledger.spent(CONSUMER, 2027);
  const organisation = await ledger.organisationSpent(2027);
  await ledger.close();
  return { spent, organisation, fresh, slots: calls.length + (loaded.policy.permissions.includes('score') ? periods.length : 0) };
}

t.test("the shipped vendor policy is exact: polling everything it allows every day spends no epsilon and is never stale", async (t) => {
  const loaded = await vendorPolicy('shipped');
  let staleDays = 0;
  const fortnight = await pollYear(loaded, 14, (_day, stale) => {
    if (stale.some(Boolean)) staleDays++;
  });
  t.ok(fortnight.slots >= 4, `${fortnight.slots} release slots polled`);
  t.same([fortnight.spent, fortnight.organisation, fortnight.fresh, staleDays], [0, 0, 0, 0], 'nothing charged, no noisy release, nothing stale');
  t.equal(budgetPlan([loaded.policy]).organisation, 0, 'and policy check says the yearly loss is 0');
});

t.test("a simulated year of daily polling of everything the noisy vendor example allows stays within its budget; nothing is refused or stale", async (t) => {
  const loaded = await vendorPolicy('noisy');
  let staleDays = 0;
  const year = await pollYear(loaded, 365, (_day, stale) => {
    if (stale.some(Boolean)) staleDays++;
  });
  const budget = loaded.policy.privacyBudget?.epsilonPerYear ?? 0;
  t.equal(staleDays, 0, 'no day served a stale release');
  t.ok(year.spent <= budget, `the consumer's share, epsilon ${year.spent}, is within its budget of ${budget}`);
  t.equal(year.organisation, year.spent, 'one consumer: its share is the organisation total');
  const plan = budgetPlan([loaded.policy]);
  t.ok(year.spent <= plan.policies[0]!.needed, `policy check's yearly figure (epsilon ${plan.policies[0]!.needed}) bounds what the year spent`);
  t.comment(`${year.slots} release slots, ${year.fresh} fresh releases in the year, epsilon ${year.spent} of ${budget}`);
});

t.test('G6/G7: with a budget that cannot last, the consumer is served its last release marked stale, never a fresh one', async (t) => {
  const loaded = await vendorPolicy('noisy');
  const policy: ResolvedPolicy = { ...loaded.policy, freshReleases: 'daily', privacyBudget: { epsilonPerYear: 40 } };
  const tight: LoadedPolicy = { ...loaded, policy };
  const staleOn: string[] = [];
  const year = await pollYear(tight, 6, (day, stale) => {
    if (stale.some(Boolean)) staleOn.push(day);
  });
  t.ok(year.spent <= 40, `never past the budget (spent ${year.spent})`);
  t.ok(staleOn.length > 0, `served stale once spent (from ${staleOn[0]})`);
});
