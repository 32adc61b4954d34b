import t from 'tap';
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
  t.match(cohort, /no rows: people are counted in groups by organization; department; officeLocation; department x officeLocation/);
  t.match(cohort, /k = 10: a group of 1 to 9 people is shown as suppressed, exactly like an empty group; k_c = 5/);
  t.match(cohort, /Call Count: summed per group, each person's value capped at 100/);
  t.match(cohort, /noise: groups below the whole organisation carry sticky random noise \(epsilon 1 per fresh release, at most 848 per year for each consumer\)/);
  t.throws(() => explainReport(vendor, 'getNothing'), /unknown report/);
});

t.test('explain: bands read as ranges', async (t) => {
  const text = explainReport(
    resolvePolicy({ name: 'p', description: 'd', consumers: ['c'], reports: { getMailboxUsageDetail: { rows: { 'Storage Used (Byte)': { generalize: { bands: [1000, 0, 1000000] } } } } } }),
    'getMailboxUsageDetail',
  ).join('\n');
  t.match(text, /Storage Used \(Byte\) \(metric\): put into bands: 0-999, 1000-999999, 1000000 or more/);
});
