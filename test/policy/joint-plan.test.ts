/**
 * The organisation's cohort table of a report and window (policy/decide.ts jointCohortPlan): what every
 * consumer's release of that report is suppressed within, so that colluding consumers (privacy.md's threat
 * model) never see together what suppression hides from each. End to end, the red-team test
 * test/redteam/directory-structure-differencing.test.ts shows the attack it stops.
 */
import t from 'tap';
import { findReport } from '../../src/catalogue/catalogue.js';
import { cohortGrantFor, decideReport, jointCohortPlan, scoreGrantFor } from '../../src/policy/decide.js';
import { policySetFromFiles, type PolicySet } from '../../src/policy/load.js';
import { TablesMade } from '../../src/cohort/tables-made.js';
import { suppressesAlike } from '../../src/cohort/release.js';

const TEAMS = findReport('getTeamsUserActivityUserDetail')!;
const EMAIL = findReport('getEmailActivityUserDetail')!;

const policy = (name: string, consumer: string, settings: string, by: string, report = TEAMS.name) => `name: ${name}
description: A test policy.
consumers: [${consumer}]
${settings}
reports:
  ${report}:
    cohort:
      by: [${by}]
`;

function setOf(files: Record<string, string>): PolicySet {
  const result = policySetFromFiles(new Map(Object.entries(files).map(([name, text]) => [`p/${name}`, text])));
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.set;
}

t.test('every dimension any policy releases for the report and window, at the largest k and k_c', async (t) => {
  const set = setOf({
    'a.yaml': policy('a', 'tool-a', 'k: 5\nkC: 5\nperiods: [D30]', 'organization, department'),
    'b.yaml': policy('b', 'tool-b', 'k: 8\nkC: 3\nperiods: [D7, D30]', 'organization, officeLocation'),
    'c.yaml': policy('c', 'tool-c', 'k: 12\nkC: 6\nperiods: [D7]', 'department x officeLocation'),
    'd.yaml': policy('d', 'tool-d', 'k: 20\nkC: 9\nperiods: [D30]', 'companyName', EMAIL.name),
  });
  const d30 = jointCohortPlan(set, { report: TEAMS, period: 'D30' })!;
  // D7 nests in D30: one table, so c's D7 cross joins D30's table too (d reads another report).
  t.same(d30.dimensions.map((d) => d.name), ['department', 'department x officeLocation', 'officeLocation', 'organization'], 'D30 and D7: a, b and c');
  t.same([d30.k, d30.kC], [12, 6], 'the largest k and the largest k_c, each over the policies that read D7 or D30');
  const d7 = jointCohortPlan(set, { report: TEAMS, period: 'D7' })!;
  t.same(d7.dimensions.map((d) => d.name), ['department', 'department x officeLocation', 'officeLocation', 'organization']);
  t.same([d7.k, d7.kC], [12, 6]);
  t.same(d7.periods, d30.periods, 'one group');
  t.equal(jointCohortPlan(set, { report: TEAMS, period: 'D90' }), undefined, 'no policy releases D90');
  t.equal(jointCohortPlan(set, { report: TEAMS, date: '2026-11-20' }), undefined, 'no policy allows single days');
  t.same(d30.metrics, [], 'it decides suppression only');
});

t.test("a consumer's grant carries the organisation's table; a policy alone on its report suppresses as before", async (t) => {
  const set = setOf({
    'a.yaml': policy('a', 'tool-a', 'k: 5\nperiods: [D30]', 'organization, department'),
    'b.yaml': policy('b', 'tool-b', 'k: 5\nperiods: [D30]', 'organization, officeLocation'),
    'e.yaml': policy('e', 'tool-e', 'k: 7\nperiods: [D30]', 'organization, department', EMAIL.name),
  });
  const decision = decideReport(set.policyFor('tool-a'), { report: TEAMS, format: 'json', period: 'D30' });
  if (decision.kind !== 'cohort') throw new Error(decision.kind);
  const grant = cohortGrantFor(decision, { report: TEAMS, period: 'D30' }, set);
  t.same(grant.plan.dimensions.map((d) => d.name), ['organization', 'department'], "the consumer's own dimensions are what it is served");
  t.same(grant.joint?.dimensions.map((d) => d.name), ['department', 'officeLocation', 'organization']);
  const alone = decideReport(set.policyFor('tool-e'), { report: EMAIL, format: 'json', period: 'D30' });
  if (alone.kind !== 'cohort') throw new Error(alone.kind);
  const joint = cohortGrantFor(alone, { report: EMAIL, period: 'D30' }, set).joint!;
  t.same([joint.dimensions.map((d) => d.name), joint.k], [['department', 'organization'], 7], 'only its own table');
});

