/**
 * The edges a red team found, through a real HTTPS proxy on 127.0.0.1: a malformed URL and a 404 go through
 * the same Graph-shaped error mapping, audit line and rate limit as any request; a body on a GET is refused
 * at once and the connection closed (never read to the end); a request trickled slowly is cut off by the
 * request timeout; TLS offers only TLS 1.3 and TLS 1.2 with ECDHE and AEAD suites.
 */
import { connect, type TLSSocket } from 'node:tls';
import t from 'tap';
import { KEYS, startStack, type Stack } from '../helpers/proxy-stack.js';

/** Sends `head` (and optionally `body` slowly) over a raw TLS socket; resolves the response text and when the server closed. */
async function raw(stack: Stack, head: string, options: { trickle?: string[]; trickleMs?: number; waitMs?: number } = {}): Promise<{ text: string; closedAfterMs: number | undefined }> {
  const url = new URL(stack.proxy.url);
  const socket: TLSSocket = connect({ host: url.hostname, port: Number(url.port), ca: stack.tls.cert, servername: 'localhost' });
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  const started = Date.now();
  let text = '';
  let closedAfterMs: number | undefined;
  socket.on('data', (d) => (text += d));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => {
    closedAfterMs = Date.now() - started;
    resolve();
  }));
  socket.write(head);
  for (const piece of options.trickle ?? []) {
    if (closedAfterMs !== undefined) break;
    await new Promise((r) => setTimeout(r, options.trickleMs ?? 200));
    if (!socket.destroyed) socket.write(piece);
  }
  await Promise.race([closed, new Promise((r) => setTimeout(r, options.waitMs ?? 3000))]);
  socket.destroy();
  return { text, closedAfterMs };
}

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
const bodyOf = (text: string) => text.slice(text.indexOf('\r\n\r\n') + 4);

