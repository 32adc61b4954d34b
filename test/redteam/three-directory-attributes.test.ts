/**
 * Red team (item 1 of the structural check): a table by four directory attributes (department, officeLocation,
 * country, companyName) where the directory ties them: Legal (6 people, 2 inactive) sits in London alone, London
 * is the United Kingdom's only office, and Legal alone is the company 'Contoso Legal'. The attacker knows all of
 * it and looks for two released cells whose difference is Legal (London - Sales, United Kingdom - Sales,
 * organisation - Contoso - outsiders) or HR (Berlin, Germany: HR alone). The check builds the hidden cross of the
 * four attributes and refuses none of it (no 409): every such pair has a suppressed side.
 */
import t from 'tap';
import { KEYS } from '../helpers/proxy-stack.js';
import { cellsOf, craftedTeams, proxyWith, TEAMS } from './crafted-teams.js';

t.setTimeout(60_000);

const GROUPS = [
  { department: 'Sales', office: 'London', people: 20, inactive: 5 },
  { department: 'Legal', office: 'London', people: 6, inactive: 2 },
  { department: 'Engineering', office: 'Paris', people: 20, inactive: 0 },
  { department: 'HR', office: 'Berlin', people: 10, inactive: 5 },
  { department: 'Operations', office: 'Remote', people: 5, inactive: 0 },
  { department: 'Guests', office: '-', people: 12, inactive: 0 },
];
const COUNTRY: Record<string, string> = { London: 'United Kingdom', Paris: 'France', Berlin: 'Germany' };

t.test('department, office, country and company: no released pair differs by Legal or HR alone', async (t) => {
  const { csv, directory } = await craftedTeams(GROUPS);
  const users = (directory as { value: Record<string, string>[] }).value;
  // Guests are in the report, not in the directory; Remote has no country ('(none)').
  const edited = { value: users.filter((u) => u.department !== 'Guests').map((u) => ({ ...u, country: COUNTRY[u.officeLocation!] ?? '', companyName: u.department === 'Legal' ? 'Contoso Legal' : 'Contoso' })) };
  const proxy = await proxyWith(t, { [TEAMS]: csv }, edited, {
    'exact.yaml': `name: exact\ndescription: Exact Teams cohorts by four directory attributes.\nconsumers: [no-policy]\nk: 5\nkC: 5\nperiods: [D30]\nformats: [csv, json]\nreports:\n  ${TEAMS}:\n    cohort:\n      by: [organization, department, officeLocation, country, companyName]\n`,
  });
  const res = await proxy.get(`/cohorts/${TEAMS}?period=D30&format=json`, KEYS.stranger);
  t.equal(res.status, 200, 'the table is verified and released, not refused');
  const c = cellsOf(res.body);
  const released = (key: string) => c.get(key)!.users !== null;
  t.comment([...c.values()].map((x) => `${x.dimension}/${x.cohort} ${x.users}/${x.activeUsers}`).join('; '));
  t.notOk(released('department/Legal'), 'Legal (2 of 6 inactive) is suppressed (G2)');
  t.notOk(released('companyName/Contoso Legal'), 'so is the company that is Legal alone');
  for (const total of ['officeLocation/London', 'country/United Kingdom']) {
    t.notOk(released(total) && released('department/Sales'), `${total} - Sales is not released (it is Legal)`);
  }
  t.notOk(released('organization/all') && released('companyName/Contoso') && released('department/(not in directory)'), 'organisation - Contoso - outsiders is not released (it is Legal)');
  t.notOk(released('department/HR'), 'HR (5 of 10 inactive) is suppressed here');
  t.notOk(released('officeLocation/Berlin') || released('country/Germany'), 'Berlin and Germany, HR alone, are suppressed with it');
});
