/**
 * Benchmark (issue 15): how usable the vendor dashboard's cohort figures are, against the simulator's truth, for
 * the shipped (exact, suppression-only) vendor policy and its noisy example (policies/examples/). On the demo
 * tenant (250 users, seed 1), for every report and period the policy releases as cohorts, the release is
 * computed by the proxy's own engine (aggregate, suppress, noise, render), under many noise keys when the policy
 * is noisy (each key is another equally likely release; one suffices for exact figures), and compared with the
 * truth recomputed here from the report's rows and the directory (Microsoft's activity columns; sums raw and
 * capped at the policy's clip). Printed per policy, report and period:
 *  - whether the organisation total is released, exactly;
 *  - per sub-organisation dimension, the share of cells suppressed, and whether the released cells add up to
 *    within 10% of the organisation total when none is suppressed, or else never exceed it by more than their
 *    stated 95% margins (share of releases);
 *  - the median relative error of released department users and active users (target <= 10%) and of sums
 *    (target <= 25%: against the raw sums, clipping included; against the capped sums, the noise alone, in
 *    brackets), and, with noise, how often a released figure is within its stated margin (about 95% expected).
 * Then one line per policy side by side.
 * Run: node --import tsx bench/accuracy.ts [policies dir ...] [noise keys]   (default: policies policies/examples 200)
 */
import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { Directory, NOT_IN_DIRECTORY } from '../src/cohort/directory.js';
import type { NoiseContext } from '../src/cohort/noise.js';
import { cohortRows, type CohortRow } from '../src/cohort/render.js';
import { activityColumns, aggregateCsvReport, planCohorts } from '../src/cohort/report-users.js';
import { organisationVerdict, protectCohortTable } from '../src/cohort/release.js';
import { jointCohortPlan } from '../src/policy/decide.js';
import { findReport, type Period } from '../src/catalogue/catalogue.js';
import { loadPolicySet } from '../src/policy/load.js';
import { SampleReports } from '../src/policy/sample-reports.js';

const args = process.argv.slice(2);
const numeric = args.filter((a) => /^\d+$/.test(a));
const dirs = args.filter((a) => !/^\d+$/.test(a));
const keys = Number(numeric[0] ?? 200);
const CONSUMER = 'adoption-dashboard';
const sample = new SampleReports({ users: 250, seed: 1 });
const directoryEntries = sample.directory();
const directory = new Directory(directoryEntries);
const departmentOf = new Map(directoryEntries.map((e) => [String(e.userPrincipalName).toLowerCase(), String(e.department ?? '(none)')]));
const officeOf = new Map(directoryEntries.map((e) => [String(e.userPrincipalName).toLowerCase(), String(e.officeLocation ?? '(none)')]));

interface Truth { users: number; active: number; raw: number[]; clipped: number[] }
const median = (xs: readonly number[]) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const pct = (x: number) => (Number.isNaN(x) ? '   n/a' : `${(100 * x).toFixed(1).padStart(5)}%`);

interface Summary { policy: string; dir: string; noisy: boolean; orgExact: number; orgTotal: number; sums: number[]; clippedSums: number[]; counts: number[]; addUpOk: number; addUpTotal: number; within: number; figures: number; cells: number; suppressed: number }

