/**
 * Red team (privacy.md's threat model: consumers "keep every response they ever got"; a proxy restarts at any time:
 * a deploy, a crash): kc-raise-reload.test.ts across a restart. Within a refresh the patterns only grow
 * (cohort/tables-made.ts TablesMade.withinPatterns); held in memory alone, the process started after the raise
 * would never see the pattern the one before it made, and would make a new one beside it (DeptB's inactive people
 * 0..1). So they are kept in the Store (TablesMade.shared, store.ts RefreshPatternStore), embedded or Redis.
 *
 * Failed before (both stores): the restarted proxy released DeptC and hid DeptA and DeptB at k_c 3, beside the kept
 * release that showed DeptA and hid DeptB at k_c 2.
 *
 * The tenant is kc-drop-reload's (k = 4): DeptA 11 people (OfficeP 4/3 active, OfficeQ 7/6), DeptB 13 (P 9/8,
 * Q 4/4), DeptC 9 (P 3/2, Q 6/4).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { narrowedCells } from '../helpers/independent-attacker.js';
import { startProxyFor } from '../helpers/proxy-stack.js';
import { directoryDomain, directoryOf } from '../helpers/random-tenant.js';
import { redisAvailable, startRedis } from '../helpers/redis.js';
import { idlePerson, joined, kcTenant, readTeams, teamsPeriodReports, teamsPolicy } from './reload-helpers.js';

t.setTimeout(120_000);

const TENANT = kcTenant(idlePerson);

for (const kind of ['embedded', 'redis'] as const) {
  t.test(`${kind} store: the release at k_c 2 kept, read again from a restarted proxy running k_c 3 within the refresh: no hidden cell is narrowed`, { skip: kind === 'redis' && !redisAvailable ? 'redis-server is not installed (.ci/run installs it)' : false }, async (t) => {
    const double = await startGraphDouble({ reports: await teamsPeriodReports(TENANT), directory: directoryOf(TENANT) });
    t.teardown(() => double.close());
    const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-restart-kc-'));
    const file = join(dir, 'exact-teams.yaml');
    await writeFile(file, teamsPolicy('exact-teams', 'no-policy', 2, 'D30'));
    let store: { redisUrl: string } | { ledgerFile: string; historyFile: string };
    if (kind === 'redis') {
      const redis = await startRedis();
      t.teardown(() => redis.stop());
      store = { redisUrl: redis.url };
    } else {
      store = { ledgerFile: join(dir, 'state', 'ledger.jsonl'), historyFile: join(dir, 'state', 'history.jsonl') };
    }
    const shared = { policiesDir: dir, sealSecret: randomBytes(32), noiseKey: randomBytes(32), ...store };
    const first = await startProxyFor(double, { proxy: shared });
    const structure = directoryDomain(TENANT);
    const kept = await readTeams(t, first, 'D30');
    t.equal(kept.get('department/DeptB'), null, 'DeptB hidden at k_c 2 (1 of 13 inactive)');
    t.same(narrowedCells(structure, kept, 4, 2), [], 'the kept release alone narrows nothing');
    await first.close();
    if (kind === 'embedded') t.match(await readFile(join(dir, 'state', 'refresh-patterns.jsonl'), 'utf8'), /"source":"getTeamsUserActivityUserDetail","refreshDate":"\d{4}-\d{2}-\d{2}"/, 'the pattern is in the store directory');
    await writeFile(file, teamsPolicy('exact-teams', 'no-policy', 3, 'D30'));
    const restarted = await startProxyFor(double, { proxy: shared });
    t.teardown(() => restarted.close());
    const later = await readTeams(t, restarted, 'D30');
    t.same(narrowedCells(structure, later, 4, 3), [], 'the later release alone narrows nothing');
    const narrowed = narrowedCells(structure, joined(kept, later), 4, 2);
    t.same(narrowed, [], `G2/G3: hidden cells narrowed by the releases of one refresh before and after a restart: ${JSON.stringify(narrowed)}`);
  });
}
