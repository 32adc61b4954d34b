import { Readable } from 'node:stream';
import fc from 'fast-check';
import t from 'tap';
import { CohortAggregator, parseDimension, type CohortCounter, type CohortLayout } from '../../src/cohort/aggregate.js';
import { compareKeys, DIRECTORY_ATTRIBUTES, Directory, directoryKnowledge, NOT_IN_DIRECTORY, type DirectoryAttribute } from '../../src/cohort/directory.js';
import { aggregateCsvReport, planCohorts } from '../../src/cohort/report-users.js';
import type { CohortTable } from '../../src/cohort/table.js';
import { simulatedTeamsReport } from '../helpers/simulated-teams.js';
import { InternalInvariantError } from '../../src/errors/catalogue.js';

const ATTRIBUTES = ['department', 'officeLocation', 'country'] as const;
const DIMENSIONS = ['organization', 'department', 'officeLocation', 'country', 'department x officeLocation', 'officeLocation x country', 'department x officeLocation x country'];

/** Random tenants: people in a few departments, offices and countries, some not in the directory, some directory-only. */
const tenant = fc.record({
  people: fc.array(
    fc.record({ values: fc.tuple(fc.nat(6), fc.nat(3), fc.nat(2)), active: fc.boolean(), metrics: fc.tuple(fc.integer({ min: -5, max: 60 }), fc.double({ min: 0, max: 9, noNaN: true })), people: fc.integer({ min: 1, max: 3 }), inDirectory: fc.boolean() }),
    { maxLength: 120 },
  ),
  directoryOnly: fc.array(fc.tuple(fc.nat(8), fc.nat(4), fc.nat(3)), { maxLength: 4 }),
  dimensions: fc.subarray(DIMENSIONS, { minLength: 1 }),
});
type Tenant = typeof tenant extends fc.Arbitrary<infer T> ? T : never;

const valueOf = (attribute: number, n: number) => `${ATTRIBUTES[attribute]!.slice(0, 1).toUpperCase()}${n}`;

function setUp(input: Tenant) {
  const entries = [
    ...input.people.flatMap((p, i) => (p.inDirectory ? [{ userPrincipalName: `u${i}@t.example`, ...Object.fromEntries(ATTRIBUTES.map((a, j) => [a, valueOf(j, p.values[j]!)])) }] : [])),
    ...input.directoryOnly.map((values, i) => ({ userPrincipalName: `only${i}@t.example`, ...Object.fromEntries(ATTRIBUTES.map((a, j) => [a, valueOf(j, values[j]!)])) })),
  ];
  const directory = new Directory(entries);
  const layout: CohortLayout = {
    dimensions: input.dimensions.map(parseDimension),
    keySet: (parts) => (parts.length === 1 ? directory.domain(parts[0] as DirectoryAttribute).map((v) => [v]) : directory.combinations(parts as DirectoryAttribute[])),
    metrics: [
      { name: 'messages', clip: 40 },
      { name: 'minutes', clip: 5 },
    ],
    sameEverywhere: NOT_IN_DIRECTORY,
    known: directoryKnowledge(directory),
  };
  /** Each person's directory entry (undefined: not in the directory) and attributes, as the join gives them. */
  const joined = input.people.map((p, i) => {
    const entry = directory.entryOf(`u${i}@t.example`);
    const attributes = Object.fromEntries(ATTRIBUTES.map((a) => [a, entry?.[DIRECTORY_ATTRIBUTES.indexOf(a)] ?? NOT_IN_DIRECTORY]));
    return { ...p, entry, attributes };
  });
  return { entries, directory, layout, joined };
}

t.test('counting through one counter per directory tuple gives the table add() gives, cell for cell, relation for relation', async (t) => {
  let users = 0;
  fc.assert(
    fc.property(tenant, (input) => {
      const { layout, joined } = setUp(input);
      const byAdd = new CohortAggregator(layout);
      for (const p of joined) byAdd.add({ attributes: p.attributes, active: p.active, metrics: p.metrics }, p.people);
      const byCounter = new CohortAggregator(layout);
      const counters = new Map<readonly string[] | undefined, CohortCounter>();
      for (const p of joined) {
        let counter = counters.get(p.entry);
        if (counter === undefined) counters.set(p.entry, (counter = byCounter.counter(p.attributes)));
        counter.add(p.active, p.metrics, p.people);
      }
      const table = byAdd.table();
      users += table.cells[0]!.users;
      return JSON.stringify(byCounter.table()) === JSON.stringify(table);
    }),
    { numRuns: 150 },
  );
  t.ok(users > 1000, `people were counted (${users})`);
});

