/**
 * Tables of the same people suppressed as one (cohort/suppress.ts suppressLinked): a report's cohorts and a count
 * another surface makes from the same rows, nested in it cell by cell (the score's Meetings category: people in
 * Teams meetings, all of them active Teams users). Checked against the independent attacker
 * (test/helpers/independent-attacker.ts), which reads both tables together with the link and the directory's
 * structure: suppressed apart, the attacker narrows cells on some tenants; suppressed as one, on none, while the
 * cohorts keep their organisation total beside a hidden Meetings total where that is safe.
 */
import fc from 'fast-check';
import t from 'tap';
import { suppressCohorts, suppressLinked } from '../../src/cohort/suppress.js';
import { suppressAsCompanion } from '../../src/cohort/release.js';
import { planCohorts } from '../../src/cohort/report-users.js';
import { findReport } from '../../src/catalogue/catalogue.js';
import type { CohortTable } from '../../src/cohort/table.js';
import { narrowedAcross, observedOf, type DirectoryStructure } from '../helpers/independent-attacker.js';
import { skewedTables } from '../helpers/skewed-tenant.js';

/** People in skewed departments and offices: active in Teams or not, in meetings only if active, on video only if in meetings. */
const tenant = fc.record({
  // Video mostly on, as in real tenants: Meetings totals hidden for one to k_c - 1 people never on video.
  people: fc.array(fc.record({ department: fc.nat(4), office: fc.nat(2), active: fc.boolean(), meetings: fc.boolean(), video: fc.oneof(fc.constant(true), fc.boolean()) }), { minLength: 10, maxLength: 80 }),
  k: fc.integer({ min: 2, max: 5 }),
  kC: fc.integer({ min: 2, max: 4 }),
});
type Tenant = typeof tenant extends fc.Arbitrary<infer T> ? T : never;

/** The Teams cohort table and the Meetings table of a tenant, over one layout (organisation, department, office). */
function tables(input: Tenant): { teams: CohortTable; meetings: CohortTable; structure: DirectoryStructure } {
  const { tables: [teams, meetings], structure } = skewedTables(input.people, [(p) => p.active, (p) => (p.active && p.meetings ? p.video : undefined)]);
  return { teams: teams!, meetings: meetings!, structure };
}

function attack(teams: CohortTable, meetings: CohortTable, structure: DirectoryStructure, k: number, kC: number) {
  return narrowedAcross(
    structure,
    [{ name: 'teams', observed: observedOf(teams), k }, { name: 'meetings', observed: observedOf(meetings), k }],
    [{ smaller: { table: 'meetings', measure: 'users' }, larger: { table: 'teams', measure: 'active' } }],
    kC,
  );
}

t.test('suppressed as one, no cell of either table is narrowed below k or k_c by the other; suppressed apart, some are', async (t) => {
  let narrowedApart = 0;
  let tenants = 0;
  let organisationShown = 0;
  let shownBeside = 0;
  fc.assert(
    fc.property(tenant, (input) => {
      tenants++;
      const apart = tables(input);
      suppressCohorts(apart.teams, { k: input.k, kC: input.kC });
      suppressCohorts(apart.meetings, { k: input.k, kC: input.kC });
      if (attack(apart.teams, apart.meetings, apart.structure, input.k, input.kC).length > 0) narrowedApart++;

      const linked = tables(input);
      const counts = suppressLinked([linked.teams, linked.meetings], { k: input.k, kC: input.kC });
      const found = attack(linked.teams, linked.meetings, linked.structure, input.k, input.kC);
      if (found.length > 0) throw new Error(`narrowed: ${JSON.stringify(found)}`);
      if (!counts.every((c) => c.lpVerified)) throw new Error('a linked table was not verified');
      // One pattern, but for cells the cohort shows beside a hidden Meetings cell (checked with their bounds).
      linked.teams.cells.forEach((cell, id) => {
        if ((cell.state === 'released') === (linked.meetings.cells[id]!.state === 'released')) return;
        if (cell.state !== 'released') throw new Error(`${cell.dimension} ${cell.key.join('|')}: the cohort hides it, the Meetings table shows it`);
        if (cell.dimension === 'organization') organisationShown++;
        else shownBeside++;
      });
    }),
    { seed: 20261201, numRuns: 120 },
  );
  t.ok(narrowedApart > 0, `suppressed apart, the attacker narrowed a cell on ${narrowedApart} of ${tenants} tenants (so the check can fail)`);
  t.ok(organisationShown > 0, `the cohorts' organisation total shown beside a hidden Meetings total on ${organisationShown} tenants (checked, not hidden with it)`);
  t.ok(shownBeside > 0, `and ${shownBeside} department or office cells shown beside a hidden Meetings cell`);
});

t.test('the tables must have the same cells', async (t) => {
  const small = tables({ people: [{ department: 0, office: 0, active: true, meetings: true, video: true }], k: 2, kC: 2 });
  const other = tables({ people: [{ department: 1, office: 1, active: true, meetings: true, video: true }, { department: 2, office: 0, active: true, meetings: false, video: false }], k: 2, kC: 2 });
  t.throws(() => suppressLinked([small.teams, other.meetings], { k: 2, kC: 2 }), /same cells/);
});

t.test('a surface takes the linked pattern only for the figures it was verified on: other figures fail closed', async (t) => {
  const input = { people: Array.from({ length: 24 }, (_, i) => ({ department: i % 2, office: 0, active: true, meetings: i % 3 !== 0, video: i % 4 !== 0 })), k: 3, kC: 2 };
  const { teams, meetings } = tables(input);
  suppressLinked([teams, meetings], { k: 3, kC: 2 });
  const organisation = { plan: planCohorts(findReport('getTeamsUserActivityUserDetail')!, { cohort: { by: ['organization', 'department', 'officeLocation'] } }, 3, 2), states: new Map(), lpVerified: true, companions: new Map([['meetings', meetings]]) };
  const same = tables(input).meetings;
  suppressAsCompanion(same, organisation, 'meetings');
  t.same(same.cells.map((c) => c.state), meetings.cells.map((c) => c.state), 'the same figures take the verified states');
  const other = tables({ ...input, people: input.people.map((p, i) => (i === 0 ? { ...p, meetings: true, active: true } : p)) }).meetings;
  t.throws(() => suppressAsCompanion(other, organisation, 'meetings'), { code: 'InternalInvariant' }, 'a cell whose figures differ releases nothing');
  t.throws(() => suppressAsCompanion(same, organisation, 'communication'), { code: 'InternalInvariant' }, 'a category that is no companion of the table releases nothing');
});
