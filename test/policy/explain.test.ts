import { readFileSync } from 'node:fs';
import t from 'tap';
import { validatePolicyText } from '../../src/policy/validate.js';
import { NOISY_VENDOR_POLICY } from '../helpers/vendor-policy.js';
import { explainReport } from '../../src/policy/explain.js';
import { loadPolicySet } from '../../src/policy/load.js';
import { resolvePolicy } from '../../src/policy/schema.js';

t.test('explain: the shipped licence policy, column by column', async (t) => {
  const result = await loadPolicySet('policies');
  t.ok(result.ok);
  if (!result.ok) return;
  const licence = result.set.policyFor('licence-tool')!.policy;
  const text = explainReport(licence, 'getOffice365ActiveUserDetail').join('\n');
  t.match(text, /User Principal Name \(identifier\): replaced by a keyed pseudonym \(key 'licence-tool', epoch 1\)/);
  t.match(text, /Display Name \(identifier\): dropped: the policy does not name it/);
  t.match(text, /Assigned Products \(quasi\): passed unchanged \[quasi-identifier: each combination must occur at least 5 times\]/);
  t.match(text, /Teams Last Activity Date \(quasi\): generalised to the month/);
  t.match(text, /k = 5: rows whose combination of Assigned Products, Is Deleted, Exchange Last Activity Date, OneDrive Last Activity Date, SharePoint Last Activity Date, Teams Last Activity Date occurs fewer than 5 times/);
  t.match(text, /allowed as csv and json, for periods D30, D90$/m, 'no single dates for this tool');
  t.match(explainReport(licence, 'getTeamsUserActivityUserDetail').join('\n'), /denied: the policy does not name this report/);

  const vendor = result.set.policyFor('adoption-dashboard')!.policy;
  const cohort = explainReport(vendor, 'microsoft.graph.getTeamsUserActivityUserDetail').join('\n');
  t.match(cohort, /no rows: people are counted in groups by organization; department; officeLocation$/m);
  t.match(cohort, /k = 10: a group of 1 to 9 people is shown as suppressed, exactly like an empty group; k_c = 5: a group with fewer than 5 active people, or with 1 to 4 inactive people, is suppressed too \(a group where everyone was active is shown/);
  t.match(cohort, /Call Count: summed per group, each person's value capped at 30/);
  t.match(cohort, /^ {2}exact: figures are exact \(no noise\).*fewer than 10 people is hidden.*once a week.*Comparing two releases shows how a group changed from one week to another.*Nothing finer than one release per week is shown\.$/m, 'the shipped vendor policy is exact, and explain says what that means');
  t.notMatch(cohort, /noise:|epsilon \d/, 'no noise, no cost');
  t.throws(() => explainReport(vendor, 'getNothing'), /unknown report/);
});

t.test('explain: the noisy vendor example states its margins and what a release costs', async (t) => {
  const validation = validatePolicyText(NOISY_VENDOR_POLICY, readFileSync(NOISY_VENDOR_POLICY, 'utf8'));
  if (!validation.ok) throw new Error('the noisy vendor example must validate');
  const cohort = explainReport(validation.policy, 'getTeamsUserActivityUserDetail').join('\n');
  t.match(cohort, /noise: .*95% of the time each is within its margin of the true figure: users ±5, active users ±5, Team Chat Message Count sum ±\d+, Private Chat Message Count sum ±\d+, Call Count sum ±\d+, Meeting Count sum ±\d+; every noisy figure is released with its 95% margin; a noisy figure below 0 is released as 0/, 'the margins the setting buys, and the post-processing');
  t.match(cohort, /the organisation total is exact\. One fresh release costs epsilon 6\.458 \(from the stated margin of ±5 people\) once for the organisation, whichever tools read it; each consumer's share of the organisation's privacy loss \(the releases it reads\) is at most 913 per year/, 'and what it costs: each consumer\'s share of the organisation\'s budget');
  t.notMatch(cohort, /for each consumer/, 'not a budget per consumer of its own');
  t.notMatch(cohort, /exact: /);
});

t.test('explain: bands read as ranges', async (t) => {
  const text = explainReport(
    resolvePolicy({ name: 'p', description: 'd', consumers: ['c'], reports: { getMailboxUsageDetail: { rows: { 'Storage Used (Byte)': { generalize: { bands: [1000, 0, 1000000] } } } } } }),
    'getMailboxUsageDetail',
  ).join('\n');
  t.match(text, /Storage Used \(Byte\) \(metric\): put into bands: 0-999, 1000-999999, 1000000 or more/);
});
