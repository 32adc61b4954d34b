import t from 'tap';
import { request } from 'undici';
import { KEYS, proxyCsv, startStack } from '../helpers/proxy-stack.js';
import { noisyVendorPolicies, noisyVendorReleaseEpsilon } from '../helpers/vendor-policy.js';

t.test('probes: /healthz always; /readyz only when a Graph token can be obtained and the store answers', async (t) => {
  const good = await startStack();
  t.teardown(() => good.close());
  t.same(JSON.parse((await good.get('/healthz')).body.toString()), { status: 'ok' });
  const ready = await good.get('/readyz');
  t.equal(ready.status, 200);
  t.same(JSON.parse(ready.body.toString()).checks, { policies: good.proxy.policies.current.version, graphToken: 'ok', credential: 'secret', store: 'ok' });
  const bad = await startStack({ graph: { credential: { kind: 'secret', tokenUrl: good.sim.entraTokenUrl, clientId: good.sim.clientId, clientSecret: 'not-the-secret' }, authorityCa: good.sim.authorityCa } });
  t.teardown(() => bad.close());
  t.equal((await bad.get('/healthz')).status, 200);
  const notReady = await bad.get('/readyz');
  t.equal(notReady.status, 503);
  t.equal(JSON.parse(notReady.body.toString()).checks.graphToken, 'unavailable');
});

t.test('/metrics counts requests, rows, suppression, snapshots, upstream latency and reloads, and names no person', async (t) => {
  const stack = await startStack({ simulator: { canary: true, concealedNames: false, users: 200 }, proxy: { metricsToken: 'gpp-telemetry-test-metrics-token', policiesDir: await noisyVendorPolicies() } });
  t.teardown(() => stack.close());
  await proxyCsv(stack, "/v1.0/reports/getOffice365ActiveUserDetail(period='D30')", KEYS.licence);
  await proxyCsv(stack, "/v1.0/reports/getOffice365ActiveUserDetail(period='D30')", KEYS.licence);
  await stack.get("/beta/reports/getTeamsUserActivityUserDetail(period='D30')?$format=application/json", KEYS.vendor);
  await stack.get("/v1.0/reports/getEmailActivityUserDetail(period='D30')", KEYS.licence);
  await stack.proxy.policies.reload();
  const text = (await stack.get('/metrics', 'gpp-telemetry-test-metrics-token')).body.toString();
  t.match(text, /gpp_requests_total\{consumer="licence-tool",kind="download",report="getOffice365ActiveUserDetail",status="200"\} 2/);
  t.match(text, /gpp_requests_total\{consumer="licence-tool",kind="other",report="getEmailActivityUserDetail",status="403"\} 1/, 'a denied request is counted with its status');
  t.match(text, /gpp_rows_total\{direction="in"\} [1-9]/);
  t.match(text, /gpp_suppressed_total\{what="rows"\} [1-9]/);
  t.match(text, /gpp_suppressed_total\{what="cohort cells"\} [1-9]/);
  t.match(text, /gpp_snapshot_hits [1-9]/);
  t.match(text, /gpp_directory_pin_mismatches 0/, 'no score joined a report to a second directory');
  t.match(text, /gpp_cells_held_until_refresh 0/, 'no policy change within the refresh: no cell held until the next one');
  t.match(text, /gpp_upstream_request_seconds_count\{outcome="302"\} [1-9]/);
  t.match(text, new RegExp(`gpp_privacy_budget_spent_total\\{consumer="adoption-dashboard"\\} ${noisyVendorReleaseEpsilon('getTeamsUserActivityUserDetail')}\\n`), 'one Teams release, at the epsilon the noisy vendor example derives');
  const lower = text.toLowerCase();
  t.notOk(lower.includes(stack.sim.tenant.canaryMarker!), 'no canary identifier');
  t.same(lower.match(/[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}/g) ?? [], [], 'no e-mail address');
  t.same(lower.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g) ?? [], [], 'no GUID');
});

t.test('graceful shutdown: a request in flight finishes; new connections are refused', async (t) => {
  const stack = await startStack({ simulator: { users: 100 } });
  t.teardown(() => stack.sim.close());
  stack.sim.faults = { slowFirstByteMs: 700 };
  const inFlight = stack.get("/beta/reports/getTeamsUserActivityUserDetail(period='D30')?$format=application/json", KEYS.vendor);
  await new Promise((r) => setTimeout(r, 200));
  const closing = stack.proxy.close();
  const response = await inFlight;
  t.equal(response.status, 200, 'the request that was in flight completes');
  t.equal(response.headers.connection, 'close', 'its keep-alive connection is closed after it');
  // Not held open for the keep-alive timeout (fastify's 72 s, past the 60 s grace period before SIGKILL in
  // deploy/kubernetes.yaml): the bound is far above what closing takes and far below the timeout.
  const closed = await Promise.race([closing.then(() => 'closed'), new Promise((r) => setTimeout(r, 15_000, 'still open')).then(String)]);
  t.equal(closed, 'closed', 'the proxy closes once the request in flight is answered');
  await closing;
  await t.rejects(request(`${stack.proxy.url}/healthz`, { dispatcher: stack.dispatcher }), 'after shutdown nothing is served');
  await stack.dispatcher.close();
});

