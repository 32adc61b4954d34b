/**
 * Red team (privacy.md's threat model: consumers keep every release and collude; directory attributes are whatever
 * the tenant's HR data says, and whoever names a department or an office chooses the value): the cells a refresh's
 * releases showed are kept as 53-bit hashes of their names (cohort/tables-made.ts shownHash, two FNV-1a hashes),
 * and a release after a widening change that withdraws a cell shown before may show only cells shown before
 * (TablesMade.showNothingNew). FNV-1a is no keyed hash: with fixed offsets, anyone can compute it offline, and a
 * department name and an office name whose cells hash alike are a birthday search of 2^26.5 steps (Brent's cycle
 * finding, seconds; the names below were found so). The office's cell then passes for the department's, shown
 * before, and is shown beside the cells the release withdraws.
 *
 * The tenant (k = 4; nobody outside the directory; Teams activity): DeptA 11 people in OfficeQ, 9 active; DeptB 13
 * in OfficeQ, 12 active; DeptC 9 in OfficeP, 6 active; DeptA and OfficeQ renamed to the colliding names. Kept: the
 * Teams cohorts by department at k_c 2 (DeptA 11/9 shown, DeptB and DeptC hidden); then a reload to department and
 * office at k_c 3, which withdraws DeptA (2 inactive) and would show both offices for the first time: it showed
 * OfficeQ (24/21), DeptA and DeptB, as if shown before, and beside the kept DeptA DeptB's one inactive person is read
 * exactly (failed so).
 *
 * Fixed: the hashes' offsets are drawn once per process (tables-made.ts OFFSETS), unknown outside it.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { narrowedCells, type Observed } from '../helpers/independent-attacker.js';
import { startProxyFor } from '../helpers/proxy-stack.js';
import { directoryDomain, directoryOf, TEAMS } from '../helpers/random-tenant.js';
import { periodReports } from './nesting-tenant.js';
import { idlePerson, joined, readTeams } from './reload-helpers.js';

t.setTimeout(120_000);

const c = (people: number, active: number) => ({ people: Array.from({ length: people }, (_, i) => idlePerson(i >= active)), ghosts: 0 });
const none = { people: [], ghosts: 0 };
/** DeptA 11 people in OfficeQ, 9 active; DeptB 13 in OfficeQ, 12 active; DeptC 9 in OfficeP, 6 active (k = 4). */
const TENANT = { departments: 3, offices: 2, k: 4, kC: 2, kOrg: 4, crosses: [none, c(11, 9), none, c(13, 12), c(9, 6), none], outsiders: [] };
/** A department and an office whose cells' names ("department\0...", "officeLocation\0...") have one shownHash with FNV-1a's fixed offsets. */
const DEPARTMENT = '2BBOW2VAROB';
const OFFICE = 'M7FKPQZAIRC';
const renamed = { department: new Map([['DeptA', DEPARTMENT]]), officeLocation: new Map([['OfficeQ', OFFICE]]) };

const policy = (by: string, kC: number) => `name: teams-widen
description: Exact Teams cohorts (red-team fixture).
consumers: [no-policy]
k: 4
kC: ${kC}
periods: [D30]
formats: [csv, json]
reports:
  ${TEAMS}:
    cohort:
      by: [${by}]
`;

/** The cells `later` shows that `kept` did not, and those `kept` showed that `later` hides. */
function compare(kept: Observed, later: Observed): { fresh: string[]; withdrawn: string[] } {
  const shown = (o: Observed) => new Set([...o].filter(([, v]) => v !== null).map(([cell]) => cell));
  const [before, after] = [shown(kept), shown(later)];
  return { fresh: [...after].filter((c) => !before.has(c)), withdrawn: [...before].filter((c) => !after.has(c)) };
}

t.test('a department and an office named to collide: the widened release still shows no cell never shown beside the withdrawn department', async (t) => {
  const { value } = directoryOf(TENANT);
  const directory = { value: value.map((u) => ({ ...u, department: renamed.department.get(u.department) ?? u.department, officeLocation: renamed.officeLocation.get(u.officeLocation) ?? u.officeLocation })) };
  const double = await startGraphDouble({ reports: await periodReports(TENANT, 'D30'), directory });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-collision-'));
  const file = join(dir, 'teams-widen.yaml');
  await writeFile(file, policy('organization, department', 2));
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const kept = await readTeams(t, proxy, 'D30');
  t.ok(kept.get(`department/${DEPARTMENT}`) !== null && kept.has(`department/${DEPARTMENT}`), 'the kept release shows the colliding department');
  const before = proxy.proxy.policies.current.version;
  await writeFile(file, policy('organization, department, officeLocation', 3));
  await proxy.proxy.policies.reload();
  t.not(proxy.proxy.policies.current.version, before, 'the set by department and office at k_c 3 is live');
  const later = await readTeams(t, proxy, 'D30');
  const { fresh, withdrawn } = compare(kept, later);
  t.ok(withdrawn.length > 0, `the widened release withdraws ${JSON.stringify(withdrawn)}`);
  t.same(fresh, [], `TablesMade.showNothingNew: no cell never shown beside the withdrawn ones: new ${JSON.stringify(fresh)}`);
  const back = (name: string) => name.replace(DEPARTMENT, 'DeptA').replace(OFFICE, 'OfficeQ');
  const attacked = new Map([...joined(kept, later)].map(([cell, value]) => [back(cell), value]));
  const narrowed = narrowedCells(directoryDomain(TENANT), attacked, 4, 2);
  t.same(narrowed, [], `G2/G3: hidden cells narrowed by the two releases: ${JSON.stringify(narrowed)}`);
});