t.test('each cell counts exactly the people whose values are its key (users, active, clipped whole sums), and a structural zero is a combination no directory entry holds', async (t) => {
  fc.assert(
    fc.property(tenant, (input) => {
      const { entries, layout, joined } = setUp(input);
      const aggregator = new CohortAggregator(layout);
      for (const p of joined) aggregator.add({ attributes: p.attributes, active: p.active, metrics: p.metrics }, p.people);
      const table = aggregator.table();
      const dimensionParts = (dimension: string) => (dimension === 'organization' ? [] : dimension.split(' x '));
      for (const cell of table.cells) {
        const parts = dimensionParts(cell.dimension);
        const inCell = joined.filter((p) => parts.every((part, i) => p.attributes[part] === cell.key[i]));
        const expected = {
          users: inCell.reduce((n, p) => n + p.people, 0),
          active: inCell.reduce((n, p) => n + (p.active ? p.people : 0), 0),
          sums: [40, 5].map((clip, m) => inCell.reduce((n, p) => n + Math.floor(Math.min(Math.max(p.metrics[m]!, 0), clip)) * p.people, 0)),
        };
        if (cell.users !== expected.users || cell.active !== expected.active || JSON.stringify(cell.sums) !== JSON.stringify(expected.sums)) return false;
        if (parts.length >= 2) {
          const held = cell.key.every((v) => v === NOT_IN_DIRECTORY) || entries.some((e) => parts.every((part, i) => (e as Record<string, string>)[part] === cell.key[i]));
          if ((cell.structuralZero === true) === held) return false;
        } else if (cell.structuralZero === true) return false;
      }
      return true;
    }),
    { numRuns: 150 },
  );
});

t.test('asking for the table twice, or adding after it, counts every user once', async (t) => {
  const { layout, joined } = setUp({ people: [0, 1, 2].map((n) => ({ values: [n, 0, 0] as [number, number, number], active: true, metrics: [3, 1] as [number, number], people: 1, inDirectory: true })), directoryOnly: [], dimensions: ['organization', 'department'] });
  const aggregator = new CohortAggregator(layout);
  for (const p of joined.slice(0, 2)) aggregator.add({ attributes: p.attributes, active: p.active, metrics: p.metrics });
  t.equal(aggregator.table().cells[0]!.users, 2);
  t.equal(aggregator.table().cells[0]!.users, 2, 'a second table() adds nothing');
  aggregator.add({ attributes: joined[2]!.attributes, active: false, metrics: [0, 0] });
  const table: CohortTable = aggregator.table();
  t.same(table.cells[0], { dimension: 'organization', key: ['all'], users: 3, active: 2, sums: [6, 2], state: 'released' });
});

t.test('a user outside the key set or in a structural zero is refused (InternalInvariantError), by add() and by counter(), and nothing of them is counted', async (t) => {
  const { layout, joined } = setUp({
    people: [
      { values: [0, 0, 0], active: true, metrics: [1, 1], people: 1, inDirectory: true },
      { values: [1, 1, 0], active: true, metrics: [1, 1], people: 1, inDirectory: true },
    ],
    directoryOnly: [],
    dimensions: ['organization', 'department x officeLocation'],
  });
  const aggregator = new CohortAggregator(layout);
  for (const p of joined) aggregator.add({ attributes: p.attributes, active: p.active, metrics: p.metrics });
  // D0 sits in O0 only: D0 x O1 is a structural zero.
  const zero = { department: 'D0', officeLocation: 'O1', country: 'C0' };
  t.throws(() => aggregator.add({ attributes: zero, active: true, metrics: [1, 1] }), InternalInvariantError);
  t.throws(() => aggregator.counter(zero), InternalInvariantError);
  t.throws(() => aggregator.counter({ department: 'D9', officeLocation: 'O0', country: 'C0' }), InternalInvariantError, 'a department the directory does not have');
  const table = aggregator.table();
  t.equal(table.cells[0]!.users, 2);
  t.ok(table.cells.find((c) => c.key.join() === 'D0,O1')!.structuralZero);
  t.throws(() => table.cells.find((c) => c.key.join() === 'D0,O1')!.sums.push(1), TypeError, 'structural zeros share a frozen sums array nobody can count into');
});