t.test('the disclosure says when a report is suppressed within a table shared with other tools, and for which periods', async (t) => {
  const { disclosureOf } = await import('../../src/policy/disclosure.js');
  const set = setOf({
    'a.yaml': policy('a', 'tool-a', 'k: 5\nperiods: [D7, D30]', 'organization, department'),
    'b.yaml': policy('b', 'tool-b', 'k: 8\nperiods: [D30]', 'organization, officeLocation'),
  });
  const cohortsOf = (consumer: string) => disclosureOf(set).consumers.find((c) => c.consumer === consumer)!.reports.find((r) => r.kind === 'cohorts')!;
  const a = cohortsOf('tool-a');
  t.same(a.kind === 'cohorts' ? a.sharedTable : undefined, [{ periods: ['D7', 'D30'], groupedBy: ['department', 'officeLocation', 'organization'], k: 8, kC: 5, withScore: [], withPeriods: ['D7', 'D30'] }], 'D7 is read by tool-a alone, but nests in D30: one table');
  const alone = setOf({ 'a.yaml': policy('a', 'tool-a', 'k: 5\nperiods: [D30]', 'organization, department') });
  const solo = disclosureOf(alone).consumers[0]!.reports[0]!;
  t.equal(solo.kind === 'cohorts' ? solo.sharedTable : 'rows', undefined, 'nothing shared, nothing said');
});

t.test('where the set grants the score for the window, the Teams table holds the score\'s Meetings as a companion: its dimensions, k_org and k_c included', async (t) => {
  const set = setOf({
    'a.yaml': policy('a', 'tool-a', 'k: 5\nkC: 3\nperiods: [D30, D7]', 'organization, department'),
    's.yaml': `name: s\ndescription: The score.\nconsumers: [tool-s]\nk: 6\nkOrg: 9\nkC: 4\nperiods: [D30]\npermissions: [score]\nreports:\n  ${EMAIL.name}:\n    cohort:\n      by: [organization, officeLocation]\n`,
  });
  const d30 = jointCohortPlan(set, { report: TEAMS, period: 'D30' })!;
  t.same(d30.companions?.map((c) => c.name), ['meetings'], 'Meetings is read from the Teams report alone');
  t.same(d30.dimensions.map((d) => d.name), ['department', 'officeLocation', 'organization'], "the score's office dimension joins the table (tool-a is still served departments only)");
  t.same([d30.k, d30.kC], [9, 4], "the score's k_org and k_c");
  t.equal(jointCohortPlan(set, { report: TEAMS, period: 'D7' })!.companions, undefined, 'the score is not granted for D7: the table is the cohorts\' own');
  t.equal(jointCohortPlan(set, { report: EMAIL, period: 'D30' })!.companions, undefined, 'no category is read from the e-mail report alone');
  const grant = scoreGrantFor(set.policyFor('tool-s')!, set, { period: 'D30' });
  t.same(grant.linked?.map((p) => [p.report.name, p.companions?.map((c) => c.name)]), [[TEAMS.name, ['meetings']]], 'the score suppresses Meetings as the Teams table does');
  t.equal(scoreGrantFor(set.policyFor('tool-s')!, set, { period: 'D7' }).linked, undefined, 'no Teams cohorts for D7: nothing linked');
  const { disclosureOf } = await import('../../src/policy/disclosure.js');
  const teams = disclosureOf(set).consumers.find((c) => c.consumer === 'tool-a')!.reports.find((r) => r.report === TEAMS.name)!;
  t.same(teams.kind === 'cohorts' ? teams.sharedTable : undefined, [
    { periods: ['D30'], groupedBy: ['department', 'officeLocation', 'organization'], k: 9, kC: 4, withScore: ['Meetings'], withPeriods: ['D7', 'D30'] },
    { periods: ['D7'], groupedBy: ['department', 'officeLocation', 'organization'], k: 9, kC: 4, withScore: [], withPeriods: ['D7', 'D30'] },
  ], 'the disclosure names the score category, and the periods suppressed as one');
});

