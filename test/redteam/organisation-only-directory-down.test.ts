/**
 * Red team (wrong refusal, README "Within one Graph refresh"): a policy changed within a refresh from Teams cohorts
 * by department to cohorts by organisation only (an exposure decrease) needs no directory, and the directory of
 * the refresh is already pinned (sources.ts DirectoryPins: the department release read it). The release is still
 * suppressed within the table by department made before (tables-made.ts), and cohort-releases.ts reads the
 * directory for it afresh (it did: `this.directory.current()`), not the pinned one: when Graph's /users then fails, the
 * organisation-only release is refused, although the same policy on a fresh proxy releases without any directory
 * and the directory the table needs is in hand.
 * Fixed: the late read goes through the refresh's pin (cohort/sources.ts directoryForData); failed before.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startGraphDouble, type GraphDoubleOptions } from '../helpers/graph-double.js';
import { KEYS, startProxyFor } from '../helpers/proxy-stack.js';
import { directoryOf, tenantReports, TEAMS } from '../helpers/random-tenant.js';
import { exactTeamsPolicy, idlePerson, kcTenant } from './reload-helpers.js';

t.setTimeout(120_000);

const TENANT = kcTenant(idlePerson);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

t.test('organisation-only cohorts after a department table within the refresh, with /users failing: released as before', async (t) => {
  const options: Mutable<GraphDoubleOptions> = { reports: { [`${TEAMS}(period='D30')`]: (await tenantReports(TENANT))[TEAMS]! }, directory: directoryOf(TENANT) };
  const double = await startGraphDouble(options);
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-org-only-'));
  const file = join(dir, 'by-org.yaml');
  await writeFile(file, exactTeamsPolicy('by-org', 'organization, department'));
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir, directoryTtlSeconds: 0 } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const url = `/cohorts/${TEAMS}?period=D30&format=json`;
  const first = await proxy.get(url, KEYS.stranger);
  t.equal(first.status, 200, 'by department: released');
  const rows = (JSON.parse(first.body.toString()) as { value: { dimension: string; users: number | null; activeUsers: number | null }[] }).value;
  const organisation = rows.find((r) => r.dimension === 'organization')!;
  // Graph's /users now fails (an answer without `value`): the department table's directory is pinned already.
  options.directory = { error: { code: 'ServiceUnavailable', message: 'try later' } };
  const before = proxy.proxy.policies.current.version;
  await writeFile(file, exactTeamsPolicy('by-org', 'organization'));
  await proxy.proxy.policies.reload();
  t.not(proxy.proxy.policies.current.version, before, 'the organisation-only policy is live');
  const later = await proxy.get(url, KEYS.stranger);
  t.comment(`after the change: ${later.status} ${later.body.toString().slice(0, 300)}`);
  t.equal(later.status, 200, 'organisation only, within the pinned directory\'s table: released');
  if (later.status === 200) {
    const value = (JSON.parse(later.body.toString()) as { value: { dimension: string; users: number | null; activeUsers: number | null }[] }).value;
    t.same(value.map((r) => [r.dimension, r.users, r.activeUsers]), [['organization', organisation.users, organisation.activeUsers]], 'the organisation cell as released before');
  }
});

t.test('control: the organisation-only policy on a fresh proxy with /users failing is released', async (t) => {
  const double = await startGraphDouble({ reports: { [`${TEAMS}(period='D30')`]: (await tenantReports(TENANT))[TEAMS]! }, directory: { error: { code: 'ServiceUnavailable', message: 'try later' } } });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-org-only-'));
  await writeFile(join(dir, 'by-org.yaml'), exactTeamsPolicy('by-org', 'organization'));
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir, directoryTtlSeconds: 0 } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  t.equal((await proxy.get(`/cohorts/${TEAMS}?period=D30&format=json`, KEYS.stranger)).status, 200, 'released without any directory');
});
