/**
 * The attacker's programme decomposed (src/cohort/attacker-decomposition.ts) is the joint programme: on random
 * tables and random suppression patterns, every unknown cell's interval of users, active and inactive people
 * is the one yalps finds over the whole table, and the check finds the same first narrowed cell. A table whose
 * decomposition leaves a part above the LP limit is refused, never released unverified.
 */
import fc from 'fast-check';
import t from 'tap';
import { CohortAggregator, parseDimension, type CohortLayout } from '../../src/cohort/aggregate.js';
import { CohortTableUnverifiable } from '../../src/cohort/attacker-decomposition.js';
import { attackerIntervals, MEASURES } from '../../src/cohort/attacker-lp.js';
import { lpViolation, suppressCohorts } from '../../src/cohort/suppress.js';
import type { CohortTable } from '../../src/cohort/table.js';

const ATTRIBUTES = ['department', 'officeLocation', 'country'] as const;
/** Networks (organisation, marginals, one cross) and not (an attribute in two crosses, a cross of three). */
const DIMENSIONS = ['organization', 'department', 'officeLocation', 'department x officeLocation', 'department x country', 'department x officeLocation x country'];

const tables = fc.record({
  people: fc.array(fc.record({ department: fc.nat(4), officeLocation: fc.nat(2), country: fc.nat(1), active: fc.boolean() }), { maxLength: 60 }),
  dimensions: fc.subarray(DIMENSIONS, { minLength: 1, maxLength: 3 }),
  /** Which cells the attacker does not see (a pattern, not necessarily one suppression would produce). */
  unknown: fc.array(fc.boolean(), { minLength: 200, maxLength: 200 }),
});

type Input = typeof tables extends fc.Arbitrary<infer T> ? T : never;

function build(input: Input): CohortTable {
  const layout: CohortLayout = {
    dimensions: input.dimensions.map(parseDimension),
    keySet: (parts) => parts.reduce<string[][]>((keys, part) => keys.flatMap((key) => Array.from({ length: part === 'department' ? 5 : part === 'officeLocation' ? 3 : 2 }, (_, v) => [...key, `${part[0]}${v}`])), [[]]),
    metrics: [],
  };
  const aggregator = new CohortAggregator(layout);
  for (const p of input.people) aggregator.add({ attributes: Object.fromEntries(ATTRIBUTES.map((a) => [a, `${a[0]}${p[a]}`])), active: p.active, metrics: [] });
  const table = aggregator.table();
  table.cells.forEach((cell, id) => (cell.state = input.unknown[id % input.unknown.length] ? 'primary' : 'released'));
  return table;
}

const same = (a: number, b: number) => a === b || Math.abs(a - b) < 1e-6;

/** Each unknown cell's decomposed interval, per measure, after checking it is the joint LP's (throws where not). */
function decomposedEqualsJoint(table: CohortTable, unknown: readonly number[]): Map<string, Map<number, { min: number; max: number }>> {
  const out = new Map<string, Map<number, { min: number; max: number }>>();
  for (const measure of MEASURES) {
    const decomposed = attackerIntervals(table, measure, unknown);
    const joint = attackerIntervals(table, measure, unknown, { joint: true });
    for (const id of unknown) {
      const [d, j] = [decomposed.get(id)!, joint.get(id)!];
      if (!same(d.min, j.min) || !same(d.max, j.max)) throw new Error(`${measure} of ${table.cells[id]!.dimension} ${table.cells[id]!.key.join('|')}: decomposed [${d.min}, ${d.max}], joint [${j.min}, ${j.max}]`);
    }
    out.set(measure, decomposed);
  }
  return out;
}

t.test('the decomposed programme gives every unknown cell the joint LP interval, for users, active and inactive people', async (t) => {
  let compared = 0;
  fc.assert(
    fc.property(tables, (input) => {
      const table = build(input);
      const unknown = table.cells.flatMap((c, id) => (c.state === 'released' ? [] : [id]));
      decomposedEqualsJoint(table, unknown);
      compared += unknown.length * MEASURES.length;
      return true;
    }),
    { numRuns: 60 },
  );
  t.ok(compared > 1000, `${compared} intervals compared`);
});

