import t from 'tap';
import { closest, lintPolicy, lintPolicySet } from '../../src/policy/lint.js';
import { formatProblem, validatePolicyText } from '../../src/policy/validate.js';

function lint(yaml: string, file = 'policies/p.yaml'): string[] {
  const result = validatePolicyText(file, yaml);
  if (!result.ok) throw new Error(`fixture does not validate: ${result.problems.map(formatProblem).join('; ')}`);
  return lintPolicy(result.policy, result.source).map(formatProblem);
}

const head = 'name: p\ndescription: A test policy.\nconsumers: [tool]\npseudonyms: { keyId: k1, epoch: 1 }\nreports:\n';

t.test('a sound policy has no lint findings; CSV headers and JSON names are both accepted', async (t) => {
  t.same(lint(`${head}  getEmailActivityUserDetail:
    rows:
      User Principal Name: pseudonymize
      sendCount: keep
      Last Activity Date: { generalize: week }
    quasiIdentifiers: [lastActivityDate]
  getTeamsUserActivityUserDetail:
    cohort:
      by: [organization, department x officeLocation, Is Licensed]
      metrics: { Call Count: { clip: 100 } }
  getMailboxUsageDetail: deny
`), []);
});

t.test('unknown report and column names are errors with a suggestion and a position', async (t) => {
  const problems = lint(`${head}  getEmailActivityUserDetial: deny
  getEmailActivityUserDetail:
    rows:
      userPrincipleName: pseudonymize
      Favourite Colour: keep
`);
  t.match(problems[0], /^policies\/p\.yaml:6:3: unknown report 'getEmailActivityUserDetial' - did you mean 'getEmailActivityUserDetail'\?$/);
  t.match(problems[1], /^policies\/p\.yaml:9:7: unknown column 'userPrincipleName' in report getEmailActivityUserDetail - did you mean 'userPrincipalName'\?$/);
  t.match(problems[2], /:10:7: unknown column 'Favourite Colour' in report getEmailActivityUserDetail$/, 'no far-fetched suggestion');
  t.equal(problems.length, 3);
});

t.test('identifier columns kept in clear need allowClearIdentifiers with a reason', async (t) => {
  const rule = '  getEmailActivityUserDetail:\n    rows:\n      User Principal Name: keep\n';
  t.match(lint(`${head}${rule}`).join('\n'), /:8:28: 'User Principal Name' identifies people.*allowClearIdentifiers/);
  t.same(lint(`${head}${rule}    allowClearIdentifiers: { reason: The helpdesk tool must reach the user it reports on. }\n`), []);
  t.match(lint(`${head}  getEmailActivityUserDetail:\n    rows:\n      sendCount: keep\n    allowClearIdentifiers: { reason: Not actually needed here at all. }\n`).join('\n'), /allowClearIdentifiers is set but no identifier column is kept/);
});

t.test('rules that cannot apply are errors', async (t) => {
  const problems = lint(`${head}  getEmailActivityUserDetail:
    rows:
      User Principal Name: pseudonymize
      userPrincipalName: drop
      Send Count: { generalize: month }
      Last Activity Date: { generalize: { bands: [0, 10] } }
      Read Count: pseudonymize
      Is Deleted: drop
    quasiIdentifiers: [Is Deleted, Assigned Products]
  getEmailActivityCounts:
    cohort:
      by: [departmnet, Report Date]
      metrics: { Report Date: { clip: 1 } }
`).join('\n');
  t.match(problems, /:9:7: column 'userPrincipalName' is already named as 'User Principal Name'/);
  t.match(problems, /'Send Count' is not a date, so it cannot be generalized to a month/);
  t.match(problems, /'Last Activity Date' is not a number, so it cannot be put into bands/);
  t.match(problems, /only identifier columns can be pseudonymized; 'Read Count' is a metric column/);
  t.match(problems, /quasi-identifier 'Is Deleted' is not released by this rule \(it is dropped\)/);
  t.match(problems, /quasi-identifier 'Assigned Products' is not released by this rule \(it is not named under rows\)/);
  t.match(problems, /cohort rules apply to per-user reports; getEmailActivityCounts is a counts report/);
  t.match(problems, /unknown cohort dimension 'departmnet' - did you mean 'department'\?/);
  t.match(problems, /'Report Date' is not a metric, so it cannot be summed/);
});

t.test('pseudonymizing needs a named pseudonym key', async (t) => {
  const noKey = 'name: p\ndescription: A test policy.\nconsumers: [tool]\nreports:\n  getEmailActivityUserDetail:\n    rows:\n      User Principal Name: pseudonymize\n';
  t.match(lint(noKey).join('\n'), /no pseudonym key is named/);
});

t.test('a consumer and a policy name belong to exactly one policy in a set', async (t) => {
  const load = (file: string, text: string) => {
    const r = validatePolicyText(file, text);
    if (!r.ok) throw new Error('fixture invalid');
    return { policy: r.policy, source: r.source };
  };
  const a = load('policies/a.yaml', 'name: vendor\ndescription: A.\nconsumers: [acme, globex]\nreports: {}\n');
  const b = load('policies/b.yaml', 'name: vendor\ndescription: B.\nconsumers: [initech, globex]\nreports: {}\n');
  const problems = lintPolicySet([a, b]).map(formatProblem);
  t.same(problems, [
    "policies/b.yaml:1:7: policy name 'vendor' is already used in policies/a.yaml",
    "policies/b.yaml:3:22: consumer 'globex' is already governed by policies/a.yaml (policy 'vendor'); a consumer has exactly one policy",
  ]);
  t.same(lintPolicySet([a]), []);
});

