/**
 * The fault matrix under load: for each of Graph's failure modes, switched on in the simulated tenant while
 * concurrent consumers use every surface, each answer is either exactly the fault-free answer or a clean,
 * Graph-shaped failure; nothing identifying leaks; Graph retries stay within their budget. The snapshot cache
 * is off, so every consumer request goes to Graph and meets the fault.
 */
import { createServer } from 'node:http';
import t from 'tap';
import { baselines, emptyReport, faultPhases, FaultSwitch, judge, leakedLines, percentile, runLoad, standardOperations, type LoadReport } from '../helpers/load.js';
import { startStack } from '../helpers/proxy-stack.js';

const FIRST_BYTE_TIMEOUT_MS = 800;
const MAX_RETRIES = 3;
const MAX_RETRY_WAIT_MS = 2_500;

t.test('every fault under load: the fault-free answer or a clean failure, never a partial one', async (t) => {
  const stack = await startStack({
    simulator: { canary: true, users: 80 },
    proxy: { snapshotTtlSeconds: 0 },
    graph: { firstByteTimeoutMs: FIRST_BYTE_TIMEOUT_MS, maxRetries: MAX_RETRIES, maxRetryWaitMs: MAX_RETRY_WAIT_MS },
  });
  t.teardown(() => stack.close());
  let foreignHits = 0;
  const foreign = createServer((_req, res) => {
    foreignHits++;
    res.end('foreign');
  });
  await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => foreign.close(() => resolve())));
  const foreignUrl = `http://127.0.0.1:${(foreign.address() as { port: number }).port}`;

  const tenant = stack.sim.tenant;
  const secrets = { markers: [tenant.canaryMarker!, tenant.tenantId.toLowerCase(), tenant.displayName.toLowerCase()], downloadUrl: stack.sim.downloadUrl };
  const operations = standardOperations();
  const expected = await baselines(stack, operations);
  t.same(expected.map((o) => o.status), [200, 200, 200, 200, 200, 403, 401], 'the baseline serves what each policy allows and refuses the rest');
  const switches = new FaultSwitch(stack.sim.graphUrl);
  const phases = [...faultPhases(stack.sim, FIRST_BYTE_TIMEOUT_MS, foreignUrl), { name: 'recovered', faults: {}, mayFail: [] }];
  const total: LoadReport = emptyReport();

  for (const phase of phases) {
    await switches.set(phase.faults);
    let expirations = 0;
    const expiring = phase.expireTokensEveryMs === undefined ? undefined : setInterval(() => {
      expirations++;
      void switches.expireTokens();
    }, phase.expireTokensEveryMs);
    const before = { ...stack.proxy.graph.stats };
    const tokensBefore = stack.sim.stats.tokensIssued;
    const reportRequestsBefore = Object.values(stack.sim.stats.reportRequests).reduce((a, b) => a + b, 0);
    // Expiring tokens need a longer phase to see several expiries (each one refreshed once, however many requests meet it).
    const report = await runLoad({ target: stack, operations, baselines: expected, secrets, consumers: 10, perConsumer: expiring === undefined ? 2 : 8 });
    if (expiring !== undefined) clearInterval(expiring);
    await switches.set({});
    const calls = stack.proxy.graph.stats.calls - before.calls;
    const retries = stack.proxy.graph.stats.retries - before.retries;
    const reportRequests = Object.values(stack.sim.stats.reportRequests).reduce((a, b) => a + b, 0) - reportRequestsBefore;
    const failed = Object.values(report.failures).reduce((a, b) => a + b, 0);
    const latencies = report.latenciesMs.sort((a, b) => a - b);
    t.comment(`${phase.name}: ${report.ok} ok, failures ${JSON.stringify(report.failures)}, ${calls} Graph calls, ${retries} retries, p50 ${percentile(latencies, 50).toFixed(0)} ms, max ${percentile(latencies, 100).toFixed(0)} ms`);

    t.same(report.defects, {}, `${phase.name}: no partial, altered or unshaped answer`);
    t.equal(report.leakedLines, 0, `${phase.name}: nothing identifying in any answer`);
    t.same(Object.keys(report.failures).filter((kind) => !phase.mayFail.includes(kind)), [], `${phase.name}: only the failures this fault explains`);
    if (phase.mayFail.length === 0) t.equal(report.ok, report.requests, `${phase.name}: every answer is the fault-free one`);
    else t.ok(failed > 0, `${phase.name}: the fault reached the consumers as a clean failure`);
    t.ok(retries <= MAX_RETRIES * calls, `${phase.name}: at most ${MAX_RETRIES} retries per Graph call (${retries} for ${calls})`);
    t.ok(reportRequests <= (MAX_RETRIES + 1) * 2 * calls, `${phase.name}: Graph saw a bounded number of report requests (${reportRequests})`);
    t.ok(percentile(latencies, 100) < 20_000, `${phase.name}: no consumer waited unboundedly`);
    if (expiring !== undefined) {
      t.ok(stack.proxy.graph.stats.tokenRefreshes > before.tokenRefreshes, `${phase.name}: Graph refused expired tokens ${stack.proxy.graph.stats.tokenRefreshes - before.tokenRefreshes} times`);
      t.ok(stack.sim.stats.tokensIssued - tokensBefore <= expirations + 1, `${phase.name}: one new token per expiry, however many requests saw it (${stack.sim.stats.tokensIssued - tokensBefore} for ${expirations})`);
    }
    for (const [kind, n] of Object.entries(report.failures)) total.failures[kind] = (total.failures[kind] ?? 0) + n;
    total.requests += report.requests;
  }
  t.equal(foreignHits, 0, 'no redirect ever reached a host off the allow-list');
  t.equal(stack.sim.stats.downloadsWithAuthorization, 0, "Graph's token never went to a download host");
  t.notOk(stack.logs.join('\n').toLowerCase().includes(tenant.canaryMarker!), 'nor into a log line');
  t.comment(`${total.requests} consumer requests over ${phases.length} phases; failures ${JSON.stringify(total.failures)}`);
});

