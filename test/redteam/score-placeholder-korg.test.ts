/**
 * Red team: the org score's k_org floor counts placeholder rows once per report.
 * A placeholder row ('(Unknown)') gets a key of its own per report and row (src/score/score-facts.ts), so the
 * same unnamed person appearing in each of the 7 score source reports becomes 7 "people". An organisation of 6
 * people is refused (422) when its names are clear, but is scored (200) when Graph writes '(Unknown)' for them,
 * and category denominators larger than the organisation are released (G1 with k_org).
 */
import t from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { KEYS, startProxyFor } from '../helpers/proxy-stack.js';
import { records, rewriteColumn, simulatedReports } from './helpers.js';

const USERS = 6;

t.test('an organisation below k_org is scored once Graph writes (Unknown) for its people', async (t) => {
  const { csv, directory } = await simulatedReports(USERS);
  const people = new Set(Object.values(csv).flatMap((text) => records(text).map((r) => r['User Principal Name']!.toLowerCase())));
  t.ok(people.size < 10, `the tenant has ${people.size} people, below the policy's k_org of 10`);

  const serve = async (reports: Record<string, Buffer>) => {
    const double = await startGraphDouble({ reports, directory });
    const proxy = await startProxyFor(double, { proxy: { snapshotTtlSeconds: 0 } });
    t.teardown(async () => {
      await proxy.close();
      await double.close();
    });
    return proxy;
  };

  // Control: clear names, the organisation is refused as too small.
  const clear = await serve(Object.fromEntries(Object.entries(csv).map(([n, text]) => [n, Buffer.from(text, 'utf8')])));
  const refused = await clear.get('/org-score?period=D30', KEYS.vendor);
  t.equal(refused.status, 422, 'clear names: the organisation is too small to score');

  // The same people, every name written by Graph as '(Unknown)'.
  const unknown = await serve(Object.fromEntries(Object.entries(csv).map(([n, text]) => [n, rewriteColumn(text, 'User Principal Name', () => '(Unknown)')])));
  const scored = await unknown.get('/org-score?period=D30', KEYS.vendor);
  const body = scored.body.toString('utf8');
  t.equal(scored.status, 422, `(Unknown) names: the same ${people.size}-person organisation must still be refused (got ${scored.status})`);
  if (scored.status === 200) {
    const denominators = [...body.matchAll(/"denominator":(\d+)/g)].map((m) => Number(m[1]));
    t.ok(denominators.every((d) => d <= people.size), `no released denominator exceeds the ${people.size} real people: ${denominators.join(',')}`);
  }
});

t.test('two (Unknown) people in an 8-person organisation are enough to pass k_org = 10', async (t) => {
  const { csv, directory } = await simulatedReports(8);
  const people = new Set(Object.values(csv).flatMap((text) => records(text).map((r) => r['User Principal Name']!.toLowerCase())));
  t.ok(people.size < 10, `the tenant has ${people.size} people`);
  // Graph writes '(Unknown)' for the same two people (the first two UPNs) in every report.
  const unknown = new Set([...people].sort().slice(0, 2));
  const reports = Object.fromEntries(Object.entries(csv).map(([n, text]) => [n, rewriteColumn(text, 'User Principal Name', (old) => (unknown.has(old.toLowerCase()) ? '(Unknown)' : old))]));
  const double = await startGraphDouble({ reports, directory });
  const proxy = await startProxyFor(double, { proxy: { snapshotTtlSeconds: 0 } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const res = await proxy.get('/org-score?period=D30', KEYS.vendor);
  t.equal(res.status, 422, `an organisation of ${people.size} is refused (got ${res.status})`);
});