t.test('graceful shutdown: a download streaming when it starts finishes, and its connection does not hold the close', async (t) => {
  const stack = await startStack({ simulator: { users: 2000 } });
  t.teardown(() => stack.sim.close());
  const path = "/v1.0/reports/getOffice365ActiveUserDetail(period='D30')";
  // The download's headers go out before the close starts; its body is read slowly.
  const redirect = await stack.get(path, KEYS.licence);
  t.equal(redirect.status, 302);
  const download = await request(new URL(String(redirect.headers.location), stack.proxy.url), { dispatcher: stack.dispatcher });
  t.equal(download.statusCode, 200);
  const closing = stack.proxy.close();
  let bytes = 0;
  for await (const chunk of download.body) {
    bytes += (chunk as Buffer).length;
    await new Promise((r) => setTimeout(r, 1));
  }
  t.ok(bytes > 100_000, `the whole download is read (${bytes} bytes)`);
  const closed = await Promise.race([closing.then(() => 'closed'), new Promise((r) => setTimeout(r, 15_000, 'still open')).then(String)]);
  t.equal(closed, 'closed', 'the proxy closes once the download is done');
  await stack.dispatcher.close();
});

t.test('rate limits per consumer: a Graph-shaped 429 with Retry-After; other consumers and probes unaffected', async (t) => {
  const stack = await startStack({ proxy: { rateLimitPerMinute: 3 } });
  t.teardown(() => stack.close());
  const path = '/cohorts/getTeamsUserActivityUserDetail?period=D30';
  for (let i = 0; i < 3; i++) t.equal((await stack.get(path, KEYS.vendor)).status, 200, `request ${i + 1} of 3`);
  const limited = await stack.get(path, KEYS.vendor);
  t.equal(limited.status, 429);
  t.equal(JSON.parse(limited.body.toString()).error.code, 'TooManyRequests');
  t.ok(Number(limited.headers['retry-after']) >= 1, 'Retry-After in seconds');
  t.equal((await stack.get("/v1.0/reports/getOffice365ActiveUserDetail(period='D30')", KEYS.licence)).status, 302, 'another consumer has its own budget');
  for (let i = 0; i < 5; i++) t.equal((await stack.get('/healthz')).status, 200, 'probes are never limited');
});

t.test('/openapi.json describes the proxy\'s own endpoints and the bearer key', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const res = await stack.get('/openapi.json');
  t.equal(res.status, 200);
  const doc = JSON.parse(res.body.toString()) as { openapi: string; info: { version: string }; paths: Record<string, unknown>; components: { securitySchemes: Record<string, { scheme: string }> } };
  t.match(doc.openapi, /^3\./);
  t.equal(doc.info.version, (await import('../../package.json', { with: { type: 'json' } })).default.version);
  for (const path of ['/org-score', '/cohorts/{report}', '/disclosure', '/disclosure.html', '/healthz', '/readyz', '/metrics', '/']) t.ok(path in doc.paths, path);
  t.ok(Object.keys(doc.paths).some((p) => p.startsWith('/v1.0/')), 'the Graph-compatible routes');
  t.notOk('/favicon.ico' in doc.paths);
  t.equal(doc.components.securitySchemes.consumerKey?.scheme, 'bearer');
});

t.test('overload: a lagging event loop is answered 503 with Retry-After, Graph-shaped', async (t) => {
  const stack = await startStack({ proxy: { overload: { maxEventLoopDelayMs: 50, sampleIntervalMs: 20 } } });
  t.teardown(() => stack.close());
  // Starting the stack in this process lags the loop too; wait until it has settled.
  let before = 0;
  for (let i = 0; i < 20 && before !== 200; i++) {
    await new Promise((r) => setTimeout(r, 100));
    before = (await stack.get('/disclosure')).status;
  }
  t.equal(before, 200, 'fine while the loop keeps up');
  // Keep the (shared) event loop lagging while the request is made: every sample sees the lag.
  const lag = setInterval(() => {
    const end = Date.now() + 80;
    while (Date.now() < end) {
      // busy
    }
  }, 10);
  t.teardown(() => clearInterval(lag));
  await new Promise((r) => setTimeout(r, 200));
  const shed = await stack.get('/disclosure');
  t.equal(shed.status, 503);
  t.equal(JSON.parse(shed.body.toString()).error.code, 'ServiceUnavailable');
  t.equal(shed.headers['retry-after'], '5');
  clearInterval(lag);
});
