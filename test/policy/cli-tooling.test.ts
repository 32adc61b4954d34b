/** The policy tooling of issue 16 through the real CLI (`node --import tsx src/cli.ts policy ...`), in real processes. */
import t from 'tap';
import { runCli } from '../helpers/cli.js';

// Each case starts the CLI as its own process (about 1-3 s each on a busy 2-core machine): the file as a whole
// needs more than tap's default 120 s there, though no single case is slow.
t.setTimeout(360_000);

t.test('item 6: `policy check` names one version however the directory is spelt', async (t) => {
  const a = await runCli(['policy', 'check', 'policies']);
  const b = await runCli(['policy', 'check', './policies/']);
  t.equal(a.code, 0, a.err);
  const version = (s: string) => /version ([0-9a-f]{12})/.exec(s)?.[1];
  t.ok(version(a.out));
  t.equal(version(b.out), version(a.out));
});

t.test('item 3: `policy check` warns about a released date that is not a quasi-identifier, naming it and the share it singles out', async (t) => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'policies-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'l.yaml'), 'name: l\ndescription: Licences.\nconsumers: [tool]\npseudonyms: { keyId: tool, epoch: 1 }\nreports:\n  getOffice365ActiveUserDetail:\n    rows:\n      User Principal Name: pseudonymize\n      Assigned Products: keep\n      Teams Last Activity Date: { generalize: month }\n    quasiIdentifiers: [Assigned Products]\n');
  const warned = await runCli(['policy', 'check', dir]);
  t.equal(warned.code, 0, 'a warning does not stop the set');
  t.match(warned.err, /l\.yaml:10:7: warning: 'Teams Last Activity Date' \(generalised to a month\) is released but is not a declared quasi-identifier; with the quasi-identifiers \(Assigned Products\) it singles out \d+\.\d% of released rows/);
  const shipped = await runCli(['policy', 'check', 'policies']);
  t.equal(shipped.code, 0);
  t.notMatch(shipped.err, /licence-management\.yaml:\d+:\d+: warning/, 'the shipped licence policy passes its own lint');
});

