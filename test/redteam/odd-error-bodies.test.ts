/**
 * Red team (hostile upstream): odd refusal bodies from Graph's report endpoint. Held so far: no 500, no hang,
 * nothing of the body but a documented code reaches the consumer or the log.
 */
import net from 'node:net';
import t from 'tap';
import { startDoubleEntra } from '../helpers/graph-double.js';
import { KEYS, proxyCsv, startProxyFor } from '../helpers/proxy-stack.js';

/** A raw HTTP tenant: token and settings answered normally, every report request with `raw` bytes. */
async function rawTenant(raw: string | Buffer) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (!data.includes('\r\n\r\n')) return;
      const line = data.slice(0, data.indexOf('\r\n'));
      data = '';
      const json = (body: string) => `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      if (line.startsWith('POST')) socket.write(json('{"token_type":"Bearer","expires_in":3599,"access_token":"x"}'));
      else if (line.includes('reportSettings')) socket.write(json('{"displayConcealedNames":false}'));
      else if (line.includes('/users')) socket.write(json('{"value":[]}'));
      else socket.end(raw);
    });
    socket.on('error', () => {});
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const entra = await startDoubleEntra();
  return {
    endpoints: { graphUrl: base, entraTokenUrl: entra.entraTokenUrl, authorityCa: entra.authorityCa, clientId: entra.clientId, clientSecret: entra.clientSecret, downloadUrl: `${base}/download/` },
    close: async () => {
      await new Promise<void>((resolve) => { server.close(() => resolve()); for (const s of sockets) s.destroy(); });
      await entra.close();
    },
  };
}

const secret = 'alice.secret@contoso.example';
const head = (status: number, length: number | 'chunked', type = 'application/json') =>
  `HTTP/1.1 ${status} X\r\ncontent-type: ${type}\r\n${length === 'chunked' ? 'transfer-encoding: chunked' : `content-length: ${length}`}\r\nconnection: close\r\n\r\n`;
const body = (status: number, text: string) => head(status, Buffer.byteLength(text)) + text;

const CASES: Record<string, string | Buffer> = {
  'huge body': body(400, JSON.stringify({ error: { code: 'BadRequest', message: secret.repeat(20_000) } })),
  'deep nesting': body(400, '['.repeat(7000) + ']'.repeat(7000)),
  'truncated body': head(400, 5000) + JSON.stringify({ error: { code: 'BadRequest', message: secret } }),
  'invalid utf-8': Buffer.concat([Buffer.from(head(404, 6)), Buffer.from([0xff, 0xfe, 0xfd, 0x80, 0x81, 0x82])]),
  'undocumented code carrying a name': body(400, JSON.stringify({ error: { code: secret, message: secret } })),
  '__proto__ code': body(400, '{"error":{"__proto__":{"code":"BadRequest"}}}'),
  'code array': body(403, JSON.stringify({ error: { code: ['accessDenied'], message: secret } })),
  'chunked garbage': head(400, 'chunked') + 'zz\r\nnot-a-chunk\r\n',
  'status 499': body(499, JSON.stringify({ error: { code: 'InvalidArgument', message: secret } })),
};

for (const [name, raw] of Object.entries(CASES)) {
  t.test(name, async (t) => {
    const tenant = await rawTenant(raw);
    const proxy = await startProxyFor(tenant.endpoints, { proxy: { snapshotTtlSeconds: 0 }, graph: { maxRetryWaitMs: 100 } });
    t.teardown(async () => { await proxy.close(); await tenant.close(); });
    const csv = await proxyCsv(proxy, "/v1.0/reports/getOffice365ActiveUserDetail(period='D30')", KEYS.licence);
    const json = await proxy.get("/beta/reports/getOffice365ActiveUserDetail(period='D30')?$format=application/json", KEYS.licence);
    for (const [label, status, text] of [['CSV', csv.status, csv.text], ['JSON', json.status, json.body.toString('utf8')]] as const) {
      t.ok(status >= 400 && status !== 500, `${label}: a refusal, not a 500 (${status} ${text.slice(0, 200)})`);
      t.notMatch(text, /alice|contoso/, `${label}: no body text released`);
    }
    t.notOk(proxy.logs.some((l) => /alice|contoso/.test(l)), 'no body text logged');
  });
}