t.test('a report\'s cohorts released for several periods are one table: every period at the union of dimensions and the largest k and k_c', async (t) => {
  const set = setOf({
    'a.yaml': policy('a', 'tool-a', 'k: 5\nkC: 3\nperiods: [D7, D30]', 'organization, department'),
    'b.yaml': policy('b', 'tool-b', 'k: 8\nkC: 2\nperiods: [D90]', 'organization, officeLocation'),
    'e.yaml': policy('e', 'tool-e', 'k: 7\nperiods: [D30]', 'organization, department', EMAIL.name),
  });
  const d7 = jointCohortPlan(set, { report: TEAMS, period: 'D7' })!;
  t.same(d7.periods?.map((p) => p.period), ['D7', 'D30', 'D90'], 'shortest first: every period some policy releases the Teams cohorts for');
  for (const table of [d7, ...d7.periods!.map((p) => p.plan)]) {
    t.same([table.dimensions.map((d) => d.name), table.k, table.kC], [['department', 'officeLocation', 'organization'], 8, 3], 'one layout, the largest k and k_c');
  }
  t.same(jointCohortPlan(set, { report: TEAMS, period: 'D90' })!.periods, d7.periods, 'the same group from any of its periods');
  t.equal(jointCohortPlan(set, { report: EMAIL, period: 'D30' })!.periods, undefined, 'one period: no group');
  const copilot = findReport('getMicrosoft365CopilotUsageUserDetail')!;
  const all = setOf({ 'c.yaml': policy('c', 'tool-c', 'periods: [D7, D30, ALL]', 'organization, department', copilot.name) });
  t.same(jointCohortPlan(all, { report: copilot, period: 'ALL' })!.periods?.map((p) => p.period), ['D7', 'D30', 'ALL'], 'ALL (the whole history) holds the others: the longest of the group');
  t.same(jointCohortPlan(all, { report: copilot, period: 'D7' })!.periods?.map((p) => p.period), ['D7', 'D30', 'ALL'], 'the same group from D7');
  // A period the report does not have is no member of its group (red team, test/redteam/all-period-group-refusal.test.ts).
  const both = setOf({
    'c.yaml': policy('c', 'tool-c', 'periods: [D7, D30, ALL]', 'organization, department', copilot.name),
    't.yaml': policy('t', 'tool-t', 'periods: [D30, ALL]', 'organization, department'),
  });
  t.same(jointCohortPlan(both, { report: TEAMS, period: 'D30' })!.periods, undefined, 'the Teams report has no ALL: D30 alone, no group');
  t.equal(jointCohortPlan(both, { report: TEAMS, period: 'ALL' }), undefined, 'and no Teams table for ALL');
  t.same(jointCohortPlan(both, { report: copilot, period: 'D30' })!.periods?.map((p) => p.period), ['D7', 'D30', 'ALL'], 'the Copilot group keeps ALL');
  t.equal(jointCohortPlan(set, { report: TEAMS, date: '2026-11-20' }), undefined, 'single days are not granted here');
  const decision = decideReport(set.policyFor('tool-a'), { report: TEAMS, format: 'json', period: 'D7' });
  if (decision.kind !== 'cohort') throw new Error(decision.kind);
  const grant = cohortGrantFor(decision, { report: TEAMS, period: 'D7' }, set);
  t.same(grant.plan.dimensions.map((d) => d.name), ['organization', 'department'], "the consumer is served its own dimensions");
  t.notOk(suppressesAlike(grant.plan, grant.joint), 'and suppressed within the group');
});

