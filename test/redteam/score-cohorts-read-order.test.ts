/**
 * Red team, utility (no policy change): the score's categories linked to a cohort table (Meetings, with the Teams
 * cohorts) are suppressed first alone, as an interim step (score/org-scores.ts computeFresh), then take the states
 * of the organisation's Teams table. What the interim step hides is kept as the refresh's pattern
 * (cohort/tables-made.ts TablesMade.withinPatterns keeps hidden cells of interim suppressions too), so where the
 * score is read before the Teams cohorts, the organisation's table starts from cells the interim step hid. Two
 * proxies on one Graph, one set, the same reads in the other order, must release the same cells. It held on these
 * tenants (score-add-links's and three more): the interim step hides no cell the linked table shows.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { startProxyFor } from '../helpers/proxy-stack.js';
import { directoryOf, TEAMS, type RandomTenant } from '../helpers/random-tenant.js';
import { nestingTenant, periodReports, readCohorts, readScoreCategory } from './nesting-tenant.js';

t.setTimeout(180_000);

const policy = `name: teams-and-score
description: Teams cohorts and the org score by department (red-team fixture).
consumers: [no-policy]
k: 5
kC: 5
kOrg: 10
periods: [D30]
formats: [csv, json]
permissions: [score]
reports:
  ${TEAMS}:
    cohort:
      by: [organization, department]
`;

async function reads(t: Test, tenant: RandomTenant, scoreFirst: boolean) {
  const double = await startGraphDouble({ reports: await periodReports(tenant, 'D30'), directory: directoryOf(tenant) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-read-order-'));
  await writeFile(join(dir, 'teams-and-score.yaml'), policy);
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const score = () => readScoreCategory(t, proxy, 'period=D30', 'meetings');
  const cohorts = () => readCohorts(t, proxy, 'period=D30');
  if (scoreFirst) {
    const meetings = await score();
    return { meetings, teams: await cohorts() };
  }
  const teams = await cohorts();
  return { meetings: await score(), teams };
}

for (const [idleA, idleB] of [[6, 6], [0, 0], [9, 0], [3, 4]] as const) {
  t.test(`DeptA ${idleA} idle, DeptB ${idleB}: the score read before the Teams cohorts or after, the same cells`, async (t) => {
    const tenant = nestingTenant(idleA, idleB);
    const cohortsFirst = await reads(t, tenant, false);
    const scoreFirst = await reads(t, tenant, true);
    t.same([...scoreFirst.teams], [...cohortsFirst.teams], 'the Teams cohorts');
    t.same([...scoreFirst.meetings], [...cohortsFirst.meetings], 'Meetings');
  });
}
