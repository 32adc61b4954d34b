import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import t from 'tap';
import { request } from 'undici';
import { GraphClient } from '../../src/graph/client.js';
import { DirectorySource } from '../../src/graph/directory-source.js';
import { ReleaseCache, type Release } from '../../src/graph/releases.js';
import { SnapshotCache } from '../../src/graph/snapshots.js';
import { EntraTokens } from '../../src/graph/token.js';
import { PolicyStore } from '../../src/policy/load.js';
import { parseKeyring } from '../../src/sanitize/pseudonyms.js';
import { buildApp } from '../../src/server/app.js';
import { auditLogger } from '../../src/server/audit.js';
import { ConsumerKeys } from '../../src/server/consumer-keys.js';
import { Sealer } from '../../src/server/sealed-tokens.js';
import { startSimulator } from '../../src/simulator/server.js';

/** A release cache whose stored CSV fails after its first record: a spill-file read error mid-download. */
class FailingReadReleases extends ReleaseCache {
  override async obtain(...args: Parameters<ReleaseCache['obtain']>): Promise<Release> {
    const release = await super.obtain(...args);
    const stored = release.csv.bind(release);
    release.csv = async function* () {
      let records = 0;
      for await (const record of stored()) {
        if (records++ === 1) throw new Error('simulated read error in the spill file');
        yield record;
      }
    };
    return release;
  }
}

t.test('an error after the first byte aborts the transfer: the consumer gets a failed download, never a short file', async (t) => {
  const sim = await startSimulator({ users: 3000, concealedNames: false, enforceGraphLimits: false });
  t.teardown(() => sim.close());
  const dir = await mkdtemp(join(tmpdir(), 'gpp-abort-'));
  await writeFile(join(dir, 'rows.yaml'), 'name: rows\ndescription: Rows without quasi-identifiers.\nconsumers: [tool]\nreports:\n  getOffice365ActiveUserDetail:\n    rows: { Is Deleted: keep, Assigned Products: keep, Has Teams License: keep }\n');
  const policies = await PolicyStore.open(dir);
  const graph = new GraphClient({
    graphUrl: sim.graphUrl, downloadHosts: [`${sim.downloadUrl}/data/`],
    tokens: new EntraTokens({ credential: { kind: 'secret', tokenUrl: sim.entraTokenUrl, clientId: sim.clientId, clientSecret: sim.clientSecret }, authorityCa: sim.authorityCa }),
  });
  const logs: string[] = [];
  const snapshots = new SnapshotCache({ client: graph, ttlMs: 60_000 });
  const directory = new DirectorySource(graph, 60_000);
  const app = buildApp({
    logger: auditLogger({}, new Writable({ write: (chunk, _e, done) => (logs.push(String(chunk)), done()) })),
    policies, keys: ConsumerKeys.of({ tool: 'gpp_abort-test-key' }), graph,
    snapshots,
    // The 3,000-user download spans several records (64 KB each).
    releases: new FailingReadReleases(),
    directory,
    pseudonymKeys: parseKeyring(''), sealer: new Sealer(randomBytes(32)), publicUrl: () => url,
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(async () => {
    await app.close();
    await policies.close();
    await graph.close();
  });
  const redirect = await request(`${url}/v1.0/reports/getOffice365ActiveUserDetail(period='D30')`, { headers: { authorization: 'Bearer gpp_abort-test-key' } });
  await redirect.body.dump();
  const download = await request(String(redirect.headers.location));
  t.equal(download.statusCode, 200, 'the header line had been sent');
  let received = 0;
  const outcome = await (async () => {
    for await (const chunk of download.body) received += (chunk as Buffer).length;
  })().then(() => 'complete', (error: Error) => error.name);
  t.not(outcome, 'complete', 'the transfer fails instead of ending as if complete');
  t.ok(received > 0, `part of the body arrived (${received} bytes) before the abort`);
  await new Promise((r) => setTimeout(r, 100));
  t.ok(logs.some((l) => l.includes('"error":"aborted mid-stream"') && l.includes('"complete":false')), 'the audit line records the abort');
  t.notOk(logs.join('').includes('simulated read error'), 'the error message itself is not logged');
});
