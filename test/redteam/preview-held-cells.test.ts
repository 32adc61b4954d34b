/**
 * Red team (privacy.md's threat model: consumers keep every response; a consumer may hold the 'preview' permission;
 * G2/G3): `GET /policy/preview` runs the proxy's cohort release (policy/preview.ts cohortPreview) on the snapshots
 * it holds, but not within the refresh's patterns: within one Graph refresh the live releases are made within the
 * tables and patterns the refresh's earlier releases were made within (cohort/tables-made.ts TablesMade: a cell an
 * earlier release hid stays hidden until Graph's next refresh), the preview with the live policy set alone. Its
 * counts by reason then describe a pattern no release shows: which held cells the new set would show, and why the
 * others are hidden.
 *
 * dimension-drop-reload's tenant (k = 4, k_c = 2, nobody outside the directory): DeptA 7 people (P 2/2 active, Q
 * 4/2, R 1/1), DeptB 5 (P 2/1, Q 2/1, R 1/1), DeptC 5 (P 2/1, Q 3/2), DeptD 7 (P 2/1, Q 2/0, R 3/3). By department
 * and office the kept release hides DeptB and DeptC (organisation 24/15, DeptA 7/5, DeptD 7/4: 4 inactive people
 * between them, 0..4 each). officeLocation is dropped within the refresh; the live release by department keeps
 * both hidden (3 cells shown), the preview counts 4 released, 1 primary (the empty '(not in directory)'), 0 small
 * complement, 1 secondary: neither has fewer than 2 active or 1 inactive, so DeptB's and DeptC's inactive people
 * are pinned to 2 each (k_c = 2 needs an interval of 2). Found on c9d516c (s9 red team); the test failed before:
 * 4 released where the live release shows 3, in one process and across a restart.
 * Fixed: a running proxy's preview of a release its refresh's patterns would serve otherwise is not measured until
 * Graph's next refresh (cohort/tables-made.ts TablesMade.holdsBack, read-only: the store's patterns as they are).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { PolicyPreview } from '../../src/policy/preview.js';
import { startGraphDouble } from '../helpers/graph-double.js';
import type { Observed } from '../helpers/independent-attacker.js';
import { KEYS, startProxyFor, type ProxyUnderTest } from '../helpers/proxy-stack.js';
import { directoryOf, tenantReports, TEAMS } from '../helpers/random-tenant.js';
import { exactTeamsPolicy, idlePerson, officeDropTenant, readTeams } from './reload-helpers.js';

t.setTimeout(120_000);

const TENANT = officeDropTenant(idlePerson, 10);
/** The privacy office's console: the preview, and no report (licence-tool's key, which the stack knows). */
const OPERATIONS = "name: operations\ndescription: The privacy office's console reads the policy preview, and no report.\nconsumers: [licence-tool]\npermissions: [preview]\nreports: {}\n";

/** The preview of the cohort consumer's Teams D30, which must say what the live release `live` shows, or not measure it. */
async function previewAgrees(t: Test, proxy: ProxyUnderTest, live: Observed): Promise<string> {
  const response = await proxy.get('/policy/preview', KEYS.licence);
  t.equal(response.status, 200, 'the operator reads the preview');
  const teams = (JSON.parse(response.body.toString()) as PolicyPreview).consumers.find((c) => c.consumer === 'no-policy')!.reports.find((r) => r.report === TEAMS)!;
  t.comment(JSON.stringify(teams));
  const shown = [...live.values()].filter((v) => v !== null).length;
  if (teams.kind === 'cohort') {
    t.equal(teams.cells, live.size, 'the cells the proxy serves');
    t.equal(teams.released, shown, `released as the live release shows them (${shown}); a held cell counted released, with no small complement, pins DeptB's and DeptC's inactive people to 2`);
  }
  return teams.kind;
}

t.test('the preview after officeLocation is dropped within the refresh counts as released no cell the live release holds', async (t) => {
  const double = await startGraphDouble({ reports: { [`${TEAMS}(period='D30')`]: (await tenantReports(TENANT))[TEAMS]! }, directory: directoryOf(TENANT) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-preview-held-'));
  const file = join(dir, 'drop-office.yaml');
  await writeFile(file, exactTeamsPolicy('drop-office', 'organization, department, officeLocation'));
  await writeFile(join(dir, 'operations.yaml'), OPERATIONS);
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  t.equal(await previewAgrees(t, proxy, await readTeams(t, proxy, 'D30')), 'cohort', 'before the change the preview measures the release');
  await writeFile(file, exactTeamsPolicy('drop-office', 'organization, department'));
  await proxy.proxy.policies.reload();
  const live = await readTeams(t, proxy, 'D30');
  t.equal(live.get('department/DeptB'), null, 'the live release holds DeptB');
  t.equal(live.get('department/DeptC'), null, 'and DeptC');
  t.equal(await previewAgrees(t, proxy, live), 'unavailable', 'after it, not measured until the next refresh');
});

t.test('the same across a restart, the patterns in the embedded store', async (t) => {
  const double = await startGraphDouble({ reports: { [`${TEAMS}(period='D30')`]: (await tenantReports(TENANT))[TEAMS]! }, directory: directoryOf(TENANT) });
  t.teardown(() => double.close());
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-preview-held-restart-'));
  const file = join(dir, 'drop-office.yaml');
  await writeFile(file, exactTeamsPolicy('drop-office', 'organization, department, officeLocation'));
  await writeFile(join(dir, 'operations.yaml'), OPERATIONS);
  const shared = { policiesDir: dir, sealSecret: randomBytes(32), noiseKey: randomBytes(32), ledgerFile: join(dir, 'state', 'ledger.jsonl'), historyFile: join(dir, 'state', 'history.jsonl') };
  const first = await startProxyFor(double, { proxy: shared });
  await readTeams(t, first, 'D30');
  await first.close();
  await writeFile(file, exactTeamsPolicy('drop-office', 'organization, department'));
  const restarted = await startProxyFor(double, { proxy: shared });
  t.teardown(() => restarted.close());
  const live = await readTeams(t, restarted, 'D30');
  t.equal(live.get('department/DeptB'), null, 'the restarted proxy holds DeptB');
  t.not(await previewAgrees(t, restarted, live), 'rows', 'measured as served, or not measured');
});
