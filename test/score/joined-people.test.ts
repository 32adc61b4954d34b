/**
 * The score's join by number (score/score-facts.ts JoinedPeople, and Directory.entryAt): people numbered in one
 * PersonIndex, or in several (reports read apart, or after the snapshot cache started a new index), join to the
 * same facts as a join by name; the directory joined by number gives what a lookup by name gives.
 */
import t from 'tap';
import { Directory } from '../../src/cohort/directory.js';
import { StringColumn } from '../../src/event-loop/columns.js';
import { JoinedPeople, PersonIndex } from '../../src/score/score-facts.js';
import { emptyFacts } from '../../src/score/categories.js';

const name = (n: number) => `user${n}@contoso.onmicrosoft.com`;

t.test('people joined by number, from one index or several, have the facts a join by name gives them', async (t) => {
  const fc = (await import('fast-check')).default;
  // A report: rows of (person, facts code); which index numbers it (0: the shared one, 1-2: an index of its own).
  const report = fc.record({ index: fc.nat(2), rows: fc.array(fc.tuple(fc.nat(40), fc.nat(2 ** 17 - 1)), { maxLength: 60 }) });
  fc.assert(
    fc.property(fc.array(report, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(40), { maxLength: 10 }), (reports, numberedFirst) => {
      const shared = new PersonIndex();
      // Names the shared index numbered before, for other reports (the snapshot cache's index is shared by all).
      for (const n of numberedFirst) shared.idOf(name(n));
      const own = [new PersonIndex(), new PersonIndex()];
      const people = new JoinedPeople();
      const expected = new Map<string, number>();
      for (const { index: which, rows } of reports) {
        const index = which === 0 ? shared : own[which - 1]!;
        const ids = rows.map(([n]) => index.idOf(name(n)));
        const numbered = people.numbering(index);
        rows.forEach(([n, code], row) => {
          people.join(numbered(ids[row]!), code);
          expected.set(name(n), (expected.get(name(n)) ?? 0) | code);
        });
      }
      const joined = new Map<string, number>();
      for (let id = 0; id < people.numbers; id++) {
        const code = people.codeAt(id);
        if (code !== undefined) joined.set(people.names.at(id)!, code);
      }
      if (people.size !== expected.size || joined.size !== expected.size) return false;
      for (const [upn, code] of expected) if (joined.get(upn) !== code || people.get(upn) === undefined) return false;
      return [...people.keys()].sort().join() === [...expected.keys()].sort().join() && people.get(name(41)) === undefined;
    }),
    { numRuns: 500 },
  );
});

t.test('people set by hand, then a report of another index, join by name; a person set again is replaced', async (t) => {
  const people = new JoinedPeople();
  people.set(name(1), { ...emptyFacts(), sentEmail: true });
  people.set(name(2), { ...emptyFacts(), hasTeams: true });
  people.set(name(2), { ...emptyFacts(), hasExchange: true });
  const index = new PersonIndex();
  const numbered = people.numbering(index);
  people.join(numbered(index.idOf(name(2))), 0);
  people.join(numbered(index.idOf(name(3))), 0);
  t.equal(people.size, 3);
  t.same([...people.keys()], [name(1), name(2), name(3)], 'in order of number: first set or joined first');
  t.equal(people.get(name(1))?.sentEmail, true);
  t.equal(people.get(name(2))?.hasExchange, true, 'set again: replaced');
  t.equal(people.get(name(2))?.hasTeams, false, 'set again: not merged with what it replaced');
  t.equal(people.get(name(3))?.sentEmail, false, 'joined with no facts: joined all the same');
  t.equal(people.get(name(4)), undefined);
});

t.test('the directory joined by number gives each number the entry its name has, as the numbering grows', async (t) => {
  const directory = new Directory([
    { userPrincipalName: 'Ada@Contoso.com', department: 'Sales' },
    { userPrincipalName: 'bob@contoso.com', department: 'R&D', officeLocation: 'Oslo' },
    { userPrincipalName: 'cy@contoso.com' },
  ]);
  const names = new StringColumn();
  for (const upn of ['bob@contoso.com', 'nobody@contoso.com', 'ada@contoso.com']) names.push(upn);
  const before = [0, 1, 2].map((id) => directory.entryAt(names, id));
  t.same(before, [directory.entryOf('bob@contoso.com'), undefined, directory.entryOf('ada@contoso.com')]);
  t.equal(before[2]?.[0], 'Sales', 'a name the directory holds in another case');
  // Looked up again: the entries found first, not looked up by name again (a numbering that counts its reads).
  let reads = 0;
  const counted = { get length() { return names.length; }, at: (id: number) => (reads++, names.at(id)) };
  t.same([0, 1, 2].map((id) => directory.entryAt(counted, id)), before);
  t.equal(reads, 3, 'each name read once');
  t.same([0, 1, 2].map((id) => directory.entryAt(counted, id)), before);
  t.equal(reads, 3, 'then by number only');
  for (const upn of [' CY@contoso.com ', 'dee@contoso.com']) names.push(upn);
  t.same(directory.entryAt(names, 3), directory.entryOf('cy@contoso.com'), 'a number given after the first lookups');
  t.not(directory.entryAt(names, 3), undefined);
  t.equal(directory.entryAt(names, 4), undefined);
  for (const id of [5, -1, 0.5, Number.NaN]) t.equal(directory.entryAt(names, id), undefined, `no number ${id}`);
  // Another numbering of the same names is looked up on its own.
  const other = new StringColumn();
  other.push('ada@contoso.com');
  t.same(directory.entryAt(other, 0), directory.entryOf('ada@contoso.com'));
});

t.test('the directory joined by number, names in its own order or not, gives each number what entryOf gives its name (also for UPNs listed twice)', async (t) => {
  const fc = (await import('fast-check')).default;
  const pool = ['ada', 'bob', 'cy', 'dee', 'eve', 'fay', 'gus', 'hal'];
  const spelling = fc.tuple(fc.constantFrom(...pool), fc.constantFrom('', 'upper', 'spaced')).map(([local, form]) => {
    const upn = `${local}@contoso.com`;
    return form === 'upper' ? upn.toUpperCase() : form === 'spaced' ? ` ${upn} ` : upn;
  });
  const entry = fc.record({ userPrincipalName: spelling, department: fc.constantFrom('Sales', 'R&D', ''), officeLocation: fc.constantFrom('Oslo', 'Lima') });
  fc.assert(
    fc.property(fc.array(entry, { maxLength: 12 }), fc.array(spelling, { maxLength: 6 }), fc.boolean(), fc.array(fc.nat(40), { maxLength: 20 }), (entries, extra, inOrder, order) => {
      const directory = new Directory(entries);
      // The directory's own names in its order (as Graph lists them), or not, with other names among them.
      const listed = entries.map((e) => e.userPrincipalName.trim().toLowerCase());
      const named = inOrder ? [...listed, ...extra] : [...extra, ...listed.reverse()];
      const names = new StringColumn();
      for (const upn of named) names.push(upn);
      // Asked for in number order, then in any order (numbers past the end too).
      for (let id = 0; id < names.length; id++) if (JSON.stringify(directory.entryAt(names, id)) !== JSON.stringify(directory.entryOf(names.at(id)!))) return false;
      const again = new StringColumn();
      for (const upn of named) again.push(upn);
      return order.every((id) => JSON.stringify(directory.entryAt(again, id)) === JSON.stringify(id < again.length ? directory.entryOf(again.at(id)!) : undefined));
    }),
    { numRuns: 500 },
  );
  t.pass('500 directories and numberings');
});
