/**
 * Security tests beyond the canary sweep: consumer keys that are wrong, expired or being rotated; that key
 * lookup compares with every stored digest whichever matches; and that nothing a consumer sends (encoded
 * CR/LF, Host and forwarding headers, its own request id, raw bytes the HTTP parser refuses) ends up in a
 * response header, a link or a log line.
 */
import * as crypto from 'node:crypto';
import { connect } from 'node:tls';
import t from 'tap';
import { Agent, request } from 'undici';
import { ConsumerKeys, hashConsumerKey, newConsumerKey } from '../../src/server/consumer-keys.js';
import { KEYS, startStack } from '../helpers/proxy-stack.js';

const JSON_REPORT = "/beta/reports/getOffice365ActiveUserDetail(period='D30')?$format=application/json&$top=40";
const CSV_REPORT = "/v1.0/reports/getOffice365ActiveUserDetail(period='D30')";

const graphError = (body: Buffer) => (JSON.parse(body.toString('utf8')) as { error: { code: string; message: string } }).error;

t.test('rotation with an expiry: the old key works until its instant, then is refused with a clear reason', async (t) => {
  const oldKey = newConsumerKey();
  const newKey = newConsumerKey();
  const keys = ConsumerKeys.parse(`tool=sha256:${hashConsumerKey(oldKey)} expires=2026-12-01\ntool=sha256:${hashConsumerKey(newKey)}\nother=sha256:${hashConsumerKey('o')} expires=2026-12-01T09:30Z`);
  const before = Date.parse('2026-11-30T23:59:59Z');
  const after = Date.parse('2026-12-01T00:00:00Z');
  t.same(keys.lookup(oldKey, before), { consumer: 'tool' });
  t.same(keys.lookup(oldKey, after), { expired: 'tool' });
  t.equal(keys.consumerFor(oldKey, after), undefined, 'an expired key names no consumer (rate limits count it as invalid)');
  t.same(keys.lookup(newKey, after), { consumer: 'tool' }, 'the new key goes on');
  t.same(keys.lookup('o', Date.parse('2026-12-01T09:29:59Z')), { consumer: 'other' });
  t.same(keys.lookup('o', Date.parse('2026-12-01T09:30:00Z')), { expired: 'other' });
  t.equal(keys.lookup('unknown', before), undefined);
  for (const bad of ['2026-13-01', 'tomorrow', '2026-12-01T09:30', '2026-12-01 09:30Z']) {
    t.throws(() => ConsumerKeys.parse(`tool=sha256:${hashConsumerKey(oldKey)} expires=${bad}`), /entry 1: expires must be a UTC date|entry 1 must read/, bad);
  }
});

t.test('key lookup compares the presented digest with every stored one, whichever matches (no early exit)', async (t) => {
  const compared: number[] = [];
  const { ConsumerKeys: Counted } = await t.mockImport<typeof import('../../src/server/consumer-keys.js')>('../../src/server/consumer-keys.js', {
    'node:crypto': {
      ...crypto,
      timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
        compared.push(a.byteLength, b.byteLength);
        return crypto.timingSafeEqual(a, b);
      },
    },
  });
  const presented = ['first', 'k2', 'k3', 'k4', 'last'];
  const keys = Counted.of({ a: 'first', b: ['k2', 'k3'], c: 'k4', d: 'last' });
  for (const key of [...presented, 'nobody', '', 'x'.repeat(512)]) {
    compared.length = 0;
    keys.lookup(key);
    t.equal(compared.length, 2 * 5, `${key.slice(0, 8) || '(empty)'}: five comparisons`);
    t.ok(compared.every((n) => n === 32), 'each of two 32-byte digests, so the key length cannot show either');
  }
});

t.test('wrong, expired and rotated keys through the running proxy; no key in any log line', async (t) => {
  const oldKey = newConsumerKey();
  const newKey = newConsumerKey();
  const stack = await startStack({
    proxy: {
      consumerKeys: ConsumerKeys.parse([
        `licence-tool=sha256:${hashConsumerKey(oldKey)} expires=2020-01-01`,
        `licence-tool=sha256:${hashConsumerKey(newKey)} expires=2999-01-01`,
        `licence-tool=sha256:${hashConsumerKey(KEYS.licence)}`,
      ].join('\n')),
    },
  });
  t.teardown(() => stack.close());
  const expired = await stack.get(JSON_REPORT, oldKey);
  t.equal(expired.status, 401);
  t.match(graphError(expired.body), { code: 'InvalidAuthenticationToken', message: /expired/ });
  t.equal((await stack.get(JSON_REPORT, newKey)).status, 200, 'the rotated-in key works');
  t.equal((await stack.get(JSON_REPORT, KEYS.licence)).status, 200, 'and so does a key without expiry');
  for (const wrong of [newKey.slice(0, -1), `${newKey}x`, newKey.toUpperCase(), 'gpp_', KEYS.vendor]) {
    const res = await stack.get(JSON_REPORT, wrong);
    t.equal(res.status, 401, 'a wrong key');
    t.match(graphError(res.body), { code: 'InvalidAuthenticationToken', message: /not valid/ });
  }
  const logs = stack.logs.join('\n');
  for (const key of [oldKey, newKey, KEYS.licence, newKey.slice(4, 30)]) t.notOk(logs.includes(key), 'no key, nor part of one, in the log');
  t.ok(logs.includes('"consumer":"licence-tool"'), 'the audit log names the consumer instead');
});