/** Measures the vendor policy in `dir` and prints its figures; returns its summary. */
async function measure(dir: string): Promise<Summary> {
  const loaded = await loadPolicySet(dir);
  if (!loaded.ok) throw new Error(`the policies in ${dir} do not load: ${loaded.problems.map((p) => p.message).join('; ')}`);
  const { policy } = loaded.set.policyFor(CONSUMER)!;
  const noisy = Object.values(policy.reports).some((r) => typeof r === 'object' && 'cohort' in r && r.cohort.noise !== undefined);
  const draws = noisy ? keys : 1;
  console.log(`Vendor policy '${policy.name}' (${dir}, ${noisy ? `noisy; ${draws} noise keys per release` : 'exact: suppression only'}) on the demo tenant: ${sample.tenant.size} users, seed 1\n`);
  const summary: Summary = { policy: policy.name, dir, noisy, orgExact: 0, orgTotal: 0, sums: [], clippedSums: [], counts: [], addUpOk: 0, addUpTotal: 0, within: 0, figures: 0, cells: 0, suppressed: 0 };

  for (const [reportName, rule] of Object.entries(policy.reports)) {
    if (typeof rule !== 'object' || !('cohort' in rule)) continue;
    const spec = findReport(reportName)!;
    const plan = planCohorts(spec, rule, policy.k, policy.kC);
    const activity = activityColumns(spec).map((c) => c.header);
    const periods = policy.periods.filter((p): p is Period => spec.periods.includes(p as Period));
    for (const period of periods) {
      const csv = sample.csv(spec, period);
      // The truth, from the rows Graph sends and the directory.
      const rows = parse(csv.toString('utf8').replace(/^\uFEFF/, ''), { columns: true }) as Record<string, string>[];
      const truth = new Map<string, Truth>();
      const add = (key: string, row: Record<string, string>) => {
        const t = truth.get(key) ?? { users: 0, active: 0, raw: plan.metrics.map(() => 0), clipped: plan.metrics.map(() => 0) };
        t.users++;
        if (activity.some((h) => row[h] === 'Yes' || Number(row[h] || 0) > 0)) t.active++;
        plan.metrics.forEach((m, i) => {
          const v = Number(row[m.column.header] || 0);
          t.raw[i]! += v;
          t.clipped[i]! += Math.min(v, m.clip);
        });
        truth.set(key, t);
      };
      for (const row of rows) {
        const upn = row['User Principal Name']!.toLowerCase();
        add('organization:all', row);
        add(`department:${departmentOf.get(upn) ?? NOT_IN_DIRECTORY}`, row);
        add(`officeLocation:${officeOf.get(upn) ?? NOT_IN_DIRECTORY}`, row);
      }
      const aggregate = await aggregateCsvReport(Readable.from([csv]), plan, directory);
      // Suppressed as the proxy suppresses it: within the organisation's table of the report (other tools' cohorts
      // and the score's companion categories, policy/decide.ts jointCohortPlan); its rows are drawn below.
      const joint = jointCohortPlan(loaded.set, { report: spec, period });
      protectCohortTable(aggregate, plan, period, policy.freshReleases, Buffer.alloc(32, 1), await organisationVerdict(() => Readable.from([csv]), plan, joint, directory));
      const releases: CohortRow[][] = [];
      for (let key = 0; key < draws; key++) {
        const release = `${spec.name} ${period} ${aggregate.refreshDate ?? '-'}`;
        const context: NoiseContext = { key: Buffer.alloc(32, key + 1), measureId: (dimension, measure, scale) => `${release} ${dimension} ${measure} ${scale}` };
        releases.push(cohortRows(aggregate.table, plan, aggregate.refreshDate, undefined, plan.noise === undefined ? undefined : context));
      }
      const organisation = releases[0]!.find((r) => r.dimension === 'organization');
      const orgTruth = truth.get('organization:all')!;
      const orgExact = organisation !== undefined && !organisation.suppressed && organisation.users === orgTruth.users && organisation.activeUsers === orgTruth.active
        && plan.metrics.every((m, i) => organisation.metrics[m.column.json]!.sum === orgTruth.clipped[i]);
      summary.orgTotal++;
      if (orgExact) summary.orgExact++;
      const cost = plan.noise === undefined ? 'exact, no noise' : `epsilon ${plan.noise.epsilon.toFixed(3)} per release, count margin ±${plan.noise.margins95.users}`;
      const lines: string[] = [`${spec.name} ${period} (${cost}): organisation total ${organisation === undefined ? 'not declared' : organisation.suppressed ? 'SUPPRESSED' : orgExact ? 'released exactly' : 'released, NOT exact'} (${orgTruth.users} users, ${orgTruth.active} active)`];
      for (const dimension of plan.dimensions.map((d) => d.name).filter((d) => d === 'department' || d === 'officeLocation')) {
        let ok = 0;
        let anySuppressed = false;
        const countErrors: number[] = [];
        const sumErrors: number[] = [];
        const clippedSumErrors: number[] = [];
        let within = 0;
        let figures = 0;
        for (const release of releases) {
          const cells = release.filter((r) => r.dimension === dimension);
          const released = cells.filter((r) => !r.suppressed);
          anySuppressed = cells.some((r) => r.suppressed);
          const measures: { total: number; sum: number; margin: number }[] = [
            { total: orgTruth.users, sum: released.reduce((s, r) => s + r.users!, 0), margin: released.reduce((s, r) => s + (r.usersMargin95 ?? 0), 0) },
            { total: orgTruth.active, sum: released.reduce((s, r) => s + r.activeUsers!, 0), margin: released.reduce((s, r) => s + (r.activeUsersMargin95 ?? 0), 0) },
            ...plan.metrics.map((m, i) => ({
              total: orgTruth.clipped[i]!, sum: released.reduce((s, r) => s + r.metrics[m.column.json]!.sum!, 0), margin: released.reduce((s, r) => s + (r.metrics[m.column.json]!.sumMargin95 ?? 0), 0),
            })),
          ];
          const adds = anySuppressed ? measures.every((m) => m.sum <= m.total + m.margin) : measures.every((m) => Math.abs(m.sum - m.total) <= 0.1 * m.total);
          if (adds) ok++;
          for (const row of released) {
            const t = truth.get(`${dimension}:${row.cohort[0]}`)!;
            countErrors.push(Math.abs(row.users! - t.users) / t.users, Math.abs(row.activeUsers! - t.active) / Math.max(1, t.active));
            figures += 2;
            if (Math.abs(row.users! - t.users) <= (row.usersMargin95 ?? 0)) within++;
            if (Math.abs(row.activeUsers! - t.active) <= (row.activeUsersMargin95 ?? 0)) within++;
            plan.metrics.forEach((m, i) => {
              const metric = row.metrics[m.column.json]!;
              if (t.raw[i]! > 0) sumErrors.push(Math.abs(metric.sum! - t.raw[i]!) / t.raw[i]!);
              if (t.clipped[i]! > 0) clippedSumErrors.push(Math.abs(metric.sum! - t.clipped[i]!) / t.clipped[i]!);
              figures++;
              if (Math.abs(metric.sum! - t.clipped[i]!) <= (metric.sumMargin95 ?? 0)) within++;
            });
          }
        }
        if (dimension === 'department') {
          summary.counts.push(...countErrors);
          summary.sums.push(...sumErrors);
          summary.clippedSums.push(...clippedSumErrors);
        }
        summary.addUpOk += ok;
        summary.addUpTotal += releases.length;
        summary.within += within;
        summary.figures += figures;
        const shown = releases[0]!.filter((r) => r.dimension === dimension);
        const hidden = shown.filter((r) => r.suppressed).length;
        summary.cells += shown.length;
        summary.suppressed += hidden;
        lines.push(
          `  ${dimension.padEnd(15)} ${shown.length - hidden} of ${shown.length} cells released (${pct(hidden / shown.length).trim()} suppressed); ${anySuppressed ? 'released cells within the total + their margins' : 'cells within 10% of the total'}: ${ok}/${releases.length};`
          + ` median error: users/active ${pct(median(countErrors))}, sums ${pct(median(sumErrors))} (${noisy ? 'noise alone' : 'against the capped sums'} ${pct(median(clippedSumErrors)).trim()})`
          + (noisy ? `; within the stated margin: ${pct(figures === 0 ? Number.NaN : within / figures).trim()}` : ''),
        );
      }
      console.log(lines.join('\n'));
    }
}
const countMedian = median(summary.counts);
const sumMedian = median(summary.sums);
console.log(`\nOrganisation totals released exactly: ${summary.orgExact} of ${summary.orgTotal}`);
console.log(`Department and office cells suppressed: ${summary.suppressed} of ${summary.cells} (${pct(summary.suppressed / summary.cells).trim()})`);
console.log(`Department and office cells add up (within 10% of the total, or within the total + margins when some are suppressed): ${summary.addUpOk} of ${summary.addUpTotal} releases`);
console.log(`Median relative error of released department counts (users, active): ${pct(countMedian).trim()} (target <= 10%) ${countMedian <= 0.1 ? 'PASS' : 'FAIL'}`);
console.log(`Median relative error of released department sums (raw truth, clipping included): ${pct(sumMedian).trim()} (target <= 25%) ${sumMedian <= 0.25 ? 'PASS' : 'FAIL'}; against the capped sums ${pct(median(summary.clippedSums)).trim()}`);
if (noisy) console.log(`Released noisy figures within their stated 95% margin: ${pct(summary.within / summary.figures).trim()}`);
console.log('');
return summary;
}

const summaries: Summary[] = [];
for (const dir of dirs.length > 0 ? dirs : ['policies', 'policies/examples']) summaries.push(await measure(dir));
console.log('Side by side (department cells; sums against the raw truth, in brackets against the capped sums):');
for (const s of summaries) {
  console.log(
    `  ${s.policy.padEnd(24)} ${s.noisy ? 'noisy' : 'exact'}: users/active median error ${pct(median(s.counts)).trim()}, sums ${pct(median(s.sums)).trim()} (${pct(median(s.clippedSums)).trim()});`
    + ` department and office cells suppressed ${pct(s.suppressed / s.cells).trim()}; organisation totals exact ${s.orgExact} of ${s.orgTotal}`,
  );
}
