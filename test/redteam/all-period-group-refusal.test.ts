/**
 * Red team (wrong refusals; README "Periods nest"): a report's periods are one table (policy/decide.ts
 * jointCohortPlan groups every NESTED_PERIODS entry some policy releases the report for), but the group is read off
 * the policies' `periods` lists, not off the periods the report has. A policy that lists ALL (meant for the Copilot
 * reports' whole history) and releases Teams cohorts makes ALL a member of the Teams group; the Teams report has no
 * ALL period, Graph refuses `getTeamsUserActivityUserDetail(period='ALL')`, and every Teams cohort release of every
 * consumer fails with it (400 "Microsoft Graph refused this request"), where the same request without ALL listed is
 * released. Older than the refresh patterns (e4b6c54): it fails on its parent too. Fixed in windowCohortPlan: a
 * period the report does not have is no table.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { KEYS, startProxyFor } from '../helpers/proxy-stack.js';
import { directoryOf, TEAMS } from '../helpers/random-tenant.js';
import { nestingTenant, periodReports } from './nesting-tenant.js';

t.setTimeout(120_000);

const policy = (name: string, consumer: string, periods: string) => `name: ${name}
description: Exact Teams cohorts by department (red-team fixture).
consumers: [${consumer}]
k: 5
kC: 5
periods: [${periods}]
formats: [csv, json]
reports:
  ${TEAMS}:
    cohort:
      by: [organization, department]
`;

t.test('a second tool whose policy lists ALL: the first tool\'s Teams cohorts over 30 days are still released', async (t) => {
  const TENANT = nestingTenant(0, 0);
  const double = await startGraphDouble({ reports: await periodReports(TENANT, 'D30'), directory: directoryOf(TENANT) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-all-group-'));
  await writeFile(join(dir, 'thirty-days.yaml'), policy('thirty-days', 'adoption-dashboard', 'D30'));
  await writeFile(join(dir, 'with-all.yaml'), policy('with-all', 'no-policy', 'D30, ALL'));
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const res = await proxy.get(`/cohorts/${TEAMS}?period=D30&format=json`, KEYS.vendor);
  t.equal(res.status, 200, `the Teams cohorts over 30 days are released: ${res.body.toString().slice(0, 300)}`);
});
