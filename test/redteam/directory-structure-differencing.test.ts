/**
 * Red team: the attacker's programme ignores what the directory tells the attacker (privacy.md threat model:
 * consumers "know who is in which department"), so a table is checked as if every cut of the organisation
 * shared nothing and every empty cross cell could hold anyone. When a department's people all sit in one office,
 * that office's cell is the sum of department cells: London = Sales + Legal. Legal (6 people, 2 of them inactive)
 * is suppressed for G2, but London and Sales are released exactly, so London - Sales gives Legal's users and
 * active users exactly (G2 and G3 broken). Likewise Berlin, whose only department is HR, gives HR's
 * secondarily suppressed cell exactly. It holds with `department x officeLocation` declared too (the LP does not
 * know that Legal | Paris is empty; the attacker does), and across two colluding consumers, one reading
 * departments and one offices, each table checked alone.
 * Exact (suppression-only) cohorts are an honest option in the README; with noise the same difference is noisy.
 */
import t, { type Test } from 'tap';
import { ConsumerKeys } from '../../src/server/consumer-keys.js';
import { KEYS, type ProxyUnderTest } from '../helpers/proxy-stack.js';
import { cellsOf, craftedTeams, exactPolicy, proxyWith, TEAMS, type Cell } from './crafted-teams.js';

const GROUPS = [
  { department: 'Sales', office: 'London', people: 20, inactive: 5 },
  { department: 'Legal', office: 'London', people: 6, inactive: 2 },
  { department: 'Engineering', office: 'Paris', people: 20, inactive: 0 },
  { department: 'HR', office: 'Berlin', people: 10, inactive: 5 },
  { department: 'Operations', office: 'Remote', people: 5, inactive: 0 },
];

const cohorts = async (proxy: ProxyUnderTest, by: string, key: string) => {
  const res = await proxy.get(`/cohorts/${TEAMS}?period=D30&by=${by}&format=json`, key);
  if (res.status !== 200) throw new Error(`${res.status} ${res.body.toString()}`);
  return cellsOf(res.body);
};

/** What the attacker computes, knowing from the directory that London's people are exactly Sales and Legal. */
function legalFromLondon(t: Test, legal: Cell, london: Cell, sales: Cell, hr: Cell, berlin: Cell): void {
  t.equal(legal.users, null, 'Legal (6 people, 2 inactive) is suppressed, as G2 requires');
  if (london.users !== null && sales.users !== null && london.activeUsers !== null && sales.activeUsers !== null) {
    const users = london.users - sales.users;
    const inactive = users - (london.activeUsers - sales.activeUsers);
    t.comment(`London ${london.users} users/${london.activeUsers} active - Sales ${sales.users}/${sales.activeUsers} = Legal ${users} users, ${inactive} inactive`);
    t.ok(inactive === 0 || inactive >= 5, `G2: Legal's inactive count read off London - Sales must not be 1..k_c-1 (got ${inactive} of ${users})`);
    t.fail(`G3: Legal's suppressed cell is pinned exactly (${users} users, ${users - inactive} active) by London - Sales`);
  } else {
    t.pass('London or Sales is suppressed: the difference is not released');
  }
  t.ok(hr.users !== null || berlin.users === null, `G3: HR is suppressed, yet Berlin (HR's only office, HR its only department) releases it: ${berlin.users} users, ${berlin.activeUsers} active`);
}

t.test('one exact release by [organization, department, officeLocation]', async (t) => {
  const { csv, directory } = await craftedTeams(GROUPS);
  const proxy = await proxyWith(t, { [TEAMS]: csv }, directory, { 'exact.yaml': exactPolicy('exact', 'no-policy', 'organization, department, officeLocation') });
  const c = await cohorts(proxy, 'department,officeLocation', KEYS.stranger);
  legalFromLondon(t, c.get('department/Legal')!, c.get('officeLocation/London')!, c.get('department/Sales')!, c.get('department/HR')!, c.get('officeLocation/Berlin')!);
});

t.test('the same with department x officeLocation declared: empty cross cells are known to the attacker, not to the LP', async (t) => {
  const { csv, directory } = await craftedTeams(GROUPS);
  const by = 'organization, department, officeLocation, department x officeLocation';
  const proxy = await proxyWith(t, { [TEAMS]: csv }, directory, { 'exact.yaml': exactPolicy('exact', 'no-policy', by) });
  const c = await cohorts(proxy, 'department,officeLocation', KEYS.stranger);
  legalFromLondon(t, c.get('department/Legal')!, c.get('officeLocation/London')!, c.get('department/Sales')!, c.get('department/HR')!, c.get('officeLocation/Berlin')!);
});

t.test('two colluding consumers: one reads departments, the other offices, each table checked alone', async (t) => {
  const { csv, directory } = await craftedTeams(GROUPS);
  const A = 'gpp_test-colluder-a-key-000000000000000000000000000';
  const B = 'gpp_test-colluder-b-key-000000000000000000000000000';
  const keys = ConsumerKeys.of({ 'colluder-a': A, 'colluder-b': B, 'adoption-dashboard': KEYS.vendor, 'licence-tool': KEYS.licence });
  const proxy = await proxyWith(t, { [TEAMS]: csv }, directory, {
    'a.yaml': exactPolicy('by-department', 'colluder-a', 'organization, department'),
    'b.yaml': exactPolicy('by-office', 'colluder-b', 'organization, officeLocation'),
  }, keys);
  const a = await cohorts(proxy, 'organization,department', A);
  const b = await cohorts(proxy, 'organization,officeLocation', B);
  legalFromLondon(t, a.get('department/Legal')!, b.get('officeLocation/London')!, a.get('department/Sales')!, a.get('department/HR')!, b.get('officeLocation/Berlin')!);
});