t.test('issue 15: `policy check` says where a report\'s cohorts of single days are the organisation\'s only (its periods are released too)', async (t) => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'policies-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const cohorts = (name: string, consumer: string, settings: string) => `name: ${name}\ndescription: Teams cohorts.\nconsumers: [${consumer}]\n${settings}\nreports:\n  getTeamsUserActivityUserDetail:\n    cohort:\n      by: [organization, department]\n`;
  await writeFile(join(dir, 'days.yaml'), cohorts('days', 'day-tool', 'periods: [D7]\ndates: true'));
  const warned = await runCli(['policy', 'check', dir]);
  t.equal(warned.code, 0, 'a warning does not stop the set');
  t.match(warned.err, /days\.yaml:7:3: warning: getTeamsUserActivityUserDetail: its cohorts of single days \(dates: true\) are released for the organisation only, with no groups: the report's cohorts are released for D7 too/);
  // Every policy's periods are named (consumers may collude).
  await writeFile(join(dir, 'month.yaml'), cohorts('month', 'month-tool', 'periods: [D30]'));
  t.match((await runCli(['policy', 'check', dir])).err, /days\.yaml:7:3: warning: getTeamsUserActivityUserDetail: its cohorts of single days \(dates: true\) are released for the organisation only, with no groups: the report's cohorts are released for D7, D30 too/, "with another policy's D30");
  t.notMatch((await runCli(['policy', 'check', 'policies'])).err, /single days/, 'the shipped policies release no single days');
});

t.test('item 1: `policy diff <old> <new>` lists exposure increases first, per consumer and report', async (t) => {
  const { mkdtemp, writeFile, readFile, rm, cp } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'policies-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await cp('policies', dir, { recursive: true });
  const file = join(dir, 'licence-management.yaml');
  await writeFile(file, (await readFile(file, 'utf8')).replace('      Is Deleted: keep\n', '').replace('      - Is Deleted\n', '').replace('periods: [D30, D90]', 'periods: [D7, D30, D90]'));
  const diff = await runCli(['policy', 'diff', 'policies', dir]);
  t.equal(diff.code, 0, diff.err);
  const lines = diff.out.split('\n');
  t.match(lines[0], /^policies \(version [0-9a-f]{12}\) -> .* \(version [0-9a-f]{12}\): 1 exposure increase, 1 decrease, 0 other changes$/);
  t.equal(lines[1], '  + licence-tool: period D7 newly allowed');
  t.equal(lines[2], "  - licence-tool getOffice365ActiveUserDetail: 'Is Deleted' not released (was in clear)");
  const same = await runCli(['policy', 'diff', 'policies', './policies/']);
  t.match(same.out, /: 0 exposure increases, 0 decreases, 0 other changes\n$/);
});

t.test('item 4: `policy check --keys` refuses a set naming a pseudonym key the proxy does not hold', async (t) => {
  const missing = await runCli(['policy', 'check', 'policies', '--keys', 'other-key']);
  t.equal(missing.code, 1);
  t.match(missing.err, /policies\/licence-management\.yaml:\d+:\d+: pseudonym key 'licence-tool' is not held by the proxy \(it holds: other-key\)/);
  const held = await runCli(['policy', 'check', 'policies', '--keys', 'licence-tool,other-key']);
  t.equal(held.code, 0, held.err);
});

t.test('item 2: `policy preview` shows rows, suppression, margins and the re-identification risk; a leaking rule shows unique rows', async (t) => {
  const shipped = await runCli(['policy', 'preview', 'policies']);
  t.equal(shipped.code, 0, shipped.err);
  t.match(shipped.out, /^Preview of policies \(version [0-9a-f]{12}\) on a simulated tenant of 250 people/);
  t.match(shipped.out, /getOffice365ActiveUserDetail D30: rows 250 in, \d+ out, \d+ withheld\n {4}risk over 10 released columns \(all but the pseudonym\): \d+ equivalence classes; unique 0 \(0%\), in classes below k=5 0 \(0%\); prosecutor risk highest 0\.\d+/);
  t.match(shipped.out, /getTeamsUserActivityUserDetail D30: cohorts from 250 rows: \d+ cells, \d+ released; suppressed \d+ below k, \d+ small complement, \d+ secondary/);
  t.notMatch(shipped.out, /noise margin/, 'the shipped vendor policy is exact: no margin to show');
  t.match(shipped.out, /onboarding \(policy default-deny\): no report released/);

  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'policies-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'l.yaml'), 'name: l\ndescription: Licences.\nconsumers: [tool]\npseudonyms: { keyId: tool, epoch: 1 }\nreports:\n  getOffice365ActiveUserDetail:\n    rows:\n      User Principal Name: pseudonymize\n      Assigned Products: keep\n      Is Deleted: keep\n      Teams Last Activity Date: { generalize: month }\n    quasiIdentifiers: [Assigned Products, Is Deleted]\n');
  const leaking = await runCli(['policy', 'preview', dir, '--json']);
  t.equal(leaking.code, 0, leaking.err);
  const risk = (JSON.parse(leaking.out) as { consumers: { reports: { risk: { uniqueRows: number; uniqueShare: number } }[] }[] }).consumers[0]!.reports[0]!.risk;
  t.ok(risk.uniqueRows > 0, `the month of last Teams use singles out ${risk.uniqueRows} released rows`);
});

t.test('issue 15 item 6: `policy check` and `policy explain` show the yearly privacy loss per person, and warn when a budget cannot last or the loss is above 10', async (t) => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'policies-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // Epsilon 0.1 a release buys a 95% count margin of ±60 people, so groups start at k = 150 (a margin under
  // half of k, else `policy check` warns about that too): a meaningful yearly guarantee costs that much precision.
  const policy = (cadence: string, budget: number) => `name: dash\ndescription: Dashboard.\nconsumers: [dash]\nk: 150\nperiods: [D30]\nfreshReleases: ${cadence}\nprivacyBudget: { epsilonPerYear: ${budget} }\nreports:\n  getEmailActivityUserDetail:\n    cohort: { by: [organization, department], noise: { epsilon: 0.1 } }\n`;
  await writeFile(join(dir, 'dash.yaml'), policy('daily', 10));
  const daily = await runCli(['policy', 'check', dir]);
  t.equal(daily.code, 0, 'warnings do not stop the set');
  t.match(daily.out, /policy 'dash': 1 noisy releases it may read, each made afresh 366 times a year: epsilon 36\.6 per year polling everything \(budget 10\)/);
  t.match(daily.out, /yearly privacy loss per person, across all consumers: epsilon 36\.6/);
  t.match(daily.err, /its yearly budget \(epsilon 10\) runs out after about 99 days/);
  t.match(daily.err, /epsilon 36\.6, above 10: at that level the noise is not a meaningful differential-privacy guarantee/);
  await writeFile(join(dir, 'dash.yaml'), policy('weekly', 10));
  const weekly = await runCli(['policy', 'check', dir]);
  t.match(weekly.out, /epsilon 5\.3 per year polling everything \(budget 10\)/);
  t.notMatch(weekly.err, /warning/, 'weekly fresh releases: the budget lasts and the loss stays below 10');
  const explained = await runCli(['policy', 'explain', 'dash', 'getEmailActivityUserDetail', dir]);
  t.match(explained.out, /yearly privacy loss per person, across all consumers: epsilon 5\.3/);
  // Already weekly: the advice names what is left to do, not the cadence the policy has (before, both warnings
  // told the officer to set freshReleases: weekly on a weekly policy).
  await writeFile(join(dir, 'dash.yaml'), policy('weekly', 3).replace('epsilon: 0.1', 'epsilon: 0.3'));
  const spent = await runCli(['policy', 'check', dir]);
  t.match(spent.err, /its yearly budget \(epsilon 3\) runs out after about \d+ days .*; raise privacyBudget or release fewer noisy reports and periods/);
  t.match(spent.err, /epsilon 15\.9, above 10: .*; say so in the disclosure, or release fewer noisy reports, or exact figures protected by suppression alone/);
  t.notMatch(spent.err, /freshReleases: weekly/, 'a weekly policy is not told to become weekly');
});

