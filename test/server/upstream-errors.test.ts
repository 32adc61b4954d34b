/**
 * Errors that say what is known: for every kind of upstream failure, what the consumer reads states only what
 * the proxy observed (Graph's status and, when Graph documents it, Graph's code; a missing column by its
 * catalogue name), never a guessed cause and never Graph's own message or a value.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { KEYS, proxyCsv, startProxyFor } from '../helpers/proxy-stack.js';

const POLICIES = fileURLToPath(new URL('../fixtures/real-graph/policies', import.meta.url));
const ACTIVE_USERS = "/v1.0/reports/getOffice365ActiveUserDetail(period='D30')";
const SECRET_MESSAGE = 'jane.doe@contoso.example asked for date 2019-01-01 in the last 30 days';
const graphError = (code: string) => ({ error: { code, message: SECRET_MESSAGE, innerError: { 'request-id': 'r', date: '2026-11-30T00:00:00' } } });

type Kind = { name: string; status: number; body?: unknown; consumerStatus: number; code: string; message: RegExp };
const KINDS: Kind[] = [
  { name: '400 with a documented code', status: 400, body: graphError('InvalidArgument'), consumerStatus: 400, code: 'InvalidArgument', message: /^Microsoft Graph refused this request \(HTTP 400, InvalidArgument\)\.$/ },
  { name: '400 with a code Graph does not document', status: 400, body: graphError('Zx_Secret_Code'), consumerStatus: 400, code: 'BadRequest', message: /^Microsoft Graph refused this request \(HTTP 400\)\.$/ },
  { name: '400 with no JSON body', status: 400, consumerStatus: 400, code: 'BadRequest', message: /^Microsoft Graph refused this request \(HTTP 400\)\.$/ },
  { name: '404', status: 404, body: graphError('UnknownError'), consumerStatus: 404, code: 'UnknownError', message: /^Microsoft Graph refused this request \(HTTP 404, UnknownError\)\.$/ },
  { name: '403 S2SUnauthorized', status: 403, body: graphError('S2SUnauthorized'), consumerStatus: 502, code: 'BadGateway', message: /^Microsoft Graph refused the proxy's own access \(HTTP 403, S2SUnauthorized\)\.$/ },
  { name: '409', status: 409, body: graphError('notAllowed'), consumerStatus: 502, code: 'BadGateway', message: /^Microsoft Graph refused the proxy's request \(HTTP 409, notAllowed\)\.$/ },
  { name: '500', status: 500, body: graphError('generalException'), consumerStatus: 502, code: 'BadGateway', message: /^The proxy could not read a complete, valid report/ },
  { name: '503', status: 503, body: graphError('serviceNotAvailable'), consumerStatus: 503, code: 'ServiceUnavailable', message: /unavailable/ },
];

t.test('every upstream failure kind reaches the consumer with what was observed, and nothing invented or echoed', async (t) => {
  for (const kind of KINDS) {
    const headers: Record<string, string> = kind.status === 503 ? { 'retry-after': '0' } : {};
    const double = await startGraphDouble({ reports: {}, answer: () => ({ status: kind.status, ...(kind.body !== undefined ? { body: kind.body } : {}), headers }) });
    const proxy = await startProxyFor(double, { proxy: { policiesDir: POLICIES, snapshotTtlSeconds: 0 }, graph: { maxRetries: 0 } });
    try {
      for (const path of [ACTIVE_USERS, `/beta/reports/getOffice365ActiveUserDetail(period='D30')?$format=application/json`]) {
        const res = path.includes('$format') ? await proxy.get(path, KEYS.licence) : await proxyCsv(proxy, path, KEYS.licence).then((r) => ({ status: r.status, body: Buffer.from(r.text) }));
        const text = res.body.toString('utf8');
        t.equal(res.status, kind.consumerStatus, `${kind.name}: ${path}`);
        const error = (JSON.parse(text) as { error: { code: string; message: string } }).error;
        t.equal(error.code, kind.code, `${kind.name}: code`);
        t.match(error.message, kind.message, `${kind.name}: message`);
        t.notMatch(error.message, /30 days|date|permission/i, `${kind.name}: no invented cause`);
        t.notMatch(text, /jane|contoso|Zx_Secret|2019-01-01/i, `${kind.name}: nothing of Graph's message`);
      }
      t.notMatch(proxy.logs.join('\n'), /jane\.doe|Zx_Secret/, `${kind.name}: Graph's message is not logged either`);
    } finally {
      await proxy.close();
      await double.close();
    }
  }
});

t.test('a report missing a column the policy needs: 502 naming the column (a catalogue name, never a value)', async (t) => {
  const full = await readFile(fileURLToPath(new URL('../fixtures/real-graph/03b-unknown-upn-active-users.csv', import.meta.url)), 'utf8');
  const lines = full.split('\n').map((line) => line.split(',').filter((_, i) => i !== 10).join(','));
  t.match(full.split('\n')[0]!.split(',')[10], 'Has Teams License');
  const double = await startGraphDouble({ reports: { getOffice365ActiveUserDetail: Buffer.from(lines.join('\n')) } });
  const proxy = await startProxyFor(double, { proxy: { policiesDir: POLICIES, snapshotTtlSeconds: 0 } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const csv = await proxyCsv(proxy, ACTIVE_USERS, KEYS.licence);
  t.equal(csv.status, 502);
  const error = (JSON.parse(csv.text) as { error: { code: string; message: string } }).error;
  t.equal(error.message, "The report from Microsoft Graph has no column 'Has Teams License', which this consumer's policy needs, so nothing of it is released.");
  t.notMatch(csv.text, /contoso|Unknown/);
});
