import fc from 'fast-check';
import t from 'tap';
import type { NoiseContext } from '../../src/cohort/noise.js';
import { CohortAggregator } from '../../src/cohort/aggregate.js';
import { Directory } from '../../src/cohort/directory.js';
import { cohortCsv, cohortRows } from '../../src/cohort/render.js';
import { cohortLayout, planCohorts } from '../../src/cohort/report-users.js';
import { suppressCohorts } from '../../src/cohort/suppress.js';
import { findReport } from '../../src/catalogue/catalogue.js';

const report = findReport('getTeamsUserActivityUserDetail')!;
const plan = planCohorts(report, { cohort: { by: ['organization', 'department', 'department x officeLocation'], metrics: { 'Call Count': { clip: 100 } } } }, 5, 3);

/** The released rows when department X's `present` people (of 4 in the directory) appear in the report. */
function release(present: number, others: readonly { department: number; office: number; active: boolean; calls: number }[]) {
  const entries = [
    ...others.map((o, i) => ({ userPrincipalName: `o${i}@t.example`, department: `D${o.department}`, officeLocation: `O${o.office}` })),
    ...[0, 1, 2, 3].map((i) => ({ userPrincipalName: `x${i}@t.example`, department: 'X', officeLocation: 'O0' })),
  ];
  const directory = new Directory(entries);
  const aggregator = new CohortAggregator(cohortLayout(plan, directory));
  const people = [...others.map((o, i) => ({ upn: `o${i}@t.example`, active: o.active, calls: o.calls })), ...[0, 1, 2, 3].slice(0, present).map((i) => ({ upn: `x${i}@t.example`, active: true, calls: 3 }))];
  for (const p of people) {
    aggregator.add({ attributes: { department: directory.valueOf(p.upn, 'department'), officeLocation: directory.valueOf(p.upn, 'officeLocation') }, active: p.active, metrics: [p.calls] });
  }
  const table = aggregator.table();
  suppressCohorts(table, { k: plan.k, kC: plan.kC, lpLimit: Number.POSITIVE_INFINITY });
  return cohortRows(table, plan, '2026-11-20');
}

t.test('G8: an empty cohort and a cohort of 1..k-1 give the same key set and the same row', async (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ department: fc.nat(3), office: fc.nat(2), active: fc.boolean(), calls: fc.nat(200) }), { minLength: 20, maxLength: 80 }),
      fc.integer({ min: 1, max: 4 }),
      (others, present) => {
        const empty = release(0, others);
        const small = release(present, others);
        const keys = (rows: typeof empty) => rows.map((r) => `${r.dimension}:${r.cohort.join('|')}`);
        if (JSON.stringify(keys(empty)) !== JSON.stringify(keys(small))) return false;
        const rowOf = (rows: typeof empty) => rows.filter((r) => r.cohort[0] === 'X');
        return JSON.stringify(rowOf(empty)) === JSON.stringify(rowOf(small)) && rowOf(small).every((r) => r.suppressed);
      },
    ),
    { numRuns: 100 },
  );
});

t.test('G8: the keys of a cross come from the declared values of its parts, never from where people are', async (t) => {
  // Failed before: a cross listed only the combinations present in the directory, so the one Legal employee's
  // combination (suppressed) was listed and Legal's empty ones were absent: the key set showed their office.
  const keysWith = (legalOffice: string) => {
    const entries = [
      ...Array.from({ length: 40 }, (_, i) => ({ userPrincipalName: `o${i}@t.example`, department: `D${i % 2}`, officeLocation: `O${i % 3}` })),
      { userPrincipalName: 'legal@t.example', department: 'Legal', officeLocation: legalOffice },
    ];
    const directory = new Directory(entries);
    const aggregator = new CohortAggregator(cohortLayout(plan, directory));
    for (const e of entries) aggregator.add({ attributes: { department: e.department, officeLocation: e.officeLocation }, active: true, metrics: [1] });
    const table = aggregator.table();
    suppressCohorts(table, { k: plan.k, kC: plan.kC, lpLimit: Number.POSITIVE_INFINITY });
    return cohortRows(table, plan, '2026-11-20').filter((r) => r.dimension === 'department x officeLocation').map((r) => `${r.cohort.join('|')}:${r.suppressed}`);
  };
  const inO0 = keysWith('O0');
  t.same(keysWith('O2'), inO0, 'the same keys and markers wherever the one person sits');
  t.ok(['Legal|O0', 'Legal|O1', 'Legal|O2'].every((k) => inO0.includes(`${k}:true`)), 'every Legal combination is listed, suppressed');
  t.ok(inO0.includes('(not in directory)|(not in directory):true'), 'people outside the directory form one combination');
  t.notOk(inO0.some((k) => /\(not in directory\)\|O|Legal\|\(not in directory\)/.test(k)), 'no combination that cannot hold anyone (outside the directory in one part only)');
});