t.test('a malformed URL: a Graph-shaped 400 that does not echo it, an audit line, and the rate limit', async (t) => {
  const stack = await startStack({ simulator: { users: 30 }, proxy: { rateLimitPerMinute: 3 } });
  t.teardown(() => stack.close());
  const bad = "/v1.0/reports/getOffice365ActiveUserDetail(period='%zzD7')%E0%A4%A";
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    const { text } = await raw(stack, `GET ${bad} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${KEYS.licence}\r\nConnection: close\r\n\r\n`);
    statuses.push(statusOf(text));
    if (i === 0) {
      const body = JSON.parse(bodyOf(text)) as { error: { code: string; message: string } };
      t.equal(body.error.code, 'BadRequest', 'Graph-shaped');
      t.notMatch(bodyOf(text), /%zz|%E0|getOffice365/, 'the URL is not echoed');
    }
  }
  t.same(statuses, [400, 400, 400, 429], 'malformed URLs count against the consumer\'s rate limit');
  const long = await raw(stack, `GET /v1.0/reports/getOffice365ActiveUserDetail(period='${'D'.repeat(6000)}') HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
  t.equal(statusOf(long.text), 400, 'an over-long path: 400');
  t.match(JSON.parse(bodyOf(long.text)), { error: { code: 'BadRequest' } }, 'Graph-shaped, from the same route');
  t.notMatch(bodyOf(long.text), /DDDD/, 'not echoed');
  await new Promise((r) => setTimeout(r, 100));
  const audit = stack.logs.filter((l) => l.includes('"msg":"request"') && l.includes('"status":400'));
  t.equal(audit.length, 4, 'each has its audit line');
  t.notOk(stack.logs.some((l) => l.includes('%zz')), 'no log line holds the raw URL');
});

t.test('404s are rate-limited and audited like any request', async (t) => {
  const stack = await startStack({ simulator: { users: 30 }, proxy: { rateLimitPerMinute: 3 } });
  t.teardown(() => stack.close());
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await stack.get('/no/such/thing', KEYS.licence)).status);
  t.same(statuses, [404, 404, 404, 429, 429]);
  const unauthenticated: number[] = [];
  for (let i = 0; i < 4; i++) unauthenticated.push((await stack.get(`/nothing-${i}`)).status);
  t.same(unauthenticated, [404, 404, 404, 429], 'without a key, counted per address');
  await new Promise((r) => setTimeout(r, 100));
  t.equal(stack.logs.filter((l) => l.includes('"msg":"request"') && /"status":(404|429)/.test(l)).length, 9);
});

t.test('a body on a GET is refused at once and the connection closed, not read to the end', async (t) => {
  const stack = await startStack({ simulator: { users: 30 } });
  t.teardown(() => stack.close());
  const gigabyte = await raw(stack, `GET /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000000\r\n\r\n`, { trickle: ['x'.repeat(1000), 'x'.repeat(1000), 'x'.repeat(1000)], trickleMs: 300 });
  t.equal(statusOf(gigabyte.text), 413, 'a declared 1 GB body: 413');
  t.match(JSON.parse(bodyOf(gigabyte.text)), { error: { code: 'PayloadTooLarge' } });
  t.ok(gigabyte.closedAfterMs !== undefined && gigabyte.closedAfterMs < 2000, `the server closed the connection (after ${gigabyte.closedAfterMs} ms)`);
  const small = await raw(stack, `GET /v1.0/reports/getOffice365ActiveUserDetail(period='D7') HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello`);
  t.equal(statusOf(small.text), 400, 'a small body on a GET: 400');
  t.ok(small.closedAfterMs !== undefined && small.closedAfterMs < 2000, 'and the connection closed');
  const chunked = await raw(stack, `GET /healthz HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n`, { trickle: ['5\r\nhello\r\n', '5\r\nhello\r\n'], trickleMs: 300 });
  t.equal(statusOf(chunked.text), 400, 'a chunked body on a GET: 400');
  t.ok(chunked.closedAfterMs !== undefined && chunked.closedAfterMs < 2000, 'and the connection closed');
  await new Promise((r) => setTimeout(r, 100));
  t.ok(stack.logs.filter((l) => l.includes('"msg":"request"') && /"status":(400|413)/.test(l)).length >= 3, 'each refusal has its audit line');
});

t.test('the request timeout bounds a client that trickles its request', async (t) => {
  const stack = await startStack({ simulator: { users: 30 }, proxy: { requestTimeoutMs: 1000 } });
  t.teardown(() => stack.close());
  const headers = Array.from({ length: 40 }, (_, i) => `X-Slow-${i}: ${i}\r\n`);
  const slow = await raw(stack, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n', { trickle: headers, trickleMs: 250, waitMs: 10_000 });
  t.ok(slow.closedAfterMs !== undefined && slow.closedAfterMs < 4000, `a request still arriving after the timeout is cut off (closed after ${slow.closedAfterMs} ms)`);
  t.match(slow.text, /^(HTTP\/1\.1 408|$)/, 'with a 408 or nothing');
});

t.test('TLS: 1.3 and 1.2 with ECDHE + AEAD only; a client offering only static-RSA, CBC or SHA-1 suites, or TLS 1.1, gets no session', async (t) => {
  const stack = await startStack({ simulator: { users: 30 } });
  t.teardown(() => stack.close());
  const url = new URL(stack.proxy.url);
  const handshake = (options: { minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'; maxVersion?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'; ciphers?: string }) =>
    new Promise<{ ok: boolean; protocol?: string | null; cipher?: string }>((resolve) => {
      const socket = connect({ host: url.hostname, port: Number(url.port), ca: stack.tls.cert, servername: 'localhost', ...options });
      socket.once('secureConnect', () => {
        resolve({ ok: true, protocol: socket.getProtocol(), cipher: socket.getCipher().name });
        socket.destroy();
      });
      socket.once('error', () => resolve({ ok: false }));
    });
  t.match(await handshake({ minVersion: 'TLSv1.3' }), { ok: true, protocol: 'TLSv1.3' });
  t.match(await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }), { ok: true, protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256' });
  t.match(await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-CHACHA20-POLY1305' }), { ok: true });
  for (const weak of ['AES128-SHA', 'AES256-SHA', 'AES128-GCM-SHA256', 'AES256-SHA256', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA384', 'DHE-RSA-AES128-GCM-SHA256', 'AES128-SHA:AES256-SHA:AES128-GCM-SHA256:AES256-GCM-SHA384:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-SHA256:DHE-RSA-AES256-SHA256']) {
    t.match(await handshake({ maxVersion: 'TLSv1.2', ciphers: `${weak}:@SECLEVEL=0` }), { ok: false }, `refused: ${weak}`);
  }
  t.match(await handshake({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' }), { ok: false }, 'refused: TLS 1.1');
});
