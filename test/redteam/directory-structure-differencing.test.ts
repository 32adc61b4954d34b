/**
 * Red team: the attacker's programme ignores what the directory tells the attacker (privacy.md threat model:
 * consumers "know who is in which department"), so a table declared `by: [organization, department,
 * officeLocation]` (no cross) is checked as two cuts of the organisation that share nothing. When a department's
 * people all sit in one office, an office cell is the sum of known department cells: London = Sales + Legal.
 * Legal (6 people, 2 of them inactive) is suppressed for G2, but London and Sales are released exactly, so
 * London - Sales gives Legal's users and active users exactly (G2 and G3 broken by one request). Likewise Berlin,
 * whose only department is HR, gives HR's secondarily suppressed cell exactly.
 * Exact (suppression-only) cohorts are an honest option in the README; the attack needs no noise-free org total.
 */
import t from 'tap';
import { KEYS } from '../helpers/proxy-stack.js';
import { cellsOf, craftedTeams, proxyWith, TEAMS } from './crafted-teams.js';

const GROUPS = [
  { department: 'Sales', office: 'London', people: 20, inactive: 5 },
  { department: 'Legal', office: 'London', people: 6, inactive: 2 },
  { department: 'Engineering', office: 'Paris', people: 20, inactive: 0 },
  { department: 'HR', office: 'Berlin', people: 10, inactive: 5 },
  { department: 'Operations', office: 'Remote', people: 5, inactive: 0 },
];

const EXACT_POLICY = `name: exact-cohorts
description: Exact Teams cohorts per department and office, protected by suppression alone.
consumers: [no-policy]
k: 5
kC: 5
periods: [D30]
formats: [csv, json]
reports:
  ${TEAMS}:
    cohort:
      by: [organization, department, officeLocation]
`;

t.test('G2/G3: an office that holds whole departments gives away a suppressed department exactly', async (t) => {
  const { csv, directory } = await craftedTeams(GROUPS);
  const proxy = await proxyWith(t, { [TEAMS]: csv }, directory, { 'exact-cohorts.yaml': EXACT_POLICY });
  const res = await proxy.get(`/cohorts/${TEAMS}?period=D30&by=department,officeLocation&format=json`, KEYS.stranger);
  t.equal(res.status, 200);
  const cells = cellsOf(res.body);
  const legal = cells.get('department/Legal')!;
  t.equal(legal.users, null, 'Legal (6 people, 2 inactive) is suppressed, as G2 requires');
  const london = cells.get('officeLocation/London')!;
  const sales = cells.get('department/Sales')!;
  // What the attacker computes, knowing from the directory that London's people are exactly Sales and Legal.
  if (london.users !== null && sales.users !== null && london.activeUsers !== null && sales.activeUsers !== null) {
    const users = london.users - sales.users;
    const inactive = users - (london.activeUsers - sales.activeUsers);
    t.comment(`London ${london.users}/${london.activeUsers} active - Sales ${sales.users}/${sales.activeUsers} active = Legal ${users} users, ${inactive} inactive`);
    t.ok(inactive === 0 || inactive >= 5, `G2: Legal's inactive count read off London - Sales must not be 1..k_c-1 (got ${inactive} of ${users})`);
    t.fail(`G3: Legal's suppressed cell is pinned exactly (${users} users, ${users - inactive} active) by London - Sales`);
  } else {
    t.pass('London or Sales is suppressed: the difference is not released');
  }
  const berlin = cells.get('officeLocation/Berlin')!;
  const hr = cells.get('department/HR')!;
  t.ok(hr.users !== null || berlin.users === null, `G3: HR is suppressed, yet Berlin (HR's only office, HR its only department) releases it: ${berlin.users} users, ${berlin.activeUsers} active`);
});