t.test('the CSV shape: BOM, CRLF, the same fields for released and suppressed cohorts', async (t) => {
  const rows = release(2, Array.from({ length: 30 }, (_, i) => ({ department: i % 2, office: i % 2, active: i % 3 !== 0, calls: i })));
  const csv = cohortCsv(rows, plan);
  const lines = csv.split('\r\n').filter((l) => l.length > 0);
  t.equal(lines[0], '\uFEFFReport Refresh Date,Dimension,Cohort,Users,Active Users,Call Count Sum,Call Count Mean,Suppressed');
  t.ok(lines.every((l) => l.split(',').length === 8), 'every row has every field');
  t.ok(lines.some((l) => l.endsWith(',True')) && lines.some((l) => l.endsWith(',False')));
  t.match(csv, /department,X,,,,,True\r\n/, 'a suppressed cohort: the marker and empty fields');
});

t.test('noise: every noisy figure with its 95% margin; the organisation total exact with margin 0; suppressed rows empty', async (t) => {
  const noisyPlan = planCohorts(report, { cohort: { by: ['organization', 'department'], metrics: { 'Call Count': { clip: 100 } }, noise: { margin95: 4 } } }, 5, 3);
  t.equal(noisyPlan.noise!.margins95.users, 4, 'the margin asked for');
  t.ok(Math.abs(noisyPlan.noise!.epsilon - (1 * 3) / noisyPlan.noise!.scales.users) < 1e-12, 'epsilon = dimensions x measures / scale');
  const entries = Array.from({ length: 60 }, (_, i) => ({ userPrincipalName: `p${i}@t.example`, department: `D${i % 3}`, officeLocation: 'O0' }));
  entries.push({ userPrincipalName: 'x@t.example', department: 'X', officeLocation: 'O0' });
  const directory = new Directory(entries);
  const aggregator = new CohortAggregator(cohortLayout(noisyPlan, directory));
  entries.forEach((e, i) => aggregator.add({ attributes: { department: e.department, officeLocation: e.officeLocation }, active: i % 4 !== 0, metrics: [i] }));
  const table = aggregator.table();
  suppressCohorts(table, { k: 5, kC: 3, lpLimit: Number.POSITIVE_INFINITY });
  t.throws(() => cohortRows(table, noisyPlan, '2026-11-20'), /needs the noise context/, 'fail closed: no exact figures where the policy promises noise');
  const context: NoiseContext = { key: Buffer.alloc(32, 4), measureId: (dimension, measure, scale) => `release-of-2026-11-20 ${dimension} ${measure} ${scale}` };
  const rows = cohortRows(table, noisyPlan, '2026-11-20', undefined, context);
  const organisation = rows.find((r) => r.dimension === 'organization')!;
  t.match(organisation, { users: 61, usersMargin95: 0, activeUsersMargin95: 0, metrics: { callCount: { sumMargin95: 0, meanMargin95: 0 } } });
  const released = rows.filter((r) => r.dimension === 'department' && !r.suppressed);
  t.equal(released.length, 2, 'one department goes with X (secondary suppression)');
  for (const row of released) {
    t.match(row, { usersMargin95: 4, activeUsersMargin95: 4, metrics: { callCount: { sumMargin95: noisyPlan.noise!.margins95.sums[0] } } });
    const mean = row.metrics.callCount!;
    t.ok(mean.mean! >= 0 && mean.mean! <= 100 && mean.meanMargin95! > 0 && mean.meanMargin95! <= 100, `${row.cohort[0]}: the mean within [0, clip], its margin stated (${mean.mean} ± ${mean.meanMargin95})`);
  }
  t.match(rows.find((r) => r.cohort[0] === 'X'), { suppressed: true, users: null, usersMargin95: null, metrics: { callCount: { sum: null, sumMargin95: null, mean: null, meanMargin95: null } } });
  const csv = cohortCsv(rows, noisyPlan).split('\r\n');
  t.equal(csv[0], '\uFEFFReport Refresh Date,Dimension,Cohort,Users,Users Margin95,Active Users,Active Users Margin95,Call Count Sum,Call Count Sum Margin95,Call Count Mean,Call Count Mean Margin95,Suppressed');
  t.match(csv[1], /^2026-11-20,organization,all,61,0,45,0,\d+,0,[\d.]+,0,False$/);
  t.ok(csv.filter((l) => l.length > 0).every((l) => l.split(',').length === 12), 'every row has every field');
});