t.test("issue 15 item 6: the organisation's planned yearly total counts a figure two policies release at the same scale once, and figures at different scales each", async (t) => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'policies-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const policy = (name: string, k: number, epsilon: number) => `name: ${name}\ndescription: Dashboard.\nconsumers: [${name}]\nk: ${k}\nperiods: [D30]\nfreshReleases: daily\nprivacyBudget: { epsilonPerYear: 100 }\nreports:\n  getEmailActivityUserDetail:\n    cohort: { by: [organization, department], noise: { epsilon: ${epsilon} } }\n`;
  await writeFile(join(dir, 'dash-a.yaml'), policy('dash-a', 150, 0.1));
  // Another tool whose policy differs only in k: the same cells at the same scale, the same draws (one release).
  await writeFile(join(dir, 'dash-b.yaml'), policy('dash-b', 160, 0.1));
  const same = await runCli(['policy', 'check', dir]);
  t.equal(same.code, 0);
  t.match(same.out, /policy 'dash-b': 1 noisy releases it may read, each made afresh 366 times a year: epsilon 36\.6 per year/, 'each consumer spends its share');
  t.match(same.out, /yearly privacy loss per person, across all consumers: epsilon 36\.6 /, 'the organisation pays once');
  t.match(same.err, /epsilon 36\.6, above 10/, 'and is warned above 10');
  const explained = await runCli(['policy', 'explain', 'dash-a', 'getEmailActivityUserDetail', dir]);
  t.match(explained.out, /yearly privacy loss per person, across all consumers: epsilon 36\.6 .*by default also the organisation limit/, 'policy explain shows the same total, and that it is the default limit');
  // At another scale the second tool's figures are other draws: the organisation pays for both.
  await writeFile(join(dir, 'dash-b.yaml'), policy('dash-b', 160, 0.2));
  const apart = await runCli(['policy', 'check', dir]);
  t.match(apart.out, /yearly privacy loss per person, across all consumers: epsilon 109\.8 /);
});

t.test('`policy explain` says where a cohort release is suppressed within a shared table that raises its k (before, it gave the policy\'s own k alone)', async (t) => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'policies-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // k 5 reads as groups of 5 hidden below; with the score granted (k_org 10), the Teams cohorts are one table with
  // the score's Meetings at k 10, and D7 and D30 one table (they nest): the proxy hides groups of 5 to 9 too.
  await writeFile(join(dir, 'board.yaml'), 'name: board\ndescription: Adoption board.\nconsumers: [board]\nk: 5\nkC: 5\nkOrg: 10\nperiods: [D7, D30]\npermissions: [score]\nreports:\n  getTeamsUserActivityUserDetail:\n    cohort: { by: [organization, department, officeLocation] }\n');
  const explained = await runCli(['policy', 'explain', 'board', 'getTeamsUserActivityUserDetail', dir]);
  t.equal(explained.code, 0, explained.err);
  t.match(explained.out, /k = 5: a group of 1 to 4 people/, "the policy's own k");
  t.match(explained.out, /served within a shared table for D7, D30: its groups are suppressed as one table with the org score's Meetings, the periods D7, D30 \(they nest\), .*a group of fewer than 10 people, .* is hidden \(this table raises the policy's own k from 5 to 10/);
  // Without the score and with one period, nothing is shared: no such line.
  await writeFile(join(dir, 'board.yaml'), 'name: board\ndescription: Adoption board.\nconsumers: [board]\nk: 5\nkC: 5\nperiods: [D30]\nreports:\n  getTeamsUserActivityUserDetail:\n    cohort: { by: [organization, department, officeLocation] }\n');
  const alone = await runCli(['policy', 'explain', 'board', 'getTeamsUserActivityUserDetail', dir]);
  t.notMatch(alone.out, /shared table/);
});

