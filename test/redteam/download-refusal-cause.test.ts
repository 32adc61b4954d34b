/**
 * Red team (hostile or buggy upstream): a refusal by the download host is reported as Graph refusing the
 * proxy's access, or as a refusal of the consumer's request.
 * After Graph's 302, the proxy fetches the pre-authenticated download URL WITHOUT credentials
 * (src/graph/client.ts openCsv). A 4xx from that host (an expired link: 403 AuthenticationFailed, 404
 * BlobNotFound) goes through the same `unexpected()` as Graph's own answer, so the consumer is told
 * "Microsoft Graph refused the proxy's own access (HTTP 403)" (no credential was sent, Graph did not refuse),
 * or gets a 404/400 for a request Graph had accepted, with a code lifted from the download host's body.
 */
import Fastify from 'fastify';
import t from 'tap';
import { startDoubleEntra } from '../helpers/graph-double.js';
import { KEYS, proxyCsv, startProxyFor } from '../helpers/proxy-stack.js';

async function tenant(download: { status: number; type: string; body: string }) {
  const app = Fastify({ logger: false });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.post('/:tenant/oauth2/v2.0/token', async () => ({ token_type: 'Bearer', expires_in: 3599, access_token: 'double-token' }));
  app.get('/v1.0/admin/reportSettings', async () => ({ displayConcealedNames: false }));
  app.get('/v1.0/users', async () => ({ value: [] }));
  app.get('/v1.0/reports/*', async (_request, reply) => reply.code(302).header('location', `${base}/download/report.csv`).send(''));
  app.get('/download/*', async (_request, reply) => reply.code(download.status).type(download.type).send(download.body));
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const entra = await startDoubleEntra();
  return {
    endpoints: { graphUrl: base, entraTokenUrl: entra.entraTokenUrl, authorityCa: entra.authorityCa, clientId: entra.clientId, clientSecret: entra.clientSecret, downloadUrl: `${base}/download/` },
    close: async () => {
      await app.close();
      await entra.close();
    },
  };
}

const PATH = "/v1.0/reports/getOffice365ActiveUserDetail(period='D30')";

t.test("an expired download link (403 from the blob host) is not 'Graph refused the proxy's own access'", async (t) => {
  const double = await tenant({ status: 403, type: 'application/xml', body: '<?xml version="1.0"?><Error><Code>AuthenticationFailed</Code><Message>Signed expiry time has passed</Message></Error>' });
  const proxy = await startProxyFor(double.endpoints, { proxy: { snapshotTtlSeconds: 0 } });
  t.teardown(async () => { await proxy.close(); await double.close(); });
  const res = await proxyCsv(proxy, PATH, KEYS.licence);
  t.equal(res.status, 502);
  t.notMatch(res.text, /refused the proxy's own access/, `the message states a cause the proxy did not observe: ${res.text}`);
});

t.test('a 404 / 400 from the download host is not passed to the consumer as a refusal of its request', async (t) => {
  for (const [status, code] of [[404, 'itemNotFound'], [400, 'InvalidArgument']] as const) {
    const double = await tenant({ status, type: 'application/json', body: JSON.stringify({ error: { code, message: 'user alice@contoso.com' } }) });
    const proxy = await startProxyFor(double.endpoints, { proxy: { snapshotTtlSeconds: 0 } });
    const res = await proxyCsv(proxy, PATH, KEYS.licence);
    await proxy.close();
    await double.close();
    t.notMatch(res.text, /alice|contoso/, 'held: no body text of the upstream answer is repeated');
    t.ok(res.status >= 500, `download host ${status}: the consumer's request (which Graph accepted with a 302) gets a 5xx, got ${res.status} ${res.text}`);
  }
});
