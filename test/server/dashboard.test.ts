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
  t.match(dashboardHtml({ period: 'D30', kOrg: 10, by: 'department', history: [], problem: '<b>x</b>' }), /&lt;b&gt;x&lt;\/b&gt;/);
});

t.test('headless Chromium renders the dashboard (score, categories, chart) and the disclosure page', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (.ci/run installs it)` }, async (t) => {
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
  await page.screenshot({ path: 'test/artifacts/dashboard.png', fullPage: true });
  await page.locator('a[href="/disclosure.html"]').first().click();
  await page.waitForURL(/disclosure\.html$/);
  t.match(await page.locator('h1').innerText(), /What each tool can see/);
  t.match(await page.locator('body').innerText(), /licence-tool/);
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
  t.match(html, /id="hidden-why">A group or a figure marked hidden is fewer than 10 people, a handful who differ from the rest of the group, or hidden to protect another hidden group; an empty group looks the same\./);
  t.match(html, /id="trend-start" class="small">History starts with the reports of \d{4}-\d{2}-\d{2}/, 'on the first day the trend says history starts');
  t.notMatch(html, /id="concealed"/);

  const concealed = await startStack({ simulator: { users: 120, concealedNames: true } });
  t.teardown(() => concealed.close());
  const hidden = (await concealed.get('/', KEYS.vendor)).body.toString();
  t.match(hidden, /<span id="score" class="big">[0-9.]+%<\/span>/, "the organisation's score is shown with concealed names");
  t.match(hidden, /id="concealed" class="note">Groups by department are not shown: Microsoft 365 conceals user names/, 'and the page says why groups are missing and what to change');
});