t.test('`policy diff` says what a change does within the current Graph refresh to the tables it widens or narrows (before, it listed the consumers\' settings only)', async (t) => {
  const { mkdir, mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const base = await mkdtemp(join(tmpdir(), 'policies-'));
  t.teardown(() => rm(base, { recursive: true, force: true }));
  const board = (extra: string, by: string) => `name: board\ndescription: Adoption board.\nconsumers: [board]\nk: 5\nkC: 5\nkOrg: 10\nperiods: [D7, D30]\n${extra}reports:\n  getTeamsUserActivityUserDetail:\n    cohort: { by: [${by}] }\n`;
  const sets = { cohorts: board('', 'organization, department'), score: board('permissions: [score]\n', 'organization, department'), fewer: board('', 'organization') };
  for (const [name, text] of Object.entries(sets)) {
    await mkdir(join(base, name));
    await writeFile(join(base, name, 'board.yaml'), text);
  }
  // The score granted beside released Teams cohorts links its Meetings category to their table: it widens.
  const granted = await runCli(['policy', 'diff', join(base, 'cohorts'), join(base, 'score')]);
  t.equal(granted.code, 0, granted.err);
  t.match(granted.out, /\+ board: permission 'score' newly granted/);
  t.match(granted.out, /~ board getTeamsUserActivityUserDetail: its organisation table for D7, D30 widens \(linked to the score's Meetings\)/);
  t.match(granted.out, /served suppressed \(counted by gpp_cells_held_until_refresh\), and the cells it hides are hidden at once/);
  // A dimension dropped: the tables made today are kept until the next refresh.
  const dropped = await runCli(['policy', 'diff', join(base, 'cohorts'), join(base, 'fewer')]);
  t.match(dropped.out, /~ board getTeamsUserActivityUserDetail: its organisation table for D7, D30 narrows \(no longer grouped by department\): until Graph's next refresh its releases are still suppressed within the tables today's releases were made in/);
  // Nothing about the tables changes: no such line.
  const same = await runCli(['policy', 'diff', join(base, 'cohorts'), join(base, 'cohorts')]);
  t.notMatch(same.out, /organisation table/);
});

t.test('`policy diff` lists a change of the organisation\'s yearly privacy loss per person (the default organisation limit), first among exposure increases (before, adding a noisy period showed only the period)', async (t) => {
  const { mkdir, mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const base = await mkdtemp(join(tmpdir(), 'policies-'));
  t.teardown(() => rm(base, { recursive: true, force: true }));
  const policy = (periods: string) => `name: dash\ndescription: Dashboard.\nconsumers: [dash]\nk: 150\nperiods: [${periods}]\nprivacyBudget: { epsilonPerYear: 100 }\nreports:\n  getEmailActivityUserDetail:\n    cohort: { by: [organization, department], noise: { epsilon: 0.1 } }\n`;
  for (const [name, periods] of [['d30', 'D30'], ['d7', 'D7, D30']] as const) {
    await mkdir(join(base, name));
    await writeFile(join(base, name, 'dash.yaml'), policy(periods));
  }
  const diff = await runCli(['policy', 'diff', join(base, 'd30'), join(base, 'd7')]);
  t.equal(diff.code, 0, diff.err);
  t.match(diff.out, /: 2 exposure increases, 0 decreases, 1 other change\n {2}\+ dash: period D7 newly allowed\n {2}\+ \(organisation\): yearly privacy loss per person across all consumers: epsilon 36\.6 -> 73\.2 \(by default also the proxy's organisation limit/);
  const back = await runCli(['policy', 'diff', join(base, 'd7'), join(base, 'd30')]);
  t.match(back.out, /- \(organisation\): yearly privacy loss per person across all consumers: epsilon 73\.2 -> 36\.6/);
});

t.test('`policy diff` says when a raise of k changes nothing served, the groups being hidden at a shared table\'s larger k (before: "- k 5 -> 8" read as hiding more)', async (t) => {
  const { mkdir, mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const base = await mkdtemp(join(tmpdir(), 'policies-'));
  t.teardown(() => rm(base, { recursive: true, force: true }));
  const board = (k: number) => `name: board\ndescription: Adoption board.\nconsumers: [board]\nk: ${k}\nkC: 5\nkOrg: 10\nperiods: [D30]\npermissions: [score]\nreports:\n  getTeamsUserActivityUserDetail:\n    cohort: { by: [organization, department] }\n`;
  for (const k of [5, 8, 12]) {
    await mkdir(join(base, `k${k}`));
    await writeFile(join(base, `k${k}`, 'board.yaml'), board(k));
  }
  const raised = await runCli(['policy', 'diff', join(base, 'k5'), join(base, 'k8')]);
  t.equal(raised.code, 0, raised.err);
  t.match(raised.out, /- board: k 5 -> 8\n {2}~ board getTeamsUserActivityUserDetail: the change of k or k_c changes nothing served of this report: its groups are hidden at k 10 and k_c 5 in a shared table/);
  // Above the shared table's k, the raise does hide more: no such line.
  const above = await runCli(['policy', 'diff', join(base, 'k5'), join(base, 'k12')]);
  t.notMatch(above.out, /changes nothing served/);
});