t.test('suggestions are offered only for near misses', async (t) => {
  t.equal(closest('userPrincipleName', ['userPrincipalName', 'displayName']), 'userPrincipalName');
  t.equal(closest('colour', ['userPrincipalName', 'displayName']), undefined);
});

t.test('a cohort rule on a per-user report without a User Principal Name column is an error, not a 500 at request time', async (t) => {
  const problems = lint(`${head}  getOneDriveUsageAccountDetail:\n    cohort:\n      by: [organization]\n`).join('\n');
  t.match(problems, /cohorts count people by their User Principal Name, which getOneDriveUsageAccountDetail does not have/);
});

t.test('noise whose margin dwarfs the figures is an error; over half of k a warning; clips whole; one form only', async (t) => {
  const noisy = (noise: string, k = 10, clip = '100') => `name: p\ndescription: A test policy.\nconsumers: [tool]\nk: ${k}\nprivacyBudget: { epsilonPerYear: 100 }\nreports:
  getTeamsUserActivityUserDetail:
    cohort:
      by: [organization, department, officeLocation]
      metrics: { Call Count: { clip: ${clip} } }
      noise: ${noise}
`;
  t.same(lint(noisy('{ margin95: 5 }')), [], 'a margin of 5 people for groups of at least 10');
  const dwarfing = lint(noisy('{ epsilon: 1 }'));
  t.equal(dwarfing.length, 1);
  t.match(dwarfing[0], /:11:7: the noise's 95% margin for counts is ±18 people, as large as the smallest group shown \(k = 10\): its figures would be noise; ask for a smaller margin95 \(or a larger epsilon, now 1\)/, 'epsilon 1 over 2 dimensions x 3 measures: scale 6, margin ±18');
  t.match(lint(noisy('{ margin95: 10 }')), [/as large as the smallest group shown/], 'a margin of k itself');
  t.match(lint(noisy('{ margin95: 5 }', 10, '2.5')), [/:10:32: with noise, a clip is a whole number \(2\.5 is not\)/]);
  t.match(lint(noisy('{ epsilon: 2, margin95: 5 }')), [/noise states exactly one of epsilon .* and margin95/]);
  t.match(lint(noisy('{}')), [/noise states exactly one of epsilon .* and margin95/]);

  const { policySetFromFiles } = await import('../../src/policy/load.js');
  const { noiseWarnings } = await import('../../src/policy/noise-lint.js');
  const set = (noise: string) => {
    const result = policySetFromFiles(new Map([['p/p.yaml', noisy(noise)]]));
    if (!result.ok) throw new Error(result.problems.map(formatProblem).join('; '));
    return result.set;
  };
  t.same(noiseWarnings(set('{ margin95: 5 }')).map(formatProblem), []);
  t.match(noiseWarnings(set('{ margin95: 6 }')).map(formatProblem), [/^p\/p\.yaml:11:7: warning: getTeamsUserActivityUserDetail: the noise's 95% margin for counts is ±6 people, over half the smallest group shown \(k = 10\)/]);
});

t.test('one check lists every problem: a consumer named by two files is reported even where one of them has other problems (before, only after they were fixed)', async (t) => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { loadPolicySet } = await import('../../src/policy/load.js');
  const dir = await mkdtemp(join(tmpdir(), 'policies-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'a.yaml'), 'name: a\ndescription: A dashboard.\nconsumers: [tool-a]\nreports:\n  getEmailActivityUserDetail:\n    cohort: { by: [organization, departement] }\n');
  await writeFile(join(dir, 'b.yaml'), 'name: b\ndescription: A licence tool.\nconsumers: [tool-a]\nreports: {}\n');
  const result = await loadPolicySet(dir);
  t.notOk(result.ok);
  const problems = result.ok ? [] : result.problems.map(formatProblem);
  t.match(problems.join('\n'), /a\.yaml:6:34: unknown cohort dimension 'departement' - did you mean 'department'\?/);
  t.match(problems.join('\n'), /b\.yaml:3:13: consumer 'tool-a' is already governed by .*a\.yaml \(policy 'a'\); a consumer has exactly one policy/);
});

t.test('problems are placed at the setting that causes them, and say how to fix it (before: a missing key or budget at 1:1, an unknown dimension without the allowed ones)', async (t) => {
  const noKey = 'name: p\ndescription: A test policy.\nconsumers: [tool]\nreports:\n  getEmailActivityUserDetail:\n    rows:\n      Report Refresh Date: keep\n      User Principal Name: pseudonymize\n';
  t.match(lint(noKey), ["policies/p.yaml:8:28: columns are pseudonymized but no pseudonym key is named; add pseudonyms: { keyId: ..., epoch: 1 } at the top level of the policy (keyId: a key id the proxy holds in GPP_PSEUDONYM_KEYS)"]);
  const noBudget = 'name: p\ndescription: A test policy.\nconsumers: [tool]\nk: 10\nreports:\n  getEmailActivityUserDetail:\n    cohort:\n      by: [organization, office]\n      noise: { margin95: 4 }\n';
  const problems = lint(noBudget).join('\n');
  t.match(problems, /policies\/p\.yaml:8:26: unknown cohort dimension 'office'; a dimension is one of organization, licenceClass, department, officeLocation, .*, or a cross of them such as 'department x officeLocation'/);
  t.match(problems, /policies\/p\.yaml:9:7: cohorts are released with noise but no privacy budget is set; add privacyBudget: \{ epsilonPerYear: \.\.\. \} at the top level of the policy/);
});