t.test('the directory: crosses are every combination in key order, held combinations the distinct ones someone holds plus the outside one, sorted (also past 2^53 combinations)', async (t) => {
  const check = (entries: Record<string, string>[], attributes: DirectoryAttribute[]) => {
    const directory = new Directory(entries.map((e, i) => ({ userPrincipalName: `p${i}@t.example`, ...e })));
    const outside = attributes.map(() => NOT_IN_DIRECTORY);
    const values = (a: DirectoryAttribute) => [...new Set(entries.map((e) => e[a] ?? '(none)'))];
    const cross = attributes.reduce<string[][]>((keys, a) => keys.flatMap((k) => values(a).map((v) => [...k, v])), [[]]);
    t.same(directory.combinations(attributes), [...cross, outside].sort(compareKeys));
    const held = new Map(entries.map((e) => attributes.map((a) => e[a] ?? '(none)')).map((k) => [k.join('\u0000'), k]));
    held.set(outside.join('\u0000'), outside);
    t.same(directory.heldCombinations(attributes), [...held.values()].sort(compareKeys));
    t.equal(directory.heldCombinations(attributes), directory.heldCombinations(attributes), 'kept per attribute list');
  };
  const random = (n: number, salt: number) => `v${(Math.imul(n + 1, 2654435761) ^ salt) % 997}`;
  check(
    Array.from({ length: 300 }, (_, n) => ({ department: random(n % 40, 1), officeLocation: random(n % 7, 2), country: random(n % 3, 3) })),
    ['department', 'officeLocation'],
  );
  check(
    Array.from({ length: 300 }, (_, n) => ({ department: random(n % 40, 1), officeLocation: random(n % 7, 2), country: random(n % 3, 3) })),
    ['officeLocation', 'country', 'department'],
  );
  // Six attributes of ~500 values each: more combinations (500^6) than a double numbers exactly.
  const wide = Array.from({ length: 500 }, (_, n) => Object.fromEntries(DIRECTORY_ATTRIBUTES.map((a, i) => [a, `${a}-${(n * (i + 3)) % 500}`])));
  const directory = new Directory(wide.map((e, i) => ({ userPrincipalName: `w${i}@t.example`, ...e })));
  const all = [...DIRECTORY_ATTRIBUTES];
  const held = directory.heldCombinations(all);
  t.equal(held.length, 501);
  t.same(held, [...wide.map((e) => all.map((a) => e[a]!)), all.map(() => NOT_IN_DIRECTORY)].sort(compareKeys));
});

t.test("aggregateCsvReport counts through one counter per directory entry (every part from the directory) exactly as per user (a report column among the parts)", async (t) => {
  // Leavers stay in the report but not in the directory: the (not in directory) entry is counted too.
  const { spec, csv, directory } = simulatedTeamsReport('counters', 600);
  const shared = ['organization', 'department', 'officeLocation', 'department x officeLocation'];
  const table = async (by: string[]) => (await aggregateCsvReport(Readable.from([csv]), planCohorts(spec, { cohort: { by, metrics: { 'Call Count': { clip: 100 } } } }, 10, 5), directory)).table;
  const byEntry = await table(shared);
  const perUser = await table([...shared, 'Is Licensed']);
  const figures = (cells: CohortTable['cells']) => cells.filter((c) => shared.includes(c.dimension)).map((c) => JSON.stringify([c.dimension, c.key, c.users, c.active, c.sums, c.structuralZero === true]));
  t.same(figures(byEntry.cells), figures(perUser.cells));
  t.ok(byEntry.cells[0]!.users > 500, `the organisation counts the report's people (${byEntry.cells[0]!.users})`);
  t.ok(byEntry.cells.some((c) => c.key[0] === NOT_IN_DIRECTORY && c.users > 0), 'people outside the directory are counted');
});
