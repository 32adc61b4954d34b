/**
 * Red team (Graph's placeholder forms): `isPlaceholderIdentifier` (src/catalogue/identifiers.ts) recognises a
 * transient name only when it has the closing '>' (`/^<PII:[^>]*>/`). A transient name cut short, e.g.
 * `<PII:H105(se/njcX9qwMG` (as Graph's docs print it, elided), or wrapped as `(Unknown)@domain`, is treated as
 * a person's name: several different people written that way share ONE pseudonym in released rows, and in
 * cohorts adjacent rows of them are merged into one person.
 */
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { KEYS, proxyCsv, startProxyFor } from '../helpers/proxy-stack.js';
import { records, rewriteColumn, simulatedReports } from './helpers.js';

const POLICIES = fileURLToPath(new URL('../fixtures/real-graph/policies', import.meta.url));

for (const form of ['<PII:H105(se/njcX9qwMG', '(Unknown)@contoso.example']) {
  t.test(`three different people written as ${form} get no shared pseudonym and stay three people`, async (t) => {
    const names = ['getOffice365ActiveUserDetail', 'getTeamsUserActivityUserDetail'];
    const { csv, directory } = await simulatedReports(30, names);
    const reports = Object.fromEntries(names.map((n) => [n, rewriteColumn(csv[n]!, 'User Principal Name', (old, i) => (i < 3 ? form : old))]));
    const double = await startGraphDouble({ reports, directory });
    const proxy = await startProxyFor(double, { proxy: { policiesDir: POLICIES, snapshotTtlSeconds: 0 } });
    t.teardown(async () => { await proxy.close(); await double.close(); });

    const rows = await proxyCsv(proxy, "/v1.0/reports/getOffice365ActiveUserDetail(period='D30')", KEYS.licence);
    t.equal(rows.status, 200);
    // Rows come in the consumer's keyed order, not Graph's: look at every pseudonym, not at the first three rows.
    const pseudonyms = records(rows.text).map((r) => r['User Principal Name']!).filter((p) => p !== '');
    t.equal(new Set(pseudonyms).size, pseudonyms.length, 'no pseudonym is shared by two rows (three people written alike get none)');

    const cohorts = await proxy.get('/cohorts/getTeamsUserActivityUserDetail?period=D30', KEYS.vendor);
    const org = (JSON.parse(cohorts.body.toString('utf8')) as { value: { dimension: string; users: number | null }[] }).value.find((r) => r.dimension === 'organization')!;
    const people = records(csv.getTeamsUserActivityUserDetail!).length;
    t.ok(org.users === null || org.users === people, `the organisation has ${people} people, released ${org.users}`);
  });
}
