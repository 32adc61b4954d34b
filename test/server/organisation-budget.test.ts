/**
 * The organisation's yearly privacy limit (issue 15, item 6; privacy.md "A budget that lasts"): each consumer's
 * share is limited by its policy, and the organisation's total (what a person is exposed to across all tools)
 * by GPP_ORGANISATION_EPSILON_PER_YEAR, by default the live set's planned total. Past it no fresh noisy release
 * is made for anyone: a consumer is served its last release, marked stale, never a fresh one, whatever is left
 * of its own share. Real proxies and simulated tenants; Graph's next refresh is a second tenant a day later,
 * behind a proxy restarted on the same ledger and release book.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ConsumerKeys } from '../../src/server/consumer-keys.js';
import { startStack } from '../helpers/proxy-stack.js';

const TEAMS = 'getTeamsUserActivityUserDetail';
const KEY = {
  a: 'gpp_test-org-budget-tool-a-0000000000000000000000000',
  b: 'gpp_test-org-budget-tool-b-0000000000000000000000000',
  c: 'gpp_test-org-budget-tool-c-0000000000000000000000000',
};

/** A noisy tool: Teams users and active users per department, one release costing `epsilon`, a large own share. */
const tool = (name: string, epsilon: number) => `name: tool-${name}
description: A noisy department dashboard (fixture).
consumers: [tool-${name}]
k: 10
kC: 5
periods: [D30]
freshReleases: daily
privacyBudget: { epsilonPerYear: 1000 }
reports:
  ${TEAMS}:
    cohort:
      by: [organization, department]
      noise: { epsilon: ${epsilon} }
`;

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

async function setting() {
  const policiesDir = await mkdtemp(join(tmpdir(), 'gpp-org-budget-policies-'));
  // Different epsilons, so different scales: each tool's figures are releases of their own, each paid for.
  await writeFile(join(policiesDir, 'tool-a.yaml'), tool('a', 1));
  await writeFile(join(policiesDir, 'tool-b.yaml'), tool('b', 2));
  await writeFile(join(policiesDir, 'tool-c.yaml'), tool('c', 3));
  const data = await mkdtemp(join(tmpdir(), 'gpp-org-budget-data-'));
  return {
    policiesDir, consumerKeys: ConsumerKeys.of({ 'tool-a': KEY.a, 'tool-b': KEY.b, 'tool-c': KEY.c }),
    ledgerFile: join(data, 'ledger.jsonl'), historyFile: join(data, 'score-history.jsonl'),
  };
}

interface Budget {
  spent: number;
  epsilonPerYear: number;
  organisation: { spent: number; epsilonPerYear: number | null; left: number | null; exhausted: boolean; resetsAt: string };
}

t.test('G6/G7: past the organisation limit no fresh noisy release is made for anyone; each consumer gets its last one, marked stale', async (t) => {
  const proxy = { ...(await setting()), organisationEpsilonPerYear: 3 };
  const path = `/cohorts/${TEAMS}?period=D30&by=department&format=json`;
  const year = new Date().getUTCFullYear();

  const first = await startStack({ simulator: { users: 200, refreshDate: daysAgo(3) }, proxy });
  const day1 = await first.get(path, KEY.a);
  t.equal(day1.status, 200);
  t.equal(day1.headers['x-gpp-release-stale'], 'false', 'the first release is fresh');
  t.equal((await first.get(path, KEY.b)).status, 200, "tool B's release (another scale) is paid for too: the organisation has now spent its 3");
  const budget = JSON.parse((await first.get('/budget', KEY.a)).body.toString()) as Budget;
  t.equal(budget.spent, 1, "tool A's own share: epsilon 1");
  t.same(budget.organisation, { spent: 3, epsilonPerYear: 3, left: 0, exhausted: true, resetsAt: `${year + 1}-01-01T00:00:00Z` }, "GET /budget shows the organisation's spent, limit, left and reset beside the consumer's share");
  await first.close();

  // Graph's next refresh: a fresh release would cost the organisation more than its limit.
  const next = await startStack({ simulator: { users: 200, refreshDate: daysAgo(2) }, proxy });
  t.teardown(() => next.close());
  const day2 = await next.get(path, KEY.a);
  t.equal(day2.status, 200);
  t.equal(day2.headers['x-gpp-release-stale'], 'true', 'the last release is served, marked stale (header)');
  const body = JSON.parse(day2.body.toString()) as { value: { reportRefreshDate: string }[]; stale: boolean };
  t.equal(body.stale, true, 'and field');
  const report = await next.get(`/beta/reports/${TEAMS}(period='D30')?$format=application/json`, KEY.a);
  t.equal(report.headers['x-gpp-release-stale'], 'true', 'the report URL serves the same stale release');
  t.equal((JSON.parse(report.body.toString()) as Record<string, unknown>)['@graphPrivacyProxy.stale'], true, 'marked @graphPrivacyProxy.stale');
  t.same(body.value, (JSON.parse(day1.body.toString()) as { value: unknown }).value, "byte for byte the release of the day before, never a fresh one (tool A's own share had 999 left)");
  t.ok(body.value.every((row) => row.reportRefreshDate === daysAgo(3)), "it says which day's data it is");
  const never = await next.get(path, KEY.c);
  t.equal(never.status, 403, 'a consumer with nothing to fall back on is refused');
  const error = JSON.parse(never.body.toString()) as { error: { code: string; message: string } };
  t.equal(error.error.code, 'PrivacyBudgetExhausted');
  t.match(error.error.message, /organisation's privacy budget/, 'and told it is the organisation\'s budget, not its own');
  const after = JSON.parse((await next.get('/budget', KEY.c)).body.toString()) as Budget;
  t.same([after.spent, after.organisation.spent, after.organisation.exhausted], [0, 3, true], 'nothing was charged for the refusals');
});

t.test("the organisation limit defaults to the live set's planned yearly total (what policy check prints)", async (t) => {
  const stack = await startStack({ simulator: { users: 120 }, proxy: await setting() });
  t.teardown(() => stack.close());
  const budget = JSON.parse((await stack.get('/budget', KEY.b)).body.toString()) as Budget;
  // Daily releases of one (report, period) each, 366 a year: epsilon 1, 2 and 3 per release, no figure shared.
  t.same([budget.organisation.epsilonPerYear, budget.organisation.spent, budget.organisation.exhausted], [366 * 6, 0, false]);
});
