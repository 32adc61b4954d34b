/**
 * One place for policy defaults: `resolvePolicy` fills in every default of the schema at validation, and every
 * reader (the decision, explain, the disclosure page, diff) sees the same resolved values, so what a surface
 * says about a policy without `periods` or `k` is what the proxy enforces.
 */
import t from 'tap';
import { findReport } from '../../src/catalogue/catalogue.js';
import { decideReport } from '../../src/policy/decide.js';
import { diffPolicySets, diffSummary } from '../../src/policy/diff.js';
import { disclosureOf } from '../../src/policy/disclosure.js';
import { explainReport } from '../../src/policy/explain.js';
import { policySetFromFiles, type PolicySet } from '../../src/policy/load.js';
import { POLICY_SCHEMA, resolvePolicy } from '../../src/policy/schema.js';
import { bandLabels, bander } from '../../src/sanitize/generalize.js';

const MINIMAL = 'name: copilot\ndescription: A Copilot tool.\nconsumers: [tool]\nreports:\n  getMicrosoft365CopilotUsageUserDetail:\n    rows: { Last Activity Date: keep }\n';

function setOf(text: string): PolicySet {
  const result = policySetFromFiles(new Map([['p/copilot.yaml', text]]));
  if (!result.ok) throw new Error(result.problems.map((p) => p.message).join('; '));
  return result.set;
}

t.test('resolvePolicy fills in exactly the defaults the schema writes, and keeps what the file says', async (t) => {
  const resolved = resolvePolicy({ name: 'p', description: 'd', consumers: ['c'], reports: { getMailboxUsageDetail: { rows: { 'Storage Used (Byte)': 'keep' } }, getEmailActivityCounts: 'deny' } });
  const s = POLICY_SCHEMA.properties;
  t.same(
    { k: resolved.k, kC: resolved.kC, kOrg: resolved.kOrg, formats: resolved.formats, periods: resolved.periods, dates: resolved.dates, permissions: resolved.permissions },
    { k: s.k.default, kC: s.kC.default, kOrg: s.kOrg.default, formats: s.formats.default, periods: s.periods.default, dates: s.dates.default, permissions: s.permissions.default },
  );
  t.same(resolved.reports.getMailboxUsageDetail, { rows: { 'Storage Used (Byte)': 'keep' }, quasiIdentifiers: [] });
  t.equal(resolved.reports.getEmailActivityCounts, 'deny');
  const explicit = resolvePolicy({ name: 'p', description: 'd', consumers: ['c'], k: 7, periods: ['ALL'], dates: true, reports: {} });
  t.same([explicit.k, explicit.periods, explicit.dates], [7, ['ALL'], true]);
});

t.test('a policy without periods: the proxy, explain, the disclosure and diff all mean D7..D180, never ALL', async (t) => {
  const set = setOf(MINIMAL);
  const report = findReport('getMicrosoft365CopilotUsageUserDetail')!;
  const loaded = set.policyFor('tool');
  t.equal(decideReport(loaded, { report, format: 'json', period: 'ALL' }).kind, 'denied', 'ALL is not released unless listed');
  t.equal(decideReport(loaded, { report, format: 'json', period: 'D180' }).kind, 'rows');
  t.match(explainReport(loaded!.policy, report.name).join('\n'), /for periods D7, D30, D90, D180$/m);
  t.same(disclosureOf(set).consumers[0]!.periods, ['D7', 'D30', 'D90', 'D180']);
  // Listing ALL releases more than the default did, so diff must say so (it once assumed ALL was the default).
  const withAll = setOf(MINIMAL.replace('reports:', 'periods: [D7, D30, D90, D180, ALL]\nreports:'));
  t.same(diffSummary(diffPolicySets(set, withAll)).lines, ['+ tool: period ALL newly allowed']);
});

t.test('bands are worded once: released cells and the prose share the ranges, only the open top band differs', async (t) => {
  t.same(bandLabels([50, 0, 10]), ['0-9', '10-49', '50+']);
  t.same(bandLabels([50, 0, 10], ' or more'), ['0-9', '10-49', '50 or more']);
  const band = bander([50, 0, 10]);
  t.same([band(7), band(10), band(80), band(-1)], ['0-9', '10-49', '50+', '<0']);
});
