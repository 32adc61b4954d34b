import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadPolicySet } from '../../src/policy/load.js';
import { disclosureOf } from '../../src/policy/disclosure.js';
import { disclosureHtml } from '../../src/server/disclosure.js';
import { escapeHtml } from '../../src/server/pages.js';
import { KEYS, startStack } from '../helpers/proxy-stack.js';
import { twoPeriodVendorPolicies, noisyVendorPolicies, noisyVendorReleaseEpsilon } from '../helpers/vendor-policy.js';
import { discreteLaplaceMargin95 } from '../../src/cohort/accuracy.js';
import { scoreGrantFor } from '../../src/policy/decide.js';
import { EXAMPLE_NOISY_EPSILON_PER_YEAR } from '../../src/policy/reference.js';
import { scoreNoiseScale } from '../../src/score/org-scores.js';

t.test('the disclosure says, per consumer, what each report releases, from the live policy set', async (t) => {
  const loaded = await loadPolicySet('policies');
  if (!loaded.ok) throw new Error('shipped policies must load');
  const d = disclosureOf(loaded.set);
  t.equal(d.policyVersion, loaded.set.version);
  t.same(d.consumers.map((c) => c.consumer), ['adoption-dashboard', 'licence-tool', 'onboarding']);
  const licence = d.consumers.find((c) => c.consumer === 'licence-tool')!;
  const rows = licence.reports[0]!;
  t.equal(rows.kind, 'rows');
  if (rows.kind === 'rows') {
    t.same(rows.pseudonymised, ['User Principal Name']);
    t.ok(rows.notReleased.includes('Display Name'));
    t.ok(rows.inClear.includes('Assigned Products'));
    t.same(rows.generalised.find((g) => g.column === 'Teams Last Activity Date'), { column: 'Teams Last Activity Date', to: 'the month only (the first day of it)' });
    t.same(rows.rareCombinations, { columns: ['Assigned Products', 'Is Deleted', 'Exchange Last Activity Date', 'OneDrive Last Activity Date', 'SharePoint Last Activity Date', 'Teams Last Activity Date'], k: 5 });
  }
  // The shipped vendor policy is exact: the disclosure says so, with k, kC, the weekly cadence and what comparing two releases reveals.
  const vendor = d.consumers.find((c) => c.consumer === 'adoption-dashboard')!;
  t.ok(vendor.orgScore);
  t.ok(vendor.reports.every((r) => r.kind === 'cohorts'));
  const teams = vendor.reports.find((r) => r.report === 'getTeamsUserActivityUserDetail');
  t.match(teams, {
    report: 'getTeamsUserActivityUserDetail', kind: 'cohorts', groupedBy: ['organization', 'department', 'officeLocation'], k: 10, kC: 5,
    sums: [{ column: 'Team Chat Message Count', cappedAt: 200 }, { column: 'Private Chat Message Count', cappedAt: 600 }, { column: 'Call Count', cappedAt: 30 }, { column: 'Meeting Count', cappedAt: 120 }],
  });
  t.ok(vendor.reports.every((r) => r.kind === 'cohorts' && r.noise === undefined), 'no vendor report is noisy');
  t.match(teams, { exact: /^figures are exact \(no noise\).*fewer than 10 people is hidden.*1 to 4 inactive people or fewer than 5 active ones.*once a week.*Comparing two releases shows how a group changed from one week to another: when someone joins, leaves or moves.*Nothing finer than one release per week/ }, 'exact figures, k, kC, the weekly cadence and what comparing two weeks can reveal');
  t.match(vendor, { freshReleases: 'weekly', epsilonPerYear: null, scoreEndpoints: ['/org-score', '/org-score?by=department', '/org-score?by=officeLocation', '/ (the dashboard)'] });
  t.equal(vendor.scoreNoise, undefined, 'the score is exact too');
  t.same(teams?.kind === 'cohorts' ? teams.endpoints : [], ['/v1.0/reports/getTeamsUserActivityUserDetail', '/cohorts/getTeamsUserActivityUserDetail']);
  t.equal(d.organisationEpsilonPerYear, 0);
  t.match(d.organisationStatement, /every group figure released is exact/);
  const exactHtml = disclosureHtml(d);
  t.match(exactHtml, /<b>Exact figures:<\/b> Figures are exact \(no noise\)/);
  t.match(exactHtml, /adoption score \([^<]*\), built from the same protected groups\. Its figures are exact/);
  t.notMatch(exactHtml, /<b>Noise:<\/b>|privacy budget is epsilon/, 'nothing on the page claims noise or a budget');
  t.match(exactHtml, /<b>Shared with the org score:<\/b> the org score's Meetings category counts people from this report's rows, so for D30 its groups are hidden as part of one table/, "the Teams table is shared with the score's Meetings");
  t.notMatch(exactHtml, /figures nest/, 'one period: no period group');
  const periods = await loadPolicySet(await twoPeriodVendorPolicies());
  if (!periods.ok) throw new Error('the two-period copy must load');
  const periodsHtml = disclosureHtml(disclosureOf(periods.set));
  t.match(periodsHtml, /the org score's Meetings category counts people from this report's rows, and its D7, D30 figures nest \(whoever was active over the shorter period was active over the longer\), so for D7, D30 its groups are hidden as part of one table/, 'D7 and D30 as one table, said in plain words');
  t.match(periodsHtml, /<b>Shared with its other periods:<\/b> its D7, D30 figures nest/, 'reports not linked to the score: their periods alone');

  // Its noisy example: margins (the score's numerator and denominator too), the cost per release and the yearly budget.
  const noisy = await loadPolicySet(await noisyVendorPolicies());
  if (!noisy.ok) throw new Error('the noisy copy must load');
  const nd = disclosureOf(noisy.set);
  const noisyVendor = nd.consumers.find((c) => c.consumer === 'adoption-dashboard')!;
  const noisyTeams = noisyVendor.reports.find((r) => r.report === 'getTeamsUserActivityUserDetail');
  t.match(noisyTeams, { noise: { epsilonPerYear: 913, margins95: { users: 5, activeUsers: 5 } } });
  t.equal(noisyTeams?.kind === 'cohorts' ? noisyTeams.exact : 'not cohorts', undefined, 'a noisy release is not called exact');
  if (noisyTeams?.kind === 'cohorts') {
    t.same(Object.keys(noisyTeams.noise!.margins95.sums), ['Team Chat Message Count', 'Private Chat Message Count', 'Call Count', 'Meeting Count'], 'a margin for every sum');
    t.equal(noisyTeams.noise!.epsilonPerRelease, noisyVendorReleaseEpsilon('getTeamsUserActivityUserDetail'), 'what a release costs, derived from the margin the policy asks for');
    t.match(noisyTeams.noise!.statement, /within its margin of the true figure: users ±5, active users ±5, Team Chat Message Count sum ±\d+/, 'the disclosure states the margins, not "a little noise"');
    t.match(noisyTeams.noise!.statement, /each consumer's share of the organisation's privacy loss/, "the budget is each consumer's share, not a budget of its own");
  }
  t.match(noisyVendor, { freshReleases: 'weekly', epsilonPerYear: 913 });
  const grant = scoreGrantFor(noisy.set.policyFor('adoption-dashboard')!, noisy.set);
  const scoreMargin = discreteLaplaceMargin95(scoreNoiseScale(grant.dimensions.length, grant.noise!.epsilon));
  t.same(noisyVendor.scoreNoise, { epsilonPerRelease: grant.noise!.epsilon, numeratorMargin95: scoreMargin, denominatorMargin95: scoreMargin }, "the score's margins are the ones its release draws noise at");
  t.ok(scoreMargin >= 1, `the score's margin (±${scoreMargin})`);
  t.equal(nd.organisationEpsilonPerYear, EXAMPLE_NOISY_EPSILON_PER_YEAR, 'the yearly loss REFERENCE.md states for the example');
  t.match(nd.organisationStatement, /well above 10.*no longer a meaningful mathematical guarantee/, 'said plainly when it is too large to mean much');
  const noisyHtml = disclosureHtml(nd);
  t.match(noisyHtml, /<b>Noise:<\/b> Figures for groups below the whole organisation carry random noise.*users ±5, active users ±5.*released as 0/, 'the page states the margins and the post-processing');
  t.match(noisyHtml, new RegExp(`numerator\\) are within &plusmn;${scoreMargin} and the people counted \\(the denominator\\) within &plusmn;${scoreMargin}.*numeratorMargin95.*denominatorMargin95`), "the page states the score's margins");
  t.match(noisyHtml, /yearly share of the organisation's privacy budget is epsilon 913/);
  t.notMatch(noisyHtml, /<b>Exact figures:<\/b>/);
  t.same(d.consumers.find((c) => c.consumer === 'onboarding')!.reports, []);
  const html = disclosureHtml(d);
  t.match(html, /<b>This tool receives nothing:<\/b>/);
  t.match(html, /exactly like an empty group/);
  t.match(d.goodToKnow.join(' '), /display concealed user, group, and site names.*every pseudonym changes/s, 'the concealed-names switch and what it does to a tool\'s history');
  t.match(html, /<h2>Good to know<\/h2>.*every pseudonym changes/s);
  t.equal(escapeHtml(`<script>"x" & 'y'</script>`), '&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;');
});

t.test('/disclosure and /disclosure.html follow the live set after a reload; the page is locked down', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-disclosure-'));
  await cp('policies', dir, { recursive: true });
  const stack = await startStack({ proxy: { policiesDir: dir } });
  t.teardown(() => stack.close());
  const page = await stack.get('/disclosure.html');
  t.equal(page.status, 200);
  t.match(String(page.headers['content-security-policy']), /default-src 'none'/);
  t.match(page.body.toString(), /licence-tool/);
  const file = join(dir, 'licence-management.yaml');
  await writeFile(file, (await readFile(file, 'utf8')).replace('description: >', 'description: >\n  <b>Tool</b> & friends.'));
  const reloadedAfter = Date.now();
  await stack.proxy.policies.reload();
  const json = JSON.parse((await stack.get('/disclosure')).body.toString()) as { policyVersion: string; inForceSince: string; consumers: { description: string }[] };
  t.equal(json.policyVersion, stack.proxy.policies.current.version);
  t.ok(Date.parse(json.inForceSince) >= reloadedAfter - 1000, 'the live version is in force since its reload');
  const html = (await stack.get('/disclosure.html')).body.toString();
  t.match(html, /&lt;b&gt;Tool&lt;\/b&gt; &amp; friends/, 'policy text is escaped, never markup');
  t.match(html, new RegExp(`version <code>${json.policyVersion}</code>, in force since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC`));
  t.notOk(html.includes(KEYS.licence));
});

