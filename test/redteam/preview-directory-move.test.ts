/**
 * Red team (privacy.md's threat model: consumers "know who joined or left" and keep every response; a consumer may
 * hold the 'preview' permission; G2): the live cohort releases of a refresh are joined to the directory pinned for
 * its refresh date (cohort/sources.ts DirectoryPins), so a person who moves department within the refresh changes
 * nothing served until Graph's next refresh. `GET /policy/preview` joined the held report to the directory it
 * holds now: over the same report data, its counts by reason before and after the move differ by the mover alone.
 *
 * Exact cohorts by department (k = k_c = 5): Sales 20 people (the first 6 inactive), Legal 8 and Engineering 25,
 * all active, and 12 guests outside the directory, all active. A known person moves from Sales to Legal: if they were
 * inactive, Legal (9, 1 inactive) is suppressed for its small complement and the preview counts one more; if
 * active, Legal (9, all active) stays released and the preview is unchanged. Found on c9d516c (s9 red team); the
 * test failed before (the preview counted 1 small complement after sales0's move, 0 before).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import type { PolicyPreview } from '../../src/policy/preview.js';
import { startGraphDouble } from '../helpers/graph-double.js';
import { KEYS, proxyCsv, startProxyFor } from '../helpers/proxy-stack.js';
import { cellsOf, craftedTeams, exactPolicy, TEAMS } from './crafted-teams.js';

t.setTimeout(60_000);

const GROUPS = [
  { department: 'Sales', office: 'London', people: 20, inactive: 6 },
  { department: 'Legal', office: 'Paris', people: 8, inactive: 0 },
  { department: 'Engineering', office: 'Berlin', people: 25, inactive: 0 },
  { department: 'Guests', office: 'None', people: 12, inactive: 0 },
];
/** The privacy office's console: the preview, and no report (licence-tool's key, which the stack knows). */
const OPERATIONS = "name: operations\ndescription: The privacy office's console reads the policy preview, and no report.\nconsumers: [licence-tool]\npermissions: [preview]\nreports: {}\n";

/** A tool that reads the Teams report's rows (no directory join): its requests fetch the snapshot and pin no directory. */
const ROWS = `name: rows-reader
description: Whether each row is of a deleted user (red-team fixture).
consumers: [onboarding]
periods: [D30]
formats: [csv, json]
reports:
  ${TEAMS}:
    rows:
      Is Deleted: keep
`;

/**
 * The preview's Teams counts for the cohort consumer before and after `mover` moves to Legal, with the live release
 * read around the move by the cohort consumer (`cohorts`: the refresh's directory is pinned) or only by the rows tool.
 */
async function moveWorld(t: Test, mover: string, reader: 'cohorts' | 'rows' = 'cohorts') {
  const crafted = await craftedTeams(GROUPS);
  const directory = crafted.directory as { value: Record<string, string>[] };
  directory.value = directory.value.filter((u) => u.department !== 'Guests');
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-preview-move-'));
  await writeFile(join(dir, 'exact.yaml'), exactPolicy('exact-departments', 'no-policy', 'organization, department'));
  await writeFile(join(dir, 'operations.yaml'), OPERATIONS);
  await writeFile(join(dir, 'rows.yaml'), ROWS);
  const double = await startGraphDouble({ reports: { [TEAMS]: crafted.csv }, directory });
  // The directory is read again a second after it was read; the report snapshot is held.
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir, directoryTtlSeconds: 1 } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const live = async () => {
    if (reader === 'rows') {
      const rows = await proxyCsv(proxy, `/v1.0/reports/${TEAMS}(period='D30')`, KEYS.onboarding);
      t.equal(rows.status, 200, `rows released ${rows.status === 200 ? '' : rows.text}`);
      return undefined;
    }
    const res = await proxy.get(`/cohorts/${TEAMS}?period=D30&by=organization,department&format=json`, KEYS.stranger);
    t.equal(res.status, 200, 'live release');
    return cellsOf(res.body);
  };
  const preview = async () => {
    const res = await proxy.get('/policy/preview', KEYS.licence);
    t.equal(res.status, 200, 'preview');
    const teams = (JSON.parse(res.body.toString()) as PolicyPreview).consumers.find((c) => c.consumer === 'no-policy')!.reports.find((r) => r.report === TEAMS)!;
    return JSON.stringify(teams);
  };
  const liveBefore = await live();
  const before = await preview();
  directory.value = directory.value.map((u) => (u.userPrincipalName === mover ? { ...u, department: 'Legal', officeLocation: 'Paris' } : u));
  await sleep(1_200);
  const liveAfter = await live();
  t.same(liveAfter, liveBefore, 'within the refresh date the live release is served as made, whatever the directory does');
  const after = await preview();
  t.comment(`${mover} moves to Legal: preview ${before} -> ${after}`);
  return { before, after };
}

t.test("the preview within a refresh is of the directory the refresh's releases are joined to: a mover's activity is not read off it", async (t) => {
  const inactive = await moveWorld(t, 'sales0@contoso.onmicrosoft.com');
  t.equal(inactive.after, inactive.before, 'G2: the preview does not change when an inactive person moves (sales0)');
  const active = await moveWorld(t, 'sales10@contoso.onmicrosoft.com');
  t.equal(active.after, active.before, 'nor when an active one does (sales10)');
});

t.test('a refresh no release joined to the directory is not previewed: two previews around a move say nothing of the mover', async (t) => {
  const inactive = await moveWorld(t, 'sales0@contoso.onmicrosoft.com', 'rows');
  t.match(JSON.parse(inactive.before), { kind: 'unavailable' }, 'not measured: no directory is pinned for the refresh');
  t.equal(inactive.after, inactive.before, 'G2: the preview does not change when an inactive person moves (sales0)');
});
