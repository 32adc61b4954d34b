/**
 * One report's cohort tables over nested windows suppressed as one (cohort/suppress.ts suppressNested): D7 inside
 * D30 inside D90, the same people in each, whoever was active over the shorter window active over the longer.
 * Checked against the independent attacker (test/helpers/independent-attacker.ts), which reads every period's
 * table with the nesting and the directory's structure: suppressed apart, it narrows cells on some tenants;
 * suppressed as one, on none, whatever k and k_c (also k above 2 k_c, where the ends of the chain alone do not
 * make a hidden cell's users wide).
 */
import fc from 'fast-check';
import t from 'tap';
import { suppressCohorts, suppressLinked, suppressNested } from '../../src/cohort/suppress.js';
import type { CohortTable } from '../../src/cohort/table.js';
import { narrowedAcross, observedOf, type DirectoryStructure, type TableLink } from '../helpers/independent-attacker.js';
import { skewedTables } from '../helpers/skewed-tenant.js';

/** Tenants the property runs (GPP_NESTING_RUNS for a longer run); the independent attacker takes about a second each here. */
const RUNS = Number(process.env.GPP_NESTING_RUNS ?? 24);
t.setTimeout(Math.max(360_000, RUNS * 10_000));

const PERIODS = ['D7', 'D30', 'D90'] as const;

/**
 * People in skewed departments and offices, each last active 0 (never), 1 (within 90 days), 2 (30) or 3 (7)
 * windows ago; a few listed only from a longer window on (`listedFrom` 1: in D30's and D90's rows, not D7's, as
 * a leaver deleted ten days ago is).
 */
const tenant = fc.record({
  people: fc.array(fc.record({
    department: fc.nat(4), office: fc.nat(2), recency: fc.oneof(fc.constant(3), fc.nat(3)),
    listedFrom: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) }),
  }), { minLength: 10, maxLength: 80 }),
  periods: fc.integer({ min: 2, max: 3 }),
  k: fc.integer({ min: 2, max: 9 }),
  kC: fc.integer({ min: 2, max: 4 }),
});
type Tenant = typeof tenant extends fc.Arbitrary<infer T> ? T : never;

/** Each period's table (shortest first) over one layout (organisation, department, office). */
function tables(input: Tenant): { periods: CohortTable[]; structure: DirectoryStructure } {
  // Window w (0: D7) holds whoever was active at most w + 1 steps back: recency 3 is in every window.
  const { tables: periods, structure } = skewedTables(input.people, PERIODS.slice(0, input.periods).map((_, w) => (p: Tenant['people'][number]) => (w < p.listedFrom ? undefined : p.recency >= 3 - w)));
  return { periods, structure };
}

/**
 * What the nesting tells the attacker: shorter active counts at most longer ones, shorter users at most longer ones,
 * and the same users wherever nobody is missing from a period's rows (the attacker knows who left).
 */
function nesting(input: Tenant): TableLink[] {
  const missing = new Set(input.people.filter((p) => p.listedFrom > 0).flatMap((p) => ['organization/all', `department/D${p.department}`, `officeLocation/O${p.office}`, `cross/D${p.department}|O${p.office}`]));
  return PERIODS.slice(0, input.periods).flatMap((period, w): TableLink[] => {
    const longer = PERIODS[w + 1];
    if (longer === undefined || w + 1 >= input.periods) return [];
    return [
      { smaller: { table: period, measure: 'active' }, larger: { table: longer, measure: 'active' } },
      { smaller: { table: period, measure: 'users' }, larger: { table: longer, measure: 'users' } },
      { smaller: { table: longer, measure: 'users' }, larger: { table: period, measure: 'users' }, holdsIn: (cell) => !missing.has(cell) },
    ];
  });
}

const attack = (periods: readonly CohortTable[], structure: DirectoryStructure, input: Tenant) =>
  narrowedAcross(structure, periods.map((table, w) => ({ name: PERIODS[w]!, observed: observedOf(table), k: input.k })), nesting(input), input.kC);

