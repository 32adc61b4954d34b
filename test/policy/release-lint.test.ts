import t from 'tap';
import { decideReport } from '../../src/policy/decide.js';
import { findReport } from '../../src/catalogue/catalogue.js';
import { loadPolicySet, policySetFromFiles } from '../../src/policy/load.js';
import { lintRowReleases } from '../../src/policy/release-lint.js';
import { releaseRisk, type ReleasedTable } from '../../src/policy/release-risk.js';
import { SampleReports } from '../../src/policy/sample-reports.js';
import { emptyStats } from '../../src/sanitize/stats.js';

const sample = new SampleReports({ users: 250 });

const rowsPolicy = (extra = '', quasi = '[Assigned Products, Is Deleted]') => `name: licences
description: Licence rows.
consumers: [tool]
pseudonyms: { keyId: tool, epoch: 1 }
reports:
  getOffice365ActiveUserDetail:
    rows:
      User Principal Name: pseudonymize
      Is Deleted: keep
      Assigned Products: keep
      Teams Last Activity Date: { generalize: month }
    quasiIdentifiers: ${quasi}
${extra}`;

function setOf(text: string) {
  const result = policySetFromFiles(new Map([['p/licences.yaml', text]]));
  if (!result.ok) throw new Error(result.problems.map((p) => p.message).join('; '));
  return result.set;
}

t.test('release lint: a generalised date that is not a quasi-identifier is a warning naming it and the share of rows it singles out', async (t) => {
  const warnings = await lintRowReleases(setOf(rowsPolicy()), sample);
  t.equal(warnings.length, 1);
  t.match(warnings[0]!.message, /^warning: 'Teams Last Activity Date' \(generalised to a month\) is released but is not a declared quasi-identifier; with the quasi-identifiers \(Is Deleted, Assigned Products\) it singles out \d+\.\d% of released rows \(\d+ of \d+\)/);
  t.equal(warnings[0]!.position.line, 11, 'placed at the column in the file');
  const singled = Number(/\((\d+) of/.exec(warnings[0]!.message)![1]);
  t.ok(singled > 0, 'the month does single people out in the simulated tenant');
});

t.test('release lint: declaring it a quasi-identifier, or saying why it is not identifying, silences it', async (t) => {
  t.same(await lintRowReleases(setOf(rowsPolicy('', '[Assigned Products, Is Deleted, Teams Last Activity Date]')), sample), []);
  const reasoned = rowsPolicy().replace('    quasiIdentifiers', "    notIdentifying:\n      Teams Last Activity Date: Every licensed person used Teams this month; the month is the same for all.\n    quasiIdentifiers");
  t.same(await lintRowReleases(setOf(reasoned), sample), []);
  const wrong = policySetFromFiles(new Map([['p/l.yaml', rowsPolicy().replace('    quasiIdentifiers', '    notIdentifying:\n      Display Name: Not in the release at all, see above.\n    quasiIdentifiers')]]));
  t.notOk(wrong.ok, 'a reason for a column that is not released is an error');
});

t.test('release lint: a rare non-date value is a warning too; a column that singles nobody out is not', async (t) => {
  const warnings = await lintRowReleases(setOf(rowsPolicy('', '[Is Deleted]')), sample);
  t.ok(warnings.some((w) => /'Assigned Products' is released/.test(w.message)), 'licence combinations are rare');
});

t.test('the shipped policies pass the release lint', async (t) => {
  const result = await loadPolicySet('policies');
  t.ok(result.ok);
  if (result.ok) t.same((await lintRowReleases(result.set, sample)).map((w) => w.message), []);
});

t.test('single-date requests are denied unless a policy turns dates on', async (t) => {
  const report = findReport('getOffice365ActiveUserDetail')!;
  const unset = setOf(rowsPolicy('', '[Assigned Products, Is Deleted, Teams Last Activity Date]'));
  const decision = decideReport(unset.policyFor('tool'), { report, format: 'csv', date: '2026-11-01' });
  t.equal(decision.kind, 'denied');
  t.equal(decideReport(unset.policyFor('tool'), { report, format: 'csv', period: 'D30' }).kind, 'rows');
  const on = setOf(rowsPolicy('dates: true\n', '[Assigned Products, Is Deleted, Teams Last Activity Date]'));
  t.equal(decideReport(on.policyFor('tool'), { report, format: 'csv', date: '2026-11-01' }).kind, 'rows');
});

t.test('prosecutor risk: unique rows, rows in classes below k, highest and average risk', async (t) => {
  const table: ReleasedTable = {
    header: ['Pseudonym', 'A', 'B'],
    rows: [['p1', 'x', '1'], ['p2', 'x', '1'], ['p3', 'x', '1'], ['p4', 'y', '1'], ['p5', 'y', '2']],
    pseudonyms: ['Pseudonym'],
    stats: emptyStats(),
  };
  const risk = releaseRisk(table, 3);
  t.same(risk.quasiIdentifiers, ['A', 'B'], 'every released column except the pseudonym');
  t.equal(risk.equivalenceClasses, 3);
  t.equal(risk.uniqueRows, 2);
  t.equal(risk.belowKRows, 2);
  t.equal(risk.highestProsecutorRisk, 1);
  t.equal(risk.averageProsecutorRisk, 3 / 5);
  t.equal(releaseRisk(table, 3, ['A']).uniqueRows, 0);
});
