/**
 * Red team (privacy.md's threat model: consumers "keep every response they ever got"; fail closed: nothing unparsed
 * reaches a consumer): kc-raise-reload.test.ts with a report whose Report Refresh Date is blank. Within a refresh
 * the patterns only grow (cohort/tables-made.ts TablesMade.withinPatterns), but a release whose refresh date reads
 * null (release.ts snapshotRefreshDate: an empty report's) is suppressed as it is, kept nowhere and checked against
 * nothing; a blank date reads null whatever rows follow. Graph fills the column, so this is a report Graph (or a
 * proxy in front of it) served malformed.
 *
 * The tenant is kc-drop-reload's (reload-helpers.ts kcTenant; k = 4): at k_c = 2 the release shows DeptA (2
 * inactive) and hides DeptB (1) and DeptC; at k_c = 3 it would show DeptC and hide DeptA and DeptB: joined, DeptB's
 * inactive people read 0..1 (failed so: both released, DeptB's inactive read 0..1).
 *
 * Fixed (both failed before): rows without a refresh date (blank, or the column missing) are refused as a report that contradicts itself
 * (sanitize/errors.ts blankRefreshDate; release.ts snapshotRefreshDate; the score's facts alike): 502, nothing of it
 * released.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import t from 'tap';
import { quoteCsvField } from '../../src/catalogue/csv.js';
import { startGraphDouble } from '../helpers/graph-double.js';
import { narrowedCells } from '../helpers/independent-attacker.js';
import { KEYS, startProxyFor } from '../helpers/proxy-stack.js';
import { directoryDomain, directoryOf, TEAMS } from '../helpers/random-tenant.js';
import { rewriteColumn } from './helpers.js';
import { idlePerson, joined, kcTenant, teamsPeriodReports, teamsPolicy } from './reload-helpers.js';

t.setTimeout(120_000);

const TENANT = kcTenant(idlePerson);

/** The CSV (with BOM) without its Report Refresh Date column. */
function withoutRefreshDate(text: string): Buffer {
  const [head, ...rows] = parse(text.slice(1)) as string[][];
  const i = head!.indexOf('Report Refresh Date');
  const out = [head!, ...rows].map((r) => r.filter((_, j) => j !== i).map(quoteCsvField).join(','));
  return Buffer.from(`\uFEFF${out.join('\r\n')}\r\n`, 'utf8');
}

for (const [how, rewrite] of [
  ['blank', (csv: string) => rewriteColumn(csv, 'Report Refresh Date', () => '')],
  ['missing', withoutRefreshDate],
] as const) t.test(`a Teams report whose refresh date is ${how}: the release at k_c 2 kept, then k_c raised to 3: no hidden cell is narrowed`, async (t) => {
  const reports = await teamsPeriodReports(TENANT);
  for (const name of Object.keys(reports)) reports[name] = rewrite(reports[name]!.toString('utf8'));
  const double = await startGraphDouble({ reports, directory: directoryOf(TENANT) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-blank-date-'));
  const file = join(dir, 'exact-teams.yaml');
  await writeFile(file, teamsPolicy('exact-teams', 'no-policy', 2, 'D30'));
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const read = async () => {
    const res = await proxy.get(`/cohorts/${TEAMS}?period=D30&format=json`, KEYS.stranger);
    t.comment(`${res.status} ${res.body.toString().slice(0, 300)}`);
    if (res.status !== 200) return { status: res.status, body: res.body.toString(), cells: undefined };
    const rows = (JSON.parse(res.body.toString()) as { value: { dimension: string; cohort: string[]; users: number | null; activeUsers: number | null }[] }).value;
    return { status: res.status, body: '', cells: new Map(rows.map((r) => [`${r.dimension}/${r.cohort.join('|')}`, r.users === null ? null : { users: r.users, active: r.activeUsers! }])) };
  };
  const kept = await read();
  const before = proxy.proxy.policies.current.version;
  await writeFile(file, teamsPolicy('exact-teams', 'no-policy', 3, 'D30'));
  await proxy.proxy.policies.reload();
  t.not(proxy.proxy.policies.current.version, before, 'the set with k_c 3 is live');
  const later = await read();
  if (kept.cells !== undefined && later.cells !== undefined) {
    const narrowed = narrowedCells(directoryDomain(TENANT), joined(kept.cells, later.cells), 4, 2);
    t.same(narrowed, [], `G2/G3: hidden cells narrowed by two releases of one refresh: ${JSON.stringify(narrowed)}`);
  }
  for (const { status, body } of [kept, later]) {
    t.equal(status, 502, 'a report whose rows have no refresh date is refused');
    t.match(body, /could not be sanitised|has no column 'Report Refresh Date'/, 'saying the report is at fault');
  }
});
