import t from 'tap';
import { diffPolicySets, diffSummary } from '../../src/policy/diff.js';
import { policySetFromFiles, type PolicySet } from '../../src/policy/load.js';
import { readFileSync } from 'node:fs';

const LICENCE = readFileSync('policies/licence-management.yaml', 'utf8');
/** The vendor policy's noisy example, so that noise changes are diffed too (the shipped one is exact). */
const VENDOR = readFileSync('policies/examples/vendor-dashboard-noisy.yaml', 'utf8');

function setOf(files: Record<string, string>): PolicySet {
  const result = policySetFromFiles(new Map(Object.entries(files).map(([n, text]) => [`p/${n}`, text])));
  if (!result.ok) throw new Error(result.problems.map((p) => p.message).join('; '));
  return result.set;
}

const shipped = setOf({ 'licence.yaml': LICENCE, 'vendor.yaml': VENDOR });

t.test('diff: identical sets have no changes; a description edit is an "other" change, not exposure', async (t) => {
  t.same(diffPolicySets(shipped, shipped), []);
  const reworded = setOf({ 'licence.yaml': LICENCE, 'vendor.yaml': VENDOR.replace('The adoption dashboard from', 'The dashboard from') });
  t.same(diffSummary(diffPolicySets(shipped, reworded)).lines, ['~ adoption-dashboard: description changed (the disclosure page says it)']);
});

t.test('diff: exposure increases come first, per consumer and report', async (t) => {
  const looser = setOf({
    'licence.yaml': LICENCE.replace('      Is Deleted: keep', '      Is Deleted: keep\n      Report Refresh Date: keep').replace('periods: [D30, D90]', 'periods: [D7, D30]').replace('dates: false', 'dates: true'),
    'vendor.yaml': VENDOR.replace('k: 10', 'k: 12').replace('by: [organization, department]\n      metrics:\n        Send Count', 'by: [organization, department, officeLocation]\n      metrics:\n        Send Count').replace('noise: { margin95: 5 }\n  getOneDrive', 'noise: { margin95: 4 }\n  getOneDrive'),
  });
  const summary = diffSummary(diffPolicySets(shipped, looser));
  t.same(summary.lines, [
    '+ adoption-dashboard getEmailActivityUserDetail: newly grouped by officeLocation',
    '+ adoption-dashboard getEmailActivityUserDetail: noise margin ±5 -> margin ±4 (less noise: epsilon per release 2.153 -> 5.232, with department, officeLocation)',
    '+ licence-tool: period D7 newly allowed',
    '+ licence-tool: single-date requests newly allowed',
    "+ licence-tool getOffice365ActiveUserDetail: 'Report Refresh Date' in clear (was not released)",
    '- adoption-dashboard: k 10 -> 12',
    '- licence-tool: period D90 no longer allowed',
  ]);
  t.equal(summary.more, 5);
  t.equal(summary.less, 2);
});

t.test('diff: a new tool, a withdrawn report, a column hidden, a quasi-identifier added, k lowered', async (t) => {
  const onboarding = readFileSync('policies/default-deny.yaml', 'utf8');
  const changed = setOf({
    'licence.yaml': LICENCE.replace('      Teams Last Activity Date: { generalize: month }\n', '').replace('      - Teams Last Activity Date\n', '').replace('dates: false', 'dates: false\nk: 3'),
    'vendor.yaml': VENDOR.replace(/  getOneDriveActivityUserDetail:[\s\S]*$/, ''),
    'deny.yaml': onboarding.replace('reports: {}', 'reports:\n  getEmailActivityCounts:\n    rows: { Send: keep }'),
  });
  const lines = diffSummary(diffPolicySets(shipped, changed)).lines;
  t.same(lines, [
    "+ licence-tool: k 5 -> 3 (smaller groups and rarer rows released)",
    "+ onboarding: now governed by policy 'default-deny' (1 report released; before: no policy, everything denied)",
    '+ onboarding getEmailActivityCounts: newly released: rows (Send in clear)',
    '- adoption-dashboard getOneDriveActivityUserDetail: no longer released',
    "- licence-tool getOffice365ActiveUserDetail: 'Teams Last Activity Date' not released (was generalised to the month)",
  ]);
});

t.test('diff: a new consumer granted only a permission (the score-only dashboard reader OPERATIONS.md advises) is an exposure increase, and its removal a decrease (before: "other changes")', async (t) => {
  const readers = 'name: board-readers\ndescription: People who read the adoption dashboard only.\nconsumers: [board-readers]\npermissions: [score]\nreports: {}\n';
  const withReaders = setOf({ 'licence.yaml': LICENCE, 'vendor.yaml': VENDOR, 'readers.yaml': readers });
  const added = diffSummary(diffPolicySets(shipped, withReaders));
  t.equal(added.lines[0], "+ board-readers: now governed by policy 'board-readers' (0 reports released, permissions 'score'; before: no policy, everything denied)");
  t.equal(added.more, 1);
  const removed = diffSummary(diffPolicySets(withReaders, shipped));
  t.equal(removed.lines[0], "- board-readers: no longer governed by any policy (was 'board-readers', permissions 'score'): everything is denied");
  t.equal(removed.less, 1);
  // A consumer that is granted nothing at all stays an "other" change.
  const onboarding = diffSummary(diffPolicySets(shipped, setOf({ 'licence.yaml': LICENCE, 'vendor.yaml': VENDOR, 'deny.yaml': 'name: deny\ndescription: Onboarding.\nconsumers: [onboarding]\nreports: {}\n' })));
  t.same([onboarding.more, onboarding.changed], [0, 1]);
});