t.test('with bounds on cells (what a companion table implies: suppress.ts suppressLinked), the decomposed programme still gives the joint LP interval', async (t) => {
  let compared = 0;
  let narrowedByBounds = 0;
  const bounds = fc.array(fc.option(fc.record({ activeUp: fc.nat(4), activeDown: fc.nat(4), inactiveUp: fc.nat(4), inactiveDown: fc.nat(4) }), { freq: 2 }), { minLength: 200, maxLength: 200 });
  fc.assert(
    fc.property(tables, bounds, (input, limits) => {
      const table = build(input);
      const unknown = table.cells.flatMap((c, id) => (c.state === 'released' ? [] : [id]));
      const free = new Map(MEASURES.map((m) => [m, attackerIntervals(table, m, unknown)]));
      table.cells.forEach((cell, id) => {
        const b = limits[id % limits.length];
        if (b !== null && b !== undefined) cell.bounds = { active: { up: b.activeUp, down: b.activeDown }, inactive: { up: b.inactiveUp, down: b.inactiveDown } };
      });
      for (const [measure, intervals] of decomposedEqualsJoint(table, unknown)) {
        for (const [id, d] of intervals) {
          const f = free.get(measure as (typeof MEASURES)[number])!.get(id)!;
          if (d.max - d.min < f.max - f.min - 1e-6) narrowedByBounds++;
          compared++;
        }
      }
      return true;
    }),
    { numRuns: 60, seed: 20261201 },
  );
  t.ok(compared > 1000, `${compared} intervals compared`);
  t.ok(narrowedByBounds > 100, `${narrowedByBounds} of them narrower with the bounds than without (the bounds bite)`);
});

t.test('the check (flows stopped at the need, bounds through a hub) finds the same first narrowed cell as the joint LP', async (t) => {
  let violations = 0;
  fc.assert(
    fc.property(tables, fc.integer({ min: 2, max: 8 }), fc.integer({ min: 1, max: 5 }), fc.array(fc.option(fc.nat(5), { freq: 3 }), { minLength: 50, maxLength: 50 }), (input, k, kC, limits) => {
      const table = build(input);
      // Some cells bounded (suppress.ts suppressLinked), so the check's shortcuts are held to them too.
      table.cells.forEach((cell, id) => {
        const b = limits[id % limits.length];
        if (b !== null && b !== undefined) cell.bounds = { active: { up: b, down: Number.POSITIVE_INFINITY }, inactive: { up: b + 1, down: b } };
      });
      const need = { users: k, active: kC, inactive: kC };
      // The rule of suppress.ts, read off the joint LP's intervals: the first protected cell narrowed.
      const protectedIds = table.cells.flatMap((c, id) => (c.state === 'released' ? [] : [id]));
      let expected: number | undefined;
      search: for (const measure of MEASURES) {
        for (const [id, { min, max }] of attackerIntervals(table, measure, protectedIds, { joint: true })) {
          if (!(max - min >= need[measure] - 1e-6 || (measure === 'inactive' && max <= 1e-6))) {
            expected = id;
            break search;
          }
        }
      }
      if (expected !== undefined) violations++;
      const found = lpViolation(table, need, k, kC, { lpComponentLimit: Number.POSITIVE_INFINITY });
      if (found !== expected) throw new Error(`decomposed check found ${found}, joint LP ${expected}`);
      return true;
    }),
    { numRuns: 120, seed: 20261201 },
  );
  t.ok(violations > 10, `narrowed cells among them (${violations})`);
});

t.test('fail closed: a table whose non-network part is above the LP limit is refused, not released unverified', async (t) => {
  // department in two crosses: each department cell is in three relations, so the linked cells are solved by
  // the LP, and here there are more of them than the limit.
  const people = Array.from({ length: 40 }, (_, i) => ({ department: i % 5, officeLocation: i % 3, country: i % 2, active: i % 4 !== 0 }));
  const input: Input = { people, dimensions: ['organization', 'department x officeLocation', 'department x country'], unknown: [] };
  const table = build(input);
  table.cells.forEach((c) => (c.state = 'released'));
  t.throws(() => suppressCohorts(table, { k: 10, kC: 5, lpComponentLimit: 3 }), CohortTableUnverifiable, 'refused');
  // The same table within the limit is verified.
  const again = build(input);
  again.cells.forEach((c) => (c.state = 'released'));
  t.ok(suppressCohorts(again, { k: 10, kC: 5, lpComponentLimit: Number.POSITIVE_INFINITY }).lpVerified, 'verified within the limit');
  // Organisation, marginals and one cross are a network: no limit applies, whatever the size.
  const network = build({ people, dimensions: ['organization', 'department', 'department x officeLocation'], unknown: [] });
  network.cells.forEach((c) => (c.state = 'released'));
  t.ok(suppressCohorts(network, { k: 10, kC: 5, lpComponentLimit: 0 }).lpVerified, 'a network is verified with an LP limit of 0');
});