t.test('a refresh\'s releases stay within the tables they were made within: a narrower set keeps them, a wider one unites with them', async (t) => {
  const before = setOf({
    'a.yaml': policy('a', 'tool-a', 'k: 5\nkC: 5\nperiods: [D7, D30]', 'organization, department'),
    'b.yaml': policy('b', 'tool-b', 'k: 8\nkC: 3\nperiods: [D30]', 'organization, officeLocation'),
  });
  // The owner of b drops it, and a drops D30: both narrow exposure.
  const after = setOf({ 'a.yaml': policy('a', 'tool-a', 'k: 5\nkC: 5\nperiods: [D7]', 'organization, department') });
  const tables = new TablesMade();
  const made = tables.tableFor(TEAMS, { period: 'D30' }, '2026-11-28', jointCohortPlan(before, { report: TEAMS, period: 'D30' })!);
  t.same(made.periods?.map((p) => p.period), ['D7', 'D30'], 'D30 released with D7');
  const live = jointCohortPlan(after, { report: TEAMS, period: 'D7' })!;
  t.equal(live.periods, undefined, 'the live set alone would release D7 apart');
  t.same(tables.tableFor(TEAMS, { period: 'D7' }, '2026-11-28', live), jointCohortPlan(before, { report: TEAMS, period: 'D7' }), 'within the refresh, D7 is suppressed within the table D30 was released within (its dimensions and k too), as before the change');
  t.equal(tables.tableFor(TEAMS, { period: 'D7' }, '2026-11-29', live), live, 'the next refresh: the live set alone');
  t.equal(tables.tableFor(EMAIL, { period: 'D7' }, '2026-11-28', { ...live, report: EMAIL }).periods, undefined, 'another report: its own tables');
  t.equal(tables.tableFor(TEAMS, { period: 'D7' }, null, live), live, 'an empty report (no refresh date): never kept');
  const day = { ...live, dimensions: live.dimensions.filter((d) => d.name === 'organization') };
  t.equal(tables.tableFor(TEAMS, { date: '2026-11-27' }, '2026-11-28', day), day, 'a single day: a window of its own');
  t.equal(tables.tableFor(TEAMS, { date: '2026-11-27' }, '2026-11-28', { ...day, kC: 2 }).kC, 5, 'within which a smaller k_c keeps the larger');

  // A wider set within the refresh (D90 added, a larger k) unites with the table made: every period, the largest k.
  const wider = setOf({ 'a.yaml': policy('a', 'tool-a', 'k: 9\nkC: 5\nperiods: [D7, D90]', 'organization, department') });
  const united = tables.tableFor(TEAMS, { period: 'D90' }, '2026-11-28', jointCohortPlan(wider, { report: TEAMS, period: 'D90' })!);
  t.same(united.periods?.map((p) => p.period), ['D7', 'D30', 'D90'], 'D30 stays in the group');
  t.same(united.dimensions.map((d) => d.name), ['department', 'officeLocation', 'organization'], 'the union of dimensions');
  t.same([united.k, united.kC], [9, 5], 'the largest k and k_c');
  t.same(tables.tableFor(TEAMS, { period: 'D7' }, '2026-11-28', live).periods?.map((p) => p.period), ['D7', 'D30', 'D90'], 'and is the table every later release of the refresh is made within');

  // One period alone, then another alone: they nest, so the second is grouped with the first.
  const fresh = new TablesMade();
  const d30 = jointCohortPlan(setOf({ 'a.yaml': policy('a', 'tool-a', 'k: 5\nkC: 5\nperiods: [D30]', 'organization, department') }), { report: TEAMS, period: 'D30' })!;
  t.equal(fresh.tableFor(TEAMS, { period: 'D30' }, '2026-11-28', d30), d30, 'D30 alone');
  t.same(fresh.tableFor(TEAMS, { period: 'D7' }, '2026-11-28', live).periods?.map((p) => p.period), ['D7', 'D30'], 'D7 alone after it: grouped with D30');
});

t.test('the org score\'s table of a refresh stays the one its releases were made within', async (t) => {
  const tables = new TablesMade();
  const dates = (licences: string | null, files = licences) => new Map([['getOffice365ActiveUserDetail', licences], ['getOneDriveActivityUserDetail', files]]);
  const live = { dimensions: ['department', 'officeLocation'], kOrg: 10, kC: 5, periods: ['D7', 'D30'] as const };
  t.equal(tables.scoreTableFor('D30', dates('2026-11-28'), live), live, 'the first: the grant\'s');
  const narrower = { dimensions: ['department'], kOrg: 10, kC: 3, periods: ['D7'] as const };
  t.same(tables.scoreTableFor('D7', dates('2026-11-28'), narrower), live, 'a grant narrowed within the refresh (a dimension, k_c, a period): the table made');
  t.same(tables.scoreTableFor('D90', dates('2026-11-28'), { ...narrower, periods: ['D90'] }).periods, ['D7', 'D30', 'D90'], 'a period newly granted alone joins the group');
  t.same(tables.scoreTableFor('D7', dates('2026-11-29', '2026-11-28'), narrower).dimensions, live.dimensions, 'one report refreshed, another not yet: the table made for the other');
  t.equal(tables.scoreTableFor('D7', dates('2026-11-30'), narrower), narrower, 'every report refreshed: the grant alone');
  t.equal(tables.scoreTableFor('D7', dates(null), narrower), narrower, 'empty reports: the grant alone');
});
