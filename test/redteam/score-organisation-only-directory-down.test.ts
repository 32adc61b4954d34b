/**
 * Red team (wrong refusal, README "Within one Graph refresh"): the org score's policy changed within a refresh from
 * the score by department to the organisation's score alone (an exposure decrease). The organisation's score needs
 * no directory, and the refresh's directory is pinned already (sources.ts DirectoryPins: the department release
 * read it), but the release is kept within the score table by department (tables-made.ts scoreTableFor) and
 * score/org-scores.ts reads the directory for it afresh (`this.options.directory.current()`), not the pinned one:
 * when Graph's /users then fails, the organisation's score is refused, although the same policy on a fresh proxy
 * releases it without any directory.
 * Fixed: the late read goes through the refresh's pin (cohort/sources.ts directoryForData); failed before.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startGraphDouble, type GraphDoubleOptions } from '../helpers/graph-double.js';
import { KEYS, startProxyFor } from '../helpers/proxy-stack.js';
import { directoryOf, tenantReports } from '../helpers/random-tenant.js';
import { officeDropTenant, readContentCollaboration, scorePolicy } from './reload-helpers.js';

t.setTimeout(120_000);

const TENANT = officeDropTenant();
const SETTINGS = 'k: 4\nkC: 2\nkOrg: 4';
const DOWN = { error: { code: 'ServiceUnavailable', message: 'try later' } };
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

t.test('the organisation\'s score after a score by department within the refresh, with /users failing: released as before', async (t) => {
  const options: Mutable<GraphDoubleOptions> = { reports: await tenantReports(TENANT), directory: directoryOf(TENANT) };
  const double = await startGraphDouble(options);
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-score-org-only-'));
  const file = join(dir, 'score.yaml');
  await writeFile(file, scorePolicy('score', 'organization, department', SETTINGS));
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir, directoryTtlSeconds: 0 } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const kept = await readContentCollaboration(t, proxy, 'department');
  options.directory = DOWN;
  const before = proxy.proxy.policies.current.version;
  await writeFile(file, scorePolicy('score', 'organization', SETTINGS));
  await proxy.proxy.policies.reload();
  t.not(proxy.proxy.policies.current.version, before, 'the organisation-only policy is live');
  const later = await proxy.get('/org-score?period=D30', KEYS.stranger);
  t.comment(`after the change: ${later.status} ${later.body.toString().slice(0, 300)}`);
  t.equal(later.status, 200, 'the organisation\'s score, within the pinned directory\'s table: released');
  if (later.status === 200) {
    const body = JSON.parse(later.body.toString()) as { organization: { categories: { id: string; numerator: number | null; denominator: number | null }[] } };
    const c = body.organization.categories.find((x) => x.id === 'contentCollaboration')!;
    t.same(c.numerator === null ? null : { users: c.denominator, active: c.numerator }, kept.get('organization/all'), 'Content collaboration as released before');
  }
});

t.test('control: the organisation-only score on a fresh proxy with /users failing is released', async (t) => {
  const double = await startGraphDouble({ reports: await tenantReports(TENANT), directory: DOWN });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-score-org-only-'));
  await writeFile(join(dir, 'score.yaml'), scorePolicy('score', 'organization', SETTINGS));
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir, directoryTtlSeconds: 0 } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  t.equal((await proxy.get('/org-score?period=D30', KEYS.stranger)).status, 200, 'released without any directory');
});
