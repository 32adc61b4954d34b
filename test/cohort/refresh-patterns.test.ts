/**
 * A refresh's suppression patterns only grow (cohort/tables-made.ts TablesMade.withinPatterns): every release of the
 * same table and refresh hides at least the cells an earlier one hid, whatever k, k_c or the link to a companion
 * table changed between them, so joined they show no more than the first release alone. Checked on random skewed
 * tenants (test/helpers/skewed-tenant.ts) with the product's suppression (suppressCohorts alone, suppressLinked with
 * the Meetings companion, which may show a cohort cell beside a hidden Meetings cell), and against the independent
 * attacker (test/helpers/independent-attacker.ts) on the two releases joined.
 */
import fc from 'fast-check';
import t from 'tap';
import { countsOf, suppressCohorts, suppressLinked } from '../../src/cohort/suppress.js';
import { TablesMade, type PatternAt } from '../../src/cohort/tables-made.js';
import { cellKey, type CohortTable } from '../../src/cohort/table.js';
import { narrowedCells, observedOf, type DirectoryStructure } from '../helpers/independent-attacker.js';
import { skewedTables } from '../helpers/skewed-tenant.js';

const person = fc.record({ department: fc.nat(4), office: fc.nat(2), active: fc.boolean(), meetings: fc.boolean(), video: fc.oneof(fc.constant(true), fc.boolean()) });
type Person = typeof person extends fc.Arbitrary<infer T> ? T : never;
/** One release's settings: k, k_c, and whether the Teams table is suppressed linked with its Meetings companion. */
const settings = fc.record({ k: fc.integer({ min: 2, max: 5 }), kC: fc.integer({ min: 2, max: 4 }), linked: fc.boolean() });
type Settings = typeof settings extends fc.Arbitrary<infer T> ? T : never;

/** The Teams table and the Meetings table of `people`, made afresh (suppression consumes them). */
function tables(people: readonly Person[]): { teams: CohortTable; meetings: CohortTable; structure: DirectoryStructure } {
  const { tables: [teams, meetings], structure } = skewedTables(people, [(p) => p.active, (p) => (p.active && p.meetings ? p.video : undefined)]);
  return { teams: teams!, meetings: meetings!, structure };
}

const at = (table: string, refreshDate: string | null = '2026-11-29'): PatternAt => ({ source: 'getTeamsUserActivityUserDetail', window: 'D30', refreshDate, table });
const hidden = (table: CohortTable) => new Set(table.cells.filter((c) => c.state !== 'released' && c.state !== 'hidden').map(cellKey));

/** One release of the Teams table (and the Meetings table where linked) under `s`, within `made`'s patterns. */
function release(made: TablesMade, people: readonly Person[], s: Settings) {
  const made_ = tables(people);
  const options = { k: s.k, kC: s.kC };
  const within = s.linked ? [{ at: at(''), table: made_.teams }, { at: at('meetings'), table: made_.meetings }] : [{ at: at(''), table: made_.teams }];
  const lpVerified = made.withinPatterns(within, s.k, s.kC, () => (s.linked ? suppressLinked([made_.teams, made_.meetings], options).every((c) => c.lpVerified) : suppressCohorts(made_.teams, options).lpVerified));
  return { ...made_, lpVerified };
}

t.test('within a refresh, each release of a table hides every cell an earlier one hid; joined, they narrow nothing the first did not', async (t) => {
  let grew = 0;
  fc.assert(
    fc.property(fc.array(person, { minLength: 10, maxLength: 60 }), fc.array(settings, { minLength: 2, maxLength: 4 }), (people, sequence) => {
      const made = new TablesMade();
      const releases = sequence.map((s) => release(made, people, s));
      releases.forEach((r, i) => {
        if (!r.lpVerified) throw new Error(`release ${i} was not verified`);
        for (const earlier of releases.slice(0, i)) {
          const before = hidden(earlier.teams);
          const now = hidden(r.teams);
          for (const key of before) if (!now.has(key)) throw new Error(`release ${i} (${JSON.stringify(sequence[i])}) shows ${key}, which an earlier one (${JSON.stringify(sequence)}) hid`);
          if (now.size > before.size) grew++;
        }
        // Each alone holds at its own k and k_c, with the cells an earlier release hid kept hidden.
        const own = narrowedCells(r.structure, observedOf(r.teams), sequence[i]!.k, sequence[i]!.kC);
        if (own.length > 0) throw new Error(`release ${i} alone narrows ${JSON.stringify(own)}`);
      });
      // The first and the last joined: the attacker sees each cell the first showed, and nothing more.
      const [first, last] = [releases[0]!, releases.at(-1)!];
      const joined = new Map(observedOf(first.teams));
      for (const [cell, value] of observedOf(last.teams)) if (value !== null) joined.set(cell, value);
      const narrowed = narrowedCells(first.structure, joined, sequence[0]!.k, sequence[0]!.kC);
      if (narrowed.length > 0) throw new Error(`joined, the releases narrow ${JSON.stringify(narrowed)}`);
    }),
    { seed: 20261201, numRuns: 100 },
  );
  t.ok(grew > 0, `a later release hid more than an earlier one ${grew} times (the settings changed the pattern)`);
});