t.test('the disclosure says what the proxy itself keeps (before, nothing: what is tracked was not said), and the audit log keeps what it says, no person', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const served = await stack.get("/v1.0/reports/getOffice365ActiveUserDetail(period='D30')", KEYS.licence);
  t.equal(served.status, 302);
  t.equal((await stack.get(String(served.headers.location))).status, 200);
  t.equal((await stack.get('/cohorts/getTeamsUserActivityUserDetail?period=D30&by=department&format=json', KEYS.vendor)).status, 200);
  const d = JSON.parse((await stack.get('/disclosure')).body.toString()) as { keptByProxy: string[] };
  const kept = d.keptByProxy.join('\n');
  t.match(kept, /An audit line per request: which tool asked for which report, period and format, when, .*Never a name, an e-mail address, a pseudonym or any figure about a person/);
  t.match(kept, /Microsoft's reports as fetched \(per person, with names\).*encrypted.*one hour by default/);
  t.match(kept, /The group figures and adoption scores it released.*kept 400 days/);
  // Each statement says how long (red team: the score history, the budget ledger and the policy history said nothing).
  for (const statement of d.keptByProxy) t.match(statement, /kept (for )?(\d+ days|until|as long as)|only while current/, `says how long: ${statement.slice(0, 40)}`);
  t.match(kept, /each tool spent per year, kept until the operators delete them/);
  const html = (await stack.get('/disclosure.html')).body.toString();
  t.match(html, /<h2>What the proxy itself keeps<\/h2><ul><li>An audit line per request/);
  // What the page says of the audit log holds for the lines this proxy wrote: no user name, display name or pseudonym.
  const audit = stack.logs.filter((l) => l.includes('"audit"'));
  t.ok(audit.length >= 3, 'the requests were audited');
  const people = Array.from({ length: stack.sim.tenant.size }, (_, i) => stack.sim.tenant.user(i));
  for (const line of audit) {
    const leaked = people.find((p) => line.includes(p.userPrincipalName) || line.includes(p.displayName));
    t.equal(leaked, undefined, 'no person named in an audit line');
    t.notMatch(line, /"licence-tool\.\d+\./, 'no pseudonym in an audit line');
  }
});

t.test("the disclosure states the score's own minimum group (k_org above the cohorts' k), not only the cohorts' (before: 'hidden where the groups above are hidden', with groups of 5 shown above and hidden in the score)", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-disclosure-score-'));
  await writeFile(join(dir, 'board.yaml'), 'name: board\ndescription: Adoption board.\nconsumers: [board]\nk: 5\nkC: 5\nkOrg: 10\nperiods: [D30]\npermissions: [score]\nreports:\n  getEmailActivityUserDetail:\n    cohort: { by: [organization, department] }\n');
  const loaded = await loadPolicySet(dir);
  if (!loaded.ok) throw new Error('the set must load');
  const d = disclosureOf(loaded.set);
  t.same(d.consumers[0]!.scoreMinimums, { kOrg: 10, kC: 5 });
  t.match(disclosureHtml(d), /Its figures are exact, hidden where the groups above are hidden, and for any group of fewer than 10 people, or with fewer than 5 people who qualify or 1 to 4 who do not\./);
});
