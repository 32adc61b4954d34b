import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import t from 'tap';
import { ScoreHistory } from '../../src/store/score-history.js';
import { dashboardHtml, trendSvg } from '../../src/server/dashboard.js';
import { KEYS, startStack } from '../helpers/proxy-stack.js';

const CHROMIUM = '/usr/bin/chromium';

t.test('the score history keeps one point per refresh date and period, survives a reopen, and serves six months', async (t) => {
  const { mkdtemp } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const file = join(await mkdtemp(join(tmpdir(), 'gpp-history-test-')), 'h.jsonl');
  const history = await ScoreHistory.open(file);
  const point = (refreshDate: string, percentage: number) => ({ refreshDate, period: 'D30', percentage, points: percentage * 5, max: 500, categories: { communication: percentage } });
  await history.record(point('2026-05-01', 40));
  await history.record(point('2026-11-20', 60));
  await history.record(point('2026-11-20', 60));
  await history.record(point('2026-11-21', 62));
  await history.close();
  const reopened = await ScoreHistory.open(file);
  t.same((await reopened.series('D30', new Date('2026-11-23T00:00:00Z'))).map((p) => [p.refreshDate, p.percentage]), [['2026-11-20', 60], ['2026-11-21', 62]], 'older than six months is not shown; the repeat was not stored twice');
  t.same(await reopened.series('D7'), []);
  await reopened.close();
  t.match(trendSvg([point('2026-11-20', 60), point('2026-11-21', 62)]), /<svg id="trend"[\s\S]*<path d="M/);
  t.match(dashboardHtml({ period: 'D30', kOrg: 10, kC: 5, by: 'department', history: [], problem: '<b>x</b>' }), /&lt;b&gt;x&lt;\/b&gt;/);
});

t.test('headless Chromium renders the dashboard (score, categories, chart, departments compared on the same categories, why groups are hidden) and the disclosure page', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (.ci/run installs it)` }, async (t) => {
  const { chromium } = await import('playwright-core');
  const stack = await startStack({ simulator: { users: 400 } });
  t.teardown(() => stack.close());
  // A score computed through the API first: the dashboard's trend then has a point.
  t.equal((await stack.get('/org-score?period=D30', KEYS.vendor)).status, 200);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  t.teardown(() => browser.close());
  // The dashboard asks for a key (HTTP Basic); the browser answers with the vendor's, whose policy grants the score.
  const context = await browser.newContext({ ignoreHTTPSErrors: true, httpCredentials: { username: 'viewer', password: KEYS.vendor } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await mkdir('test/artifacts', { recursive: true });
  const response = await page.goto(`${stack.proxy.url}/`);
  t.equal(response?.status(), 200);
  t.match(await page.locator('#score').innerText(), /^\d+(\.\d)?%$/);
  t.equal(await page.locator('#categories tbody tr').count(), 5);
  t.ok(await page.locator('#trend').isVisible(), 'the trend chart renders');
  t.ok((await page.locator('#trend circle').count()) >= 1, 'with a point for the score just computed');
  t.ok((await page.locator('#cohorts tbody tr').count()) > 5, 'the per-department view renders');
  t.match(await page.locator('body').innerText(), /No person can be looked up here, by design/);
  // Issue 15 item 7, as a reader sees it: departments compared on the same categories, named on the page.
  const compared = /^The score compares every group on the same categories, those released for all groups shown: (.+)\.$/.exec((await page.locator('#compared').innerText()).trim());
  t.ok(compared !== null, 'the page says which categories the departments are compared on');
  const common = compared![1]!.split(', ');
  const headers = (await page.locator('#cohorts thead th').allInnerTexts()).map((h) => h.trim());
  t.ok(common.length > 0 && common.every((c) => headers.includes(c)), `each named category (${common.join(', ')}) is a column of the table`);
  let scored = 0;
  for (const row of await page.locator('#cohorts tbody tr').all()) {
    const cells = (await row.locator('td').allInnerTexts()).map((c) => c.trim());
    const score = /([0-9.]+)%$/.exec(cells[1]!);
    if (score === null) {
      t.equal(cells[1], 'hidden', `${cells[0]}: no score, marked hidden`);
      continue;
    }
    const points = common.map((c) => Number(/^[0-9.]+/.exec(cells[headers.indexOf(c)]!)?.[0]));
    t.ok(points.every((p) => !Number.isNaN(p)), `${cells[0]}: every common category is shown`);
    t.equal(Number(score[1]), Math.round((10 * points.reduce((a, b) => a + b, 0)) / points.length) / 10, `${cells[0]}: its score is the mean over the common categories only`);
    scored++;
  }
  t.ok(scored >= 2, `${scored} departments scored side by side`);
  // Hidden groups say why, in plain words, on the page and on each hidden cell.
  const why = await page.locator('#hidden-why').innerText();
  for (const reason of ['fewer than 10 people', 'protecting a few inactive people', 'needed to protect another hidden group']) t.ok(why.includes(reason), `the page gives the reason: ${reason}`);
  const hiddenCells = page.locator('#cohorts span.muted', { hasText: 'hidden' });
  t.ok((await hiddenCells.count()) > 0, 'some groups are hidden on this tenant');
  t.match(await hiddenCells.first().getAttribute('title'), /^Hidden: fewer than 10 people; protecting a few inactive people .*needed to protect another hidden group/, 'a hidden cell says why when pointed at');
  t.match(await page.locator('#exact').innerText(), /Group figures are exact/, 'under the shipped (exact) policy');
  await page.screenshot({ path: 'test/artifacts/dashboard.png', fullPage: true });
  await page.locator('a[href="/disclosure.html"]').first().click();
  await page.waitForURL(/disclosure\.html$/);
  t.match(await page.locator('h1').innerText(), /What each tool can see/);
  t.match(await page.locator('body').innerText(), /licence-tool/);
  t.match(await page.locator('body').innerText(), /Exact figures: Figures are exact \(no noise\)/, 'the disclosure says the vendor figures are exact');
  await page.screenshot({ path: 'test/artifacts/disclosure.png', fullPage: true });
  t.same(errors, [], 'no console errors (the CSP blocks nothing the pages need)');
});

t.test('issue 15 item 7: departments are compared on the same categories, hidden groups say why, concealed names are explained, the first day says history starts', async (t) => {
  const stack = await startStack({ simulator: { users: 400 } });
  t.teardown(() => stack.close());
  const page = await stack.get('/', KEYS.vendor);
  t.equal(page.status, 200);
  const html = page.body.toString();
  const compared = /<p class="small" id="compared">The score compares every group on the same categories, those released for all groups shown: ([^<.]+)\.<\/p>/.exec(html);
  t.ok(compared !== null, 'the page names the categories every group is compared on');
  const common = compared![1]!.split(', ');
  const score = JSON.parse((await stack.get('/org-score?period=D30&by=department', KEYS.vendor)).body.toString()) as { cohorts: { cohort: string[]; suppressed: boolean; categories: { title: string; points: number | null; suppressed: boolean }[] }[] };
  const shown = score.cohorts.filter((c) => !c.suppressed);
  t.same(common, shown[0]!.categories.filter((c) => shown.every((r) => r.categories.some((x) => x.title === c.title && !x.suppressed))).map((c) => c.title), 'exactly the categories released for every group shown');
  for (const cohort of shown) {
    const points = cohort.categories.filter((c) => common.includes(c.title)).map((c) => c.points!);
    const expected = Math.round((10 * points.reduce((a, b) => a + b, 0)) / points.length) / 10;
    t.match(html, new RegExp(`<tr><td>${cohort.cohort[0]}</td><td><span class="bar"><span style="width:[0-9.]+%"></span></span> ${expected}%</td>`), `${cohort.cohort[0]}: scored over the common categories (${expected}%)`);
  }
  t.match(html, /id="hidden-why">A group or a figure marked hidden is hidden for one of these reasons, never said which: fewer than 10 people; protecting a few inactive people \(1 to 4 people in the group who do not count in a category, or fewer than 5 who do\); or needed to protect another hidden group, which could otherwise be worked out from the figures shown\. An empty group looks the same\./, "the vendor policy's k_org and k_c in plain words");
  t.ok(score.cohorts.some((c) => c.suppressed), 'some department is hidden here, so the wording is needed');
  t.match(html, /<span class="muted" title="Hidden: fewer than 10 people; [^"]+">hidden<\/span>/, 'each hidden cell carries the reasons');
  t.match(html, /id="exact">Group figures are exact: groups are protected by hiding them, not by noise\./, 'the shipped vendor policy is exact, and the page says so');
  t.notMatch(html, /id="margins"|&plusmn;/, 'no margins are claimed');
  t.match(html, /id="trend-start" class="small">History starts with the reports of \d{4}-\d{2}-\d{2}: the trend grows by one point a week \(a fresh score is released once a week\)\./, 'on the first day the trend says history starts, and how it grows under the weekly release');
  t.notMatch(html, /id="concealed"/);

  const concealed = await startStack({ simulator: { users: 120, concealedNames: true } });
  t.teardown(() => concealed.close());
  const hidden = (await concealed.get('/', KEYS.vendor)).body.toString();
  t.match(hidden, /<span id="score" class="big">[0-9.]+%<\/span>/, "the organisation's score is shown with concealed names");
  t.match(hidden, /id="concealed" class="note">Groups by department are not shown: Microsoft 365 conceals user names/, 'and the page says why groups are missing and what to change');
});

t.test("a category hidden for the whole organisation gives every reason it may be hidden, never one that may be false (before: 'too few people to show safely' for an organisation of 250 whose category hid a few people who do not qualify)", async (t) => {
  const category = (id: string, numerator: number | null, denominator: number | null) => ({ id, title: id, numerator, denominator, points: numerator === null ? null : Math.round((1000 * numerator) / denominator!) / 10, definition: `${id} definition`, reports: [], suppressed: numerator === null });
  const organization = { dimension: 'organization', cohort: ['all'], total: { points: 80.4, max: 100, percentage: 80.4 }, categories: [category('communication', 185, 230), category('teamwork', null, null)], suppressed: false };
  const html = dashboardHtml({ period: 'D30', kOrg: 10, kC: 5, by: 'department', rows: [organization], history: [] });
  t.notMatch(html, /too few people/);
  t.match(html, /<td>teamwork<\/td><td><span class="muted">not shown \(hidden for one of these reasons, never said which: fewer than 10 people; protecting a few inactive people \(1 to 4 people in the group who do not count in a category, or fewer than 5 who do\); or needed to protect another hidden group/);
});