/** D0: 4 people, 1 inactive (shown at k_c 1, hidden at k_c 2); D1: 3 people (the cheapest to give up) and D2: 6, all active; each in its own office. */
const threeDepartments: Person[] = [
  ...[true, true, true, false].map((active) => ({ department: 0, office: 0, active, meetings: false, video: false })),
  ...Array.from({ length: 3 }, () => ({ department: 1, office: 1, active: true, meetings: false, video: false })),
  ...Array.from({ length: 6 }, () => ({ department: 2, office: 2, active: true, meetings: false, video: false })),
];

t.test('a cell an earlier release hid starts hidden and is counted as secondary; k and k_c still count their own', async (t) => {
  const people = [...threeDepartments, ...Array.from({ length: 2 }, () => ({ department: 3, office: 3, active: true, meetings: false, video: false }))];
  const made = new TablesMade();
  const first = release(made, people, { k: 3, kC: 2, linked: false });
  const state = (table: CohortTable, dimension: string, key: string) => table.cells.find((c) => c.dimension === dimension && c.key[0] === key)!;
  t.equal(state(first.teams, 'department', 'D0').state, 'complement', 'D0 hidden at k_c 2 (1 of 4 inactive)');
  const later = release(made, people, { k: 3, kC: 1, linked: false });
  const d0 = state(later.teams, 'department', 'D0');
  t.equal(d0.state, 'secondary', 'at k_c 1 D0 would be shown; the refresh hid it, so it stays hidden');
  t.equal(d0.held, true, 'marked as held by the refresh');
  t.equal(state(later.teams, 'department', 'D3').state, 'primary', 'D3 (2 people) is still counted as primary');
  const counts = countsOf(later.teams, true);
  t.ok(counts.secondary >= 1 && counts.primary >= 1, `counts read off the states: ${JSON.stringify(counts)}`);

  const fresh = new TablesMade();
  const alone = release(fresh, people, { k: 3, kC: 1, linked: false });
  t.not(state(alone.teams, 'department', 'D0').state, 'complement', 'without the earlier release, k_c 1 alone does not hide D0 for itself');
  const plain = release(new TablesMade(), threeDepartments, { k: 3, kC: 1, linked: false });
  t.equal(state(plain.teams, 'department', 'D0').state, 'released', 'and with nobody under k, it is shown (so the hold is what hides it above)');
});

t.test('patterns are kept per refresh date and not at all for an empty report', async (t) => {
  const suppress = (made: TablesMade, refreshDate: string | null, kC: number) => {
    const { teams } = tables(threeDepartments);
    made.withinPatterns([{ at: at('', refreshDate), table: teams }], 3, kC, () => suppressCohorts(teams, { k: 3, kC }));
    return teams.cells.find((c) => c.key[0] === 'D0')!.state;
  };
  const made = new TablesMade();
  t.equal(suppress(made, '2026-11-29', 2), 'complement');
  t.equal(suppress(made, '2026-11-30', 1), 'released', "the next refresh's data starts afresh");
  t.equal(suppress(made, '2026-11-29', 1), 'secondary', 'the same refresh keeps its pattern');
  t.equal(suppress(made, null, 2), 'complement');
  t.equal(suppress(made, null, 1), 'released', 'an empty report (no refresh date) keeps no pattern');
});
