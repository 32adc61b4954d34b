import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { KEYS, startStack } from '../helpers/proxy-stack.js';

/**
 * The official Graph JavaScript SDK, pointed at the proxy with `baseUrl` (and `customHosts`, which the SDK
 * requires before it sends a token to any host but Graph's), in its own process so it trusts the proxy's test
 * certificate the standard way (NODE_EXTRA_CA_CERTS) and runs with its defaults otherwise.
 */
const SDK_SCRIPT = `
import { Client, PageIterator, ResponseType } from '@microsoft/microsoft-graph-client';
const { PROXY_URL, PROXY_KEY } = process.env;
const client = Client.init({
  authProvider: (done) => done(null, PROXY_KEY),
  baseUrl: PROXY_URL,
  customHosts: new Set([new URL(PROXY_URL).hostname]),
});
const csv = await client.api("/reports/getOffice365ActiveUserDetail(period='D30')").version('v1.0').responseType(ResponseType.TEXT).get();
const first = await client.api("/reports/getOffice365ActiveUserDetail(period='D30')").version('beta').query({ $format: 'application/json' }).top(25).get();
const items = [];
const iterator = new PageIterator(client, first, (item) => { items.push(item); return true; });
await iterator.iterate();
process.stdout.write(JSON.stringify({ csvLines: csv.trim().split(/\\r?\\n/).length, csvHeader: csv.split(/\\r?\\n/)[0], items: items.length, upns: items.map((i) => i.userPrincipalName) }));
`;

t.test('the official Graph SDK fetches a CSV report and every JSON page through the proxy', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const dir = await mkdtemp(join(tmpdir(), 'gpp-sdk-'));
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, stack.tls.cert);
  const child = spawn(process.execPath, ['--input-type=module', '-e', SDK_SCRIPT], {
    env: { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: caFile, PROXY_URL: stack.proxy.url, PROXY_KEY: KEYS.licence },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const [code] = await once(child, 'exit');
  t.equal(code, 0, err);
  const result = JSON.parse(out) as { csvLines: number; csvHeader: string; items: number; upns: string[] };
  t.match(result.csvHeader, /User Principal Name/);
  t.ok(result.csvLines > 50, `CSV lines: ${result.csvLines}`);
  t.equal(result.items, result.csvLines - 1, 'every JSON page was fetched: as many items as CSV rows');
  t.ok(result.upns.every((u) => u.startsWith('licence-tool.1.')));
  const pages = stack.logs.filter((l) => l.includes('"format":"json"') && l.includes('"status":200')).length;
  t.ok(pages > 2, `the SDK followed the proxy's nextLinks (${pages} pages)`);
});
