/**
 * Red team (privacy.md's threat model: consumers keep every release; a proxy restarts at any time):
 * dimension-drop-reload.test.ts across a restart. The patterns are kept in the Store (TablesMade.shared), but the
 * tables a refresh's releases were made within (TablesMade.tableFor) are held in memory only: the process started
 * after a policy change that drops officeLocation (an exposure decrease) makes its release by department alone,
 * beside the department x office release kept from the process before.
 *
 * The tenant is dimension-drop-reload's (k = 4, k_c = 2): by department and office the release hides DeptB, DeptC
 * and OfficeR; by department alone it shows DeptC; joined with the kept office cells DeptB's inactive people are
 * pinned to 2.
 *
 * Held on main (6a1aaeb): the department cells are cells of the department x office table too, and their pattern
 * (table '' of the report's window) is in the Store, so the restarted proxy holds DeptB and DeptC hidden.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { narrowedCells } from '../helpers/independent-attacker.js';
import { startProxyFor } from '../helpers/proxy-stack.js';
import { directoryDomain, directoryOf, tenantReports, TEAMS } from '../helpers/random-tenant.js';
import { exactTeamsPolicy, idlePerson, joined, officeDropTenant, readTeams } from './reload-helpers.js';

t.setTimeout(120_000);

const TENANT = officeDropTenant(idlePerson, 10);

t.test('embedded store: office cells kept, department cells read from a restarted proxy after officeLocation is dropped within the refresh: no hidden cell is narrowed', async (t) => {
  const double = await startGraphDouble({ reports: { [`${TEAMS}(period='D30')`]: (await tenantReports(TENANT))[TEAMS]! }, directory: directoryOf(TENANT) });
  t.teardown(() => double.close());
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-restart-drop-'));
  const file = join(dir, 'drop-office.yaml');
  await writeFile(file, exactTeamsPolicy('drop-office', 'organization, department, officeLocation'));
  const shared = { policiesDir: dir, sealSecret: randomBytes(32), noiseKey: randomBytes(32), ledgerFile: join(dir, 'state', 'ledger.jsonl'), historyFile: join(dir, 'state', 'history.jsonl') };
  const first = await startProxyFor(double, { proxy: shared });
  const structure = directoryDomain(TENANT);
  const kept = await readTeams(t, first, 'D30');
  t.same(narrowedCells(structure, kept, 4, 2), [], 'the kept release alone narrows nothing');
  await first.close();
  await writeFile(file, exactTeamsPolicy('drop-office', 'organization, department'));
  const restarted = await startProxyFor(double, { proxy: shared });
  t.teardown(() => restarted.close());
  const later = await readTeams(t, restarted, 'D30');
  t.same(narrowedCells(structure, later, 4, 2), [], 'the later release alone narrows nothing');
  const narrowed = narrowedCells(structure, joined(kept, later), 4, 2);
  t.same(narrowed, [], `G3: hidden cells narrowed by the releases of one refresh before and after a restart: ${JSON.stringify(narrowed)}`);
});
