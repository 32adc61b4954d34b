import t from 'tap';
import { KEYS, proxyCsv, proxyJsonPages, startStack } from '../helpers/proxy-stack.js';

const CSV = "/v1.0/reports/getOffice365ActiveUserDetail(period='D30')";
const JSON_PAGES = "/beta/reports/getOffice365ActiveUserDetail(period='D30')?$format=application/json&$top=40";

t.test('429 and 503 from Graph are retried (honouring Retry-After) and then succeed', async (t) => {
  const stack = await startStack({ proxy: { snapshotTtlSeconds: 0 } });
  t.teardown(() => stack.close());
  stack.sim.faults = { throttle: { remaining: 2, retryAfterSeconds: 1 } };
  const started = Date.now();
  t.equal((await proxyCsv(stack, CSV, KEYS.licence)).status, 200);
  t.ok(Date.now() - started >= 2000, 'waited the Retry-After twice');
  stack.sim.faults = { unavailable: { remaining: 1, retryAfterSeconds: 1 } };
  t.equal((await proxyJsonPages(stack, JSON_PAGES, KEYS.licence)).status, 200);
  t.ok(stack.proxy.graph.stats.retries >= 3);
});

t.test('retries are bounded: a 429 storm ends in a Graph-shaped 429 with Retry-After, not a hang', async (t) => {
  const stack = await startStack({ graph: { maxRetryWaitMs: 1500 } });
  t.teardown(() => stack.close());
  stack.sim.faults = { throttle: { remaining: 1000, retryAfterSeconds: 1 } };
  const started = Date.now();
  const res = await proxyCsv(stack, CSV, KEYS.licence);
  t.equal(res.status, 429);
  t.ok(Date.now() - started < 5000);
  t.equal(JSON.parse(res.text).error.code, 'TooManyRequests');
});

t.test('a truncated download is never served: the consumer gets a 502, not a short file', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  stack.sim.faults = { truncateAfterRows: 50 };
  const res = await proxyCsv(stack, CSV, KEYS.licence);
  t.equal(res.status, 502);
  t.equal(JSON.parse(res.text).error.code, 'BadGateway');
  const page = await proxyJsonPages(stack, JSON_PAGES, KEYS.licence);
  t.equal(page.status, 502, 'a truncated JSON page neither');
  stack.sim.faults = {};
  t.equal((await proxyCsv(stack, CSV, KEYS.licence)).status, 200, 'the failed fetch was not cached');
});

t.test('a malformed row fails the whole report: error, no partial file', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  stack.sim.faults = { malformedRowAt: 60 };
  const res = await proxyCsv(stack, CSV, KEYS.licence);
  t.equal(res.status, 502);
  t.notOk(res.text.includes('User Principal Name'), 'no header line, no rows');
  t.ok(stack.logs.some((l) => l.includes('"error":"SanitizeMalformedCsv"')), 'the audit line names the cause');
});

t.test('an unknown column from Graph is dropped and counted in the audit log', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  stack.sim.faults = { extraColumn: true };
  const res = await proxyCsv(stack, CSV, KEYS.licence);
  t.equal(res.status, 200);
  t.notOk(res.text.includes('Unexpected Column'));
  t.ok(stack.logs.some((l) => l.includes('"unknownColumns":1')));
});

t.test('an expired Graph token is refreshed once and the request succeeds', async (t) => {
  const stack = await startStack({ proxy: { snapshotTtlSeconds: 0 } });
  t.teardown(() => stack.close());
  t.equal((await proxyCsv(stack, CSV, KEYS.licence)).status, 200);
  const issued = stack.sim.stats.tokensIssued;
  stack.sim.expireTokens();
  t.equal((await proxyCsv(stack, CSV, KEYS.licence)).status, 200);
  t.equal(stack.sim.stats.tokensIssued, issued + 1);
  t.equal(stack.proxy.graph.stats.tokenRefreshes, 1);
});

t.test('a 302 to a host not on the allow-list is refused, and Authorization never reaches a download host', async (t) => {
  const stack = await startStack({ proxy: { snapshotTtlSeconds: 0 } });
  t.teardown(() => stack.close());
  const { createServer } = await import('node:http');
  let foreignHits = 0;
  let foreignAuthorization = 0;
  const foreign = createServer((req, res) => {
    foreignHits++;
    if (req.headers.authorization !== undefined) foreignAuthorization++;
    res.end('x');
  });
  await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => foreign.close(() => resolve())));
  const port = (foreign.address() as { port: number }).port;
  for (const location of [`http://127.0.0.1:${port}/data/v1.0/download?token=x`, 'http://169.254.169.254/latest/meta-data/', `${stack.sim.downloadUrl.replace('http:', 'ftp:')}/data/x`, `${stack.sim.downloadUrl.replace('127.0.0.1', 'user:pw@127.0.0.1')}/data/x`]) {
    stack.sim.faults = { redirectLocation: location };
    const res = await proxyCsv(stack, CSV, KEYS.licence);
    t.equal(res.status, 502, location);
    t.notOk(res.text.includes(location), 'the refused location is not echoed');
  }
  t.equal(foreignHits, 0, 'the foreign host was never contacted');
  stack.sim.faults = {};
  t.equal((await proxyCsv(stack, CSV, KEYS.licence)).status, 200);
  t.equal(stack.sim.stats.downloadsWithAuthorization, 0, 'the Graph token was never sent to the download host');
  t.equal(foreignAuthorization, 0);
});

t.test('snapshots: one Graph download serves many consumers and requests; concurrent requests share one fetch', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  await Promise.all(Array.from({ length: 8 }, () => proxyCsv(stack, CSV, KEYS.licence)));
  await proxyCsv(stack, CSV, KEYS.licence);
  t.equal(stack.sim.stats.downloads.getOffice365ActiveUserDetail, 1, 'Graph served the report once');
  t.equal(stack.proxy.snapshots.stats.fetches, 1);
});

t.test('a slow first byte from Graph beyond the timeout is a 504, not a hang', async (t) => {
  const stack = await startStack({ graph: { firstByteTimeoutMs: 300, maxRetries: 0 } });
  t.teardown(() => stack.close());
  stack.sim.faults = { slowFirstByteMs: 2000 };
  const res = await proxyCsv(stack, CSV, KEYS.licence);
  t.equal(res.status, 504);
});
