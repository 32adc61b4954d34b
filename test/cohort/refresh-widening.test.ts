/**
 * Widening changes within a refresh (cohort/tables-made.ts TablesMade.withinPatterns): a period added to the group,
 * the Meetings companion linked, or a dimension (the office) added between releases of one refresh make tables or
 * cells no earlier release made. Consumers keep every release, so each release is checked joined with every earlier
 * one by the independent attacker (test/helpers/independent-attacker.ts), with the published definitions tying the
 * tables (D7's people are D30's, active over 7 days only if over 30; people in meetings are active). Some bounds
 * follow from the earlier releases alone, whatever a later release shows (a hidden Meetings cell is at most the
 * Teams cell's active people the consumer kept): a release may narrow a cell only as far as the earlier releases,
 * with every cell of the new release hidden, already do. Random skewed tenants (test/helpers/skewed-tenant.ts)
 * and the product's suppression (suppressCohorts, suppressLinked, suppressNested), as the proxy runs them.
 */
import fc from 'fast-check';
import t from 'tap';
import { suppressCohorts, suppressLinked, suppressNested } from '../../src/cohort/suppress.js';
import { TablesMade, type PatternTable } from '../../src/cohort/tables-made.js';
import type { CohortTable } from '../../src/cohort/table.js';
import { narrowedAcross, type AttackedTable, type Narrowed, type Observed, type TableLink } from '../helpers/independent-attacker.js';
import type { Truth } from '../helpers/random-tenant.js';
import { skewedTables } from '../helpers/skewed-tenant.js';

const person = fc.record({ department: fc.nat(3), office: fc.nat(2), active: fc.boolean(), recent: fc.oneof(fc.constant(true), fc.boolean()), meetings: fc.oneof(fc.constant(true), fc.boolean()), video: fc.oneof(fc.constant(true), fc.boolean()) });
type Person = typeof person extends fc.Arbitrary<infer T> ? T : never;
/** One release's settings: k, k_c, and what its table holds (D7 grouped with D30, Meetings linked, the office released). */
const settings = fc.record({ k: fc.integer({ min: 2, max: 4 }), kC: fc.integer({ min: 2, max: 3 }), d7: fc.boolean(), linked: fc.boolean(), office: fc.boolean() });
type Settings = typeof settings extends fc.Arbitrary<infer T> ? T : never;

/** The tables as made within the refresh: each release's united with every earlier one's (tables-made.ts unitedWithMade). */
function asMade(sequence: readonly Settings[]): Settings[] {
  const out: Settings[] = [];
  for (const s of sequence) {
    const before = out.at(-1);
    out.push(before === undefined ? s : { k: Math.max(s.k, before.k), kC: Math.max(s.kC, before.kC), d7: s.d7 || before.d7, linked: s.linked || before.linked, office: s.office || before.office });
  }
  return out;
}

/** The tables of one release by name (teams D30, teams D7, meetings D30, meetings D7), suppressed as the proxy does within `made`. */
function release(made: TablesMade, people: readonly Person[], s: Settings) {
  const { tables: [teams30, teams7, meetings30, meetings7], structure } = skewedTables(people, [
    (p) => p.active,
    (p) => p.active && p.recent,
    (p) => (p.active && p.meetings ? p.video : undefined),
    (p) => (p.active && p.recent && p.meetings ? p.video : undefined),
  ]);
  const periods = s.d7 ? [['D7', teams7!, meetings7!], ['D30', teams30!, meetings30!]] as const : [['D30', teams30!, meetings30!]] as const;
  const named = new Map<string, CohortTable>();
  for (const [period, teams, meetings] of periods) {
    named.set(`teams ${period}`, teams);
    if (s.linked) named.set(`meetings ${period}`, meetings);
  }
  // A policy without the office dimension does not release its marginal.
  if (!s.office) for (const table of named.values()) for (const cell of table.cells) if (cell.dimension === 'officeLocation') cell.state = 'hidden';
  const within: PatternTable[] = [...named].map(([name, table]) => {
    const [source, window] = name.split(' ') as [string, string];
    return { at: { source: 'getTeamsUserActivityUserDetail', window, refreshDate: '2026-11-29', table: source === 'teams' ? '' : 'meetings' }, table };
  });
  const options = { k: s.k, kC: s.kC };
  const teams = periods.map(([, table]) => table);
  const companions = s.linked ? periods.map(([, , meetings]) => meetings) : [];
  made.withinPatterns(within, s.k, s.kC, () => {
    if (teams.length > 1) return suppressNested(teams, companions, options);
    return companions.length > 0 ? suppressLinked([teams[0]!, ...companions], options) : [suppressCohorts(teams[0]!, options)];
  });
  return { named, structure };
}