t.test('suppressed as one, no period\'s cell is narrowed by another period; suppressed apart, some are', async (t) => {
  let narrowedApart = 0;
  let tenants = 0;
  let wideK = 0;
  fc.assert(
    fc.property(tenant, (input) => {
      tenants++;
      if (input.k > 2 * input.kC) wideK++;
      // Apart, the attacker's programme over three tables with many released cells takes yalps 5-40 s: two only.
      if (input.periods === 2) {
        const apart = tables(input);
        for (const table of apart.periods) suppressCohorts(table, { k: input.k, kC: input.kC });
        if (attack(apart.periods, apart.structure, input).length > 0) narrowedApart++;
      }

      const nested = tables(input);
      const counts = suppressNested(nested.periods, [], { k: input.k, kC: input.kC });
      const found = attack(nested.periods, nested.structure, input);
      if (found.length > 0) throw new Error(`narrowed: ${JSON.stringify(found)}`);
      if (!counts.every((c) => c.lpVerified)) throw new Error('a period\'s table was not verified');
      nested.periods[0]!.cells.forEach((cell, id) => {
        if (nested.periods.some((p) => (p.cells[id]!.state === 'released') !== (cell.state === 'released'))) throw new Error(`${cell.dimension} ${cell.key.join('|')}: the periods differ in what they show`);
      });
    }),
    { seed: Number(process.env.GPP_NESTING_SEED ?? 20261201), numRuns: RUNS },
  );
  t.ok(narrowedApart > 0, `suppressed apart, the attacker narrowed a cell on ${narrowedApart} of the two-period ones among ${tenants} tenants (so the check can fail)`);
  t.ok(wideK > 0, `${wideK} tenants with k above 2 k_c`);
});

t.test('counts that do not nest (reports refreshed apart) still get one pattern, each table verified', async (t) => {
  const input: Tenant = { people: Array.from({ length: 30 }, (_, i) => ({ department: i % 3, office: i % 2, recency: i % 4, listedFrom: 0 })), periods: 2, k: 3, kC: 2 };
  const { periods } = tables(input);
  // A person active over 7 days but not over 30 (data of two refreshes): no part structure.
  const shorter = periods[0]!.cells.find((c) => c.dimension === 'organization')!;
  shorter.active = periods[1]!.cells.find((c) => c.dimension === 'organization')!.active + 1;
  const counts = suppressNested(periods, [], { k: 3, kC: 2 });
  t.ok(counts.every((c) => c.lpVerified));
  t.same(periods[0]!.cells.map((c) => c.state === 'released'), periods[1]!.cells.map((c) => c.state === 'released'), 'one pattern');
});

t.test('one pattern alone is not enough: where the part check gives up more, the attacker narrows the one pattern', async (t) => {
  const released = (periods: readonly CohortTable[]) => periods[0]!.cells.filter((c) => c.state === 'released').length;
  // Suppression alone is cheap: find the tenants where the part check hides more than one pattern does (about 1%).
  // Everyone listed in every period: the part check's own effect, not the leavers' (whose parts add no width).
  const everyoneListed = tenant.map((input) => ({ ...input, people: input.people.map((p) => ({ ...p, listedFrom: 0 })) }));
  const cases = fc.sample(everyoneListed, { seed: 7, numRuns: 1000 }).filter((input) => {
    const nested = tables(input).periods;
    suppressNested(nested, [], { k: input.k, kC: input.kC });
    const plain = tables(input).periods;
    suppressLinked(plain, { k: input.k, kC: input.kC }, { countedBy: [], othersShown: true });
    return released(nested) < released(plain);
  });
  t.ok(cases.length > 0, `the part check gave up more cells on ${cases.length} of 1000 tenants`);
  let narrowed = 0;
  for (const input of cases) {
    const plain = tables(input);
    // One pattern and each table's own check: what suppressNested starts from.
    suppressLinked(plain.periods, { k: input.k, kC: input.kC }, { countedBy: [], othersShown: true });
    if (attack(plain.periods, plain.structure, input).length > 0) narrowed++;
  }
  t.ok(narrowed > 0, `of these ${cases.length}, the attacker narrowed ${narrowed} with one pattern and no part check`);
});
