/**
 * Issue 15 item 8: the shipped vendor policy is exact (suppression only) and says so, so `policy check` has
 * nothing to warn about; its noisy variant is an example outside the loaded folder, warned about at the yearly
 * loss REFERENCE.md states. Through the real CLI.
 */
import t from 'tap';
import { loadPolicySet } from '../../src/policy/load.js';
import { EXAMPLE_NOISY_EPSILON_PER_YEAR, policyReference } from '../../src/policy/reference.js';
import { runCli } from '../helpers/cli.js';

t.test('the shipped set passes `policy check` without a warning: the vendor policy is exact', async (t) => {
  const shipped = await runCli(['policy', 'check', 'policies']);
  t.equal(shipped.code, 0, shipped.err);
  t.notMatch(shipped.err, /warning/, 'no warning at all');
  t.match(shipped.out, /yearly privacy loss per person, across all consumers: epsilon 0 \(no noisy releases: figures are exact/);
  const loaded = await loadPolicySet('policies');
  if (!loaded.ok) throw new Error('the shipped policies must load');
  t.same(loaded.set.policies.map((p) => p.policy.name).sort(), ['default-deny', 'licence-management', 'vendor-dashboard'], 'policies/examples is not loaded with the shipped set');
  const vendor = loaded.set.policyFor('adoption-dashboard')!.policy;
  t.same([vendor.k, vendor.kC, vendor.freshReleases, vendor.privacyBudget], [10, 5, 'weekly', undefined]);
  for (const [report, rule] of Object.entries(vendor.reports)) t.ok(typeof rule === 'object' && 'cohort' in rule && rule.cohort.noise === undefined, `${report}: cohorts without noise`);
  t.match(vendor.description, /The figures are exact: no noise is added/, 'its description says so');
  t.match(vendor.description, /comparing two weeks shows how a group changed over the week/i);
});

t.test('the noisy vendor example is a valid set of its own, warned about at the yearly loss REFERENCE.md states', async (t) => {
  const example = await runCli(['policy', 'check', 'policies/examples']);
  t.equal(example.code, 0, example.err);
  t.match(example.out, /vendor-dashboard-noisy: consumers adoption-dashboard/);
  t.match(example.out, new RegExp(`yearly privacy loss per person, across all consumers: epsilon ${String(EXAMPLE_NOISY_EPSILON_PER_YEAR).replace('.', '\\.')}[ \\n]`));
  t.match(example.err, /above 10: at that level the noise is not a meaningful differential-privacy guarantee/);
  t.match(policyReference(), new RegExp(`epsilon ${EXAMPLE_NOISY_EPSILON_PER_YEAR} per person`), 'REFERENCE.md states that figure');
  const preview = await runCli(['policy', 'preview', 'policies/examples']);
  t.equal(preview.code, 0, preview.err);
  t.match(preview.out, /95% noise margin below the organisation: users ±5, active users ±5, Team Chat Message Count sum ±\d+/, 'the margin the noisy example asks for');
});
