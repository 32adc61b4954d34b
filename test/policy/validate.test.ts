import t from 'tap';
import { formatProblem, validatePolicyText } from '../../src/policy/validate.js';

const VALID = `name: licence-tool
description: The licence tool sees pseudonymised rows and no activity counts.
consumers: [licence-tool]
k: 7
formats: [csv, json]
periods: [D7, D30]
dates: false
pseudonyms: { keyId: lic-2026, epoch: 1 }
reports:
  getOffice365ActiveUserDetail:
    rows:
      User Principal Name: pseudonymize
      Assigned Products: keep
      Teams License Assign Date: { generalize: month }
      Storage Used (Byte): { generalize: { bands: [0, 1000000, 1000000000] } }
    quasiIdentifiers: [Assigned Products, Teams License Assign Date]
  getTeamsUserActivityUserDetail:
    cohort:
      by: [department, department x officeLocation]
      metrics: { Team Chat Message Count: { clip: 500 } }
  getMailboxUsageDetail: deny
`;

/** The problems of a policy made by replacing one line of VALID. */
function problemsOf(from: string, to: string, file = 'policies/p.yaml') {
  if (!VALID.includes(from)) throw new Error(`fixture has no '${from}'`);
  const result = validatePolicyText(file, VALID.replace(from, to));
  return result.ok ? [] : result.problems.map(formatProblem);
}

t.test('a complete policy validates, typed from the schema', async (t) => {
  const result = validatePolicyText('policies/licence.yaml', VALID);
  t.ok(result.ok);
  if (result.ok) {
    t.equal(result.policy.k, 7);
    t.same(result.policy.consumers, ['licence-tool']);
    t.equal(result.policy.reports.getMailboxUsageDetail, 'deny');
  }
});

t.test('each schema rule is enforced, with file:line:column, the value and what is allowed', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['k: 7', 'k: 1', /^policies\/p\.yaml:4:4: 'k' is 1; it must be at least 2$/],
    ['k: 7', 'k: 2.5', /:4:4: 'k' must be integer/],
    ['k: 7', 'kC: 1', /:4:5: 'kC' is 1; it must be at least 2$/],
    ['k: 7', 'kOrg: 100000', /:4:7: 'kOrg' is 100000; it must be at most 1000$/],
    ['periods: [D7, D30]', 'periods: [D7, D8]', /:6:15: 'periods\.1' is "D8"; allowed: D7, D30, D90, D180, ALL$/],
    ['formats: [csv, json]', 'formats: [csv, xml]', /:5:16: 'formats\.1' is "xml"; allowed: csv, json$/],
    ['dates: false', 'dates: sometimes', /:7:8: 'dates' must be boolean/],
    ['consumers: [licence-tool]', 'consumers: [Licence Tool]', /:3:13: 'consumers\.0' is "Licence Tool"; use lower-case/],
    ['consumers: [licence-tool]', 'consumers: []', /:3:12: 'consumers' must NOT have fewer than 1 items/],
    ['name: licence-tool', 'nmae: licence-tool', /:1:1: unknown setting 'nmae' in the policy/],
    ['      User Principal Name: pseudonymize', '      User Principal Name: hash', /:12:28: 'reports\.getOffice365ActiveUserDetail\.rows\.User Principal Name' is "hash"; allowed: keep, drop, pseudonymize$/],
    ['{ generalize: month }', '{ generalize: year }', /:14:48: .*generalize' is "year"; allowed: week, month$/],
    ['    quasiIdentifiers:', '    quasiIdentifers:', /:16:5: unknown setting 'quasiIdentifers' in 'reports\.getOffice365ActiveUserDetail'$/],
    ['      by: [department, department x officeLocation]', '      groupBy: [department]', /:19:7: unknown setting 'groupBy'/],
    ['{ clip: 500 }', '{ clip: 0 }', /:20:51: .*clip' must be > 0/],
    ['  getMailboxUsageDetail: deny', '  getMailboxUsageDetail: allow', /:21:26: 'reports\.getMailboxUsageDetail' is "allow"; allowed: deny$/],
    ['pseudonyms: { keyId: lic-2026, epoch: 1 }', 'pseudonyms: { keyId: lic-2026, secret: abc }', /:8:1: 'pseudonyms' is missing 'epoch'/],
    ['pseudonyms: { keyId: lic-2026, epoch: 1 }', 'pseudonyms: { keyId: lic-2026, epoch: 0 }', /:8:39: 'pseudonyms\.epoch' is 0; it must be at least 1$/],
    ['dates: false', 'permissions: [rows]', /:7:15: 'permissions\.0' is "rows"; allowed: score, preview$/],
    ['    quasiIdentifiers: [Assigned Products, Teams License Assign Date]', '    allowClearIdentifiers: { reason: because }', /:16:38: .*reason' must NOT have fewer than 10 characters/],
    ['[0, 1000000, 1000000000]', '[0, 0]', /bands' must NOT have duplicate items/],
    ['description: The licence tool sees pseudonymised rows and no activity counts.', 'description: ""', /:2:14: 'description' must NOT have fewer than 1 characters/],
  ];
  for (const [from, to, expected] of cases) {
    const problems = problemsOf(from, to);
    t.ok(problems.some((p) => expected.test(p)), `${to.trim()} -> ${problems.join(' | ') || 'no problem found'}`);
  }
});

t.test('a rows rule with a mistake is not also blamed for not being a cohort rule', async (t) => {
  const problems = problemsOf('Assigned Products: keep', 'Assigned Products: show');
  t.equal(problems.length, 1, problems.join('\n'));
  t.notMatch(problems.join('\n'), /cohort|constant/);
  for (const [from, to] of [
    ['{ generalize: month }', '{ generalize: year }'],
    ['  getMailboxUsageDetail: deny', '  getMailboxUsageDetail: allow'],
    ['{ clip: 500 }', '{ clip: 0 }'],
  ]) {
    const single = problemsOf(from!, to!);
    t.equal(single.length, 1, `${to!.trim()}: ${single.join(' | ')}`);
  }
});

t.test('every problem is listed, not just the first', async (t) => {
  const result = validatePolicyText('p.yaml', 'name: Bad Name\nconsumers: []\nk: 0\nreports: {}\n');
  t.notOk(result.ok);
  if (!result.ok) {
    const text = result.problems.map(formatProblem).join('\n');
    t.match(text, /missing 'description'/);
    t.match(text, /'name' is "Bad Name"/);
    t.match(text, /'consumers' must NOT have fewer than 1 items/);
    t.match(text, /'k' is 0; it must be at least 2/);
  }
});

t.test('syntax errors come back as located problems, for YAML and JSON', async (t) => {
  const yaml = validatePolicyText('p.yaml', 'name: x\nname: y\n');
  t.notOk(yaml.ok);
  if (!yaml.ok) t.match(formatProblem(yaml.problems[0]!), /^p\.yaml:2:1: /);
  const json = validatePolicyText('p.json', '{"name": "x",}');
  t.notOk(json.ok);
  if (!json.ok) t.match(formatProblem(json.problems[0]!), /^p\.json:1:\d+: not valid JSON/);
  const ok = validatePolicyText('p.json', JSON.stringify({ name: 'deny-all', description: 'Nothing for anyone.', consumers: ['x'], reports: {} }));
  t.ok(ok.ok, 'a JSON policy validates like a YAML one');
});