t.test('the judge itself: what it calls a defect, a failure and a leak', async (t) => {
  const baseline = { status: 200, body: 'a,b\r\n1,2\r\n3,4\r\n' };
  const graphError = (code: string) => JSON.stringify({ error: { code, message: 'x', innerError: { 'request-id': 'r' } } });
  t.same(judge({ status: 200, body: baseline.body }, baseline), { kind: 'ok' });
  t.same(judge({ status: 200, body: 'a,b\r\n1,2\r\n' }, baseline), { kind: 'defect', name: '200 with different bytes' }, 'a short file that parses is a defect');
  t.same(judge({ status: 502, body: graphError('BadGateway') }, baseline), { kind: 'failure', name: '502 BadGateway' });
  t.same(judge({ status: 502, body: 'Bad gateway' }, baseline), { kind: 'defect', name: '502 without a Graph error body' });
  t.same(judge({ status: 429, body: graphError('TooManyRequests') }, baseline), { kind: 'defect', name: '429 without Retry-After' });
  t.same(judge({ status: 429, body: graphError('TooManyRequests'), retryAfter: '3' }, baseline), { kind: 'failure', name: '429 TooManyRequests' });
  t.same(judge({ status: 0, body: '', transportError: 'UND_ERR_SOCKET' }, baseline), { kind: 'failure', name: 'aborted (UND_ERR_SOCKET)' });
  const refused = { status: 403, body: graphError('Forbidden') };
  t.same(judge({ status: 200, body: baseline.body }, refused), { kind: 'defect', name: '200 where the baseline was 403' }, 'a refusal that turns into data is a defect');
  t.same(judge({ status: 403, body: graphError('Forbidden') }, refused), { kind: 'ok' });
  const secrets = { markers: ['canaryabc'], downloadUrl: 'http://127.0.0.1:4011' };
  t.equal(leakedLines('x\ncanaryABC.u1 row\nfine\nsomeone@example.com\n0123456789abcdef0123456789abcdef\neyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.x\nsee http://127.0.0.1:4011/data', secrets), 5);
  t.equal(leakedLines('pseudonym p_9f3a,2026-11\n', secrets), 0);
});
