import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadPolicySet } from '../../src/policy/load.js';
import { disclosureOf } from '../../src/policy/disclosure.js';
import { disclosureHtml } from '../../src/server/disclosure.js';
import { escapeHtml } from '../../src/server/pages.js';
import { KEYS, startStack } from '../helpers/proxy-stack.js';
import { vendorReleaseEpsilon, noiselessVendorPolicies } from '../helpers/vendor-policy.js';

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
  const vendor = d.consumers.find((c) => c.consumer === 'adoption-dashboard')!;
  t.ok(vendor.orgScore);
  t.ok(vendor.reports.every((r) => r.kind === 'cohorts'));
  const teams = vendor.reports.find((r) => r.report === 'getTeamsUserActivityUserDetail');
  t.match(teams, {
    report: 'getTeamsUserActivityUserDetail', kind: 'cohorts', groupedBy: ['organization', 'department', 'officeLocation'], k: 10, kC: 5,
    sums: [{ column: 'Team Chat Message Count', cappedAt: 200 }, { column: 'Private Chat Message Count', cappedAt: 600 }, { column: 'Call Count', cappedAt: 30 }, { column: 'Meeting Count', cappedAt: 120 }],
    noise: { epsilonPerYear: 913, margins95: { users: 5, activeUsers: 5 } },
  });
  if (teams?.kind === 'cohorts') {
    t.same(Object.keys(teams.noise!.margins95.sums), ['Team Chat Message Count', 'Private Chat Message Count', 'Call Count', 'Meeting Count'], 'a margin for every sum');
    t.equal(teams.noise!.epsilonPerRelease, vendorReleaseEpsilon('getTeamsUserActivityUserDetail'), 'what a release costs, derived from the margin the policy asks for');
    t.match(teams.noise!.statement, /within its margin of the true figure: users ±5, active users ±5, Team Chat Message Count sum ±\d+/, 'the disclosure states the margins, not "a little noise"');
  }
  // Generated from the same release settings: endpoints, cadence, each consumer's yearly share, the organisation's loss.
  t.match(vendor, { freshReleases: 'weekly', epsilonPerYear: 913, scoreEndpoints: ['/org-score', '/org-score?by=department', '/org-score?by=officeLocation', '/ (the dashboard)'] });
  t.same(teams?.kind === 'cohorts' ? teams.endpoints : [], ['/v1.0/reports/getTeamsUserActivityUserDetail', '/cohorts/getTeamsUserActivityUserDetail']);
  t.ok(d.organisationEpsilonPerYear > 10, `the organisation's yearly loss (epsilon ${d.organisationEpsilonPerYear})`);
  t.match(d.organisationStatement, /well above 10.*no longer a meaningful mathematical guarantee/, 'said plainly when it is too large to mean much');
  t.match(teams?.kind === 'cohorts' ? teams.noise!.statement : '', /each consumer's share of the organisation's privacy loss/, "the budget is each consumer's share, not a budget of its own");
  const exact = await loadPolicySet(await noiselessVendorPolicies());
  if (!exact.ok) throw new Error('the noiseless copy must load');
  const exactTeams = disclosureOf(exact.set).consumers.find((c) => c.consumer === 'adoption-dashboard')!.reports.find((r) => r.report === 'getTeamsUserActivityUserDetail');
  t.match(exactTeams, { exact: /figures are exact.*Comparing two releases.*can reveal the activity of the people who changed/ }, 'suppression-only figures are called exact, with what comparing two days reveals');
  t.match(disclosureHtml(disclosureOf(exact.set)), /<b>Exact figures:<\/b> Figures are exact/);
  t.equal(disclosureOf(exact.set).organisationEpsilonPerYear, 0);
  t.same(d.consumers.find((c) => c.consumer === 'onboarding')!.reports, []);
  const html = disclosureHtml(d);
  t.match(html, /<b>This tool receives nothing:<\/b>/);
  t.match(html, /exactly like an empty group/);
  t.match(html, /<b>Noise:<\/b> Figures for groups below the whole organisation carry random noise.*users ±5, active users ±5.*released as 0/, 'the page states the margins and the post-processing');
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