t.test('header injection: nothing a consumer sends is reflected into headers, links or logs', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const injected = (headers: Record<string, string | string[] | undefined>) =>
    Object.entries(headers).filter(([name, value]) => name === 'set-cookie' || name === 'x-injected' || /evil|\r|\n/.test(String(value)));

  for (const path of [
    `${JSON_REPORT}&x=%0d%0aSet-Cookie:%20a=b`,
    `${JSON_REPORT}%0d%0aX-Injected:%201`,
    "/v1.0/reports/getOffice365ActiveUserDetail(period='D30%0d%0aSet-Cookie:%20a=b')",
    "/v1.0/reports/getOffice365ActiveUserDetail(period='D30')%0d%0aX-Injected:%201?$format=text/csv",
    '/cohorts/getEmailActivityUserDetail?period=D30%0d%0aSet-Cookie:a=b',
  ]) {
    const res = await stack.get(path, KEYS.vendor);
    t.equal(res.status, 400, path);
    t.same(injected(res.headers), [], 'no injected header');
    t.notOk(/set-cookie|x-injected/i.test(res.body.toString('utf8')), 'the refused text is not echoed');
  }

  const spoofed = { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http', forwarded: 'host=evil.example', 'client-request-id': 'evil-request-id' };
  // undici takes the TLS server name from the Host header; the certificate is still checked against the CA.
  const agent = new Agent({ connect: { ca: stack.tls.cert, checkServerIdentity: () => undefined } });
  t.teardown(() => agent.close());
  const spoofedGet = async (path: string, key: string) => {
    const res = await request(`${stack.proxy.url}${path}`, { dispatcher: agent, headers: { ...spoofed, authorization: `Bearer ${key}` } });
    return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
  };
  const csv = await spoofedGet(CSV_REPORT, KEYS.licence);
  t.equal(csv.status, 302);
  t.ok(String(csv.headers.location).startsWith(`${stack.proxy.url}/_downloads/`), 'the download link is built from the configured URL, never from Host');
  t.same(injected(csv.headers), []);
  const json = await spoofedGet(JSON_REPORT, KEYS.licence);
  t.equal(json.status, 200);
  const page = JSON.parse(json.body.toString('utf8')) as Record<string, string>;
  t.ok(page['@odata.nextLink']!.startsWith(`${stack.proxy.url}/beta/reports/`), 'so is the nextLink');
  t.notOk(json.body.toString('utf8').includes('evil'), 'no spoofed value anywhere in the body');
  t.same(injected(json.headers), []);
  const refused = await spoofedGet(JSON_REPORT, KEYS.onboarding);
  t.equal(refused.status, 403);
  t.notOk(refused.body.toString('utf8').includes('evil'), "a consumer's own request id is not echoed into an error body");

  // Malformed requests (a bare CR inside a header value, a space before the colon, a header smuggled into the
  // request line) are refused with a 4xx or a closed connection; nothing of them is echoed or served.
  for (const raw of [
    `GET ${JSON_REPORT} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEYS.licence}\r\nX-A: b\rSet-Cookie: c=d\r\n\r\n`,
    `GET ${JSON_REPORT} HTTP/1.1\r\nHost: x\r\nAuthorization : Bearer ${KEYS.licence}\r\n\r\n`,
    `GET ${JSON_REPORT}\r\nSet-Cookie: c=d HTTP/1.1\r\nHost: x\r\n\r\n`,
  ]) {
    const answer = await new Promise<string>((resolve, reject) => {
      const url = new URL(stack.proxy.url);
      const socket = connect({ host: url.hostname, port: Number(url.port), ca: stack.tls.cert, servername: 'localhost' }, () => socket.end(raw));
      let text = '';
      socket.on('data', (d) => (text += d));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    const head = answer.split('\r\n\r\n', 1)[0] ?? '';
    t.ok(answer === "" || /^HTTP\/1\.1 4\d\d /.test(answer), `refused: ${JSON.stringify(raw.slice(-60))}`, { answer: answer.slice(0, 200) });
    t.notOk(/set-cookie/i.test(head), 'no header injected into the answer');
    t.notOk(answer.includes(KEYS.licence), 'the key is not echoed');
  }
  const logs = stack.logs.join('\n');
  t.notOk(/evil|set-cookie|x-injected/i.test(logs), 'no spoofed or injected value in a log line');
  t.notOk(logs.includes(KEYS.licence), 'no key in a log line');
});