/** What a consumer who kept `releases` knows of each table: a cell's figures where any release showed it, else null where one hid it. */
function kept(releases: readonly ReadonlyMap<string, CohortTable>[], hideAll?: ReadonlyMap<string, CohortTable>): Map<string, Map<string, Truth | null>> {
  const out = new Map<string, Map<string, Truth | null>>();
  for (const named of [...releases, ...(hideAll === undefined ? [] : [hideAll])]) {
    for (const [name, table] of named) {
      let observed = out.get(name);
      if (observed === undefined) out.set(name, (observed = new Map()));
      for (const cell of table.cells) {
        if (cell.state === 'hidden' || cell.dimension === 'department x officeLocation') continue;
        const key = `${cell.dimension}/${cell.key.join('|')}`;
        if (cell.state === 'released' && named !== hideAll) observed.set(key, { users: cell.users, active: cell.active });
        else if (!observed.has(key)) observed.set(key, null);
      }
    }
  }
  return out;
}

/** D7's people are D30's, active over 7 days only if over 30; people in meetings are active in Teams (every period). */
const LINKS: TableLink[] = [
  { smaller: { table: 'teams D7', measure: 'active' }, larger: { table: 'teams D30', measure: 'active' } },
  { smaller: { table: 'teams D7', measure: 'users' }, larger: { table: 'teams D30', measure: 'users' } },
  { smaller: { table: 'teams D30', measure: 'users' }, larger: { table: 'teams D7', measure: 'users' } },
  { smaller: { table: 'meetings D30', measure: 'users' }, larger: { table: 'teams D30', measure: 'active' } },
  { smaller: { table: 'meetings D7', measure: 'users' }, larger: { table: 'teams D7', measure: 'active' } },
  { smaller: { table: 'meetings D7', measure: 'users' }, larger: { table: 'meetings D30', measure: 'users' } },
];

function attack(structure: Parameters<typeof narrowedAcross>[0], observed: ReadonlyMap<string, Observed>, k: number, kC: number): Narrowed[] {
  const tables: AttackedTable[] = [...observed].map(([name, cells]) => ({ name, observed: cells, k }));
  const present = new Set(observed.keys());
  return narrowedAcross(structure, tables, LINKS.filter((l) => present.has(l.smaller.table) && present.has(l.larger.table)), kC);
}

t.test('within a refresh, a release after a widening change narrows no cell beyond what the releases kept before it already do', async (t) => {
  let widened = 0;
  const fresh = { shown: 0, hidden: 0 };
  fc.assert(
    fc.property(fc.array(person, { minLength: 12, maxLength: 40 }), fc.array(settings, { minLength: 2, maxLength: 3 }), (people, sequence) => {
      const made = new TablesMade();
      const steps = asMade(sequence);
      const releases: ReadonlyMap<string, CohortTable>[] = [];
      let structure: Parameters<typeof narrowedAcross>[0] | undefined;
      steps.forEach((s, i) => {
        const r = release(made, people, s);
        structure = r.structure;
        const before = steps[i - 1];
        const widening = before !== undefined && ((s.d7 && !before.d7) || (s.linked && !before.linked) || (s.office && !before.office));
        releases.push(r.named);
        if (!widening) return;
        widened++;
        const shownBefore = kept(releases.slice(0, -1));
        for (const [name, table] of r.named) {
          for (const cell of table.cells) {
            if (cell.state === 'hidden' || cell.dimension === 'department x officeLocation') continue;
            const before = shownBefore.get(name)?.get(`${cell.dimension}/${cell.key.join('|')}`);
            if (before === undefined || before === null) {
              if (cell.state === 'released') fresh.shown++;
              else fresh.hidden++;
            }
          }
        }
        const joined = attack(structure, kept(releases), s.k, s.kC);
        if (joined.length === 0) return;
        // What the releases before it narrow, with every cell of this one hidden.
        const alone = attack(structure, kept(releases.slice(0, -1), r.named), s.k, s.kC);
        const width = (n: Narrowed) => n.max - n.min;
        const beyond = joined.filter((n) => !alone.some((a) => a.cell === n.cell && a.measure === n.measure && width(a) <= width(n)));
        if (beyond.length > 0) throw new Error(`release ${i} (${JSON.stringify(steps)}) joined with the earlier ones narrows ${JSON.stringify(beyond)}`);
      });
    }),
    { seed: 20261202, numRuns: 60 },
  );
  t.ok(widened > 0, `${widened} releases followed a widening change`);
  t.ok(fresh.shown > 0, `after a widening change, ${fresh.shown} cells no earlier release showed were shown and ${fresh.hidden} hidden`);
});
