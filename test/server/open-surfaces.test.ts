/**
 * No figure without a key: the dashboard `/` is served only to a consumer whose policy grants the org score
 * (its key as a bearer token, or as the password of HTTP Basic so a browser can ask for it); `/metrics` only
 * with the metrics token, and without suppression counts by rule (primary / complement / secondary), which,
 * diffed around one request, told a one-sided department from a secondarily suppressed one. `/disclosure`
 * states rules, not figures, and stays public.
 */
import t from 'tap';
import { KEYS, startStack } from '../helpers/proxy-stack.js';

const METRICS_TOKEN = 'gpp-metrics-test-token-0123456789abcdef';
const basic = (key: string) => `Basic ${Buffer.from(`viewer:${key}`).toString('base64')}`;

t.test('the dashboard needs a key whose policy grants the score', async (t) => {
  const stack = await startStack({ simulator: { users: 200 }, proxy: { metricsToken: METRICS_TOKEN } });
  t.teardown(() => stack.close());
  const anonymous = await stack.get('/');
  t.equal(anonymous.status, 401, 'no key: 401');
  t.match(String(anonymous.headers['www-authenticate']), /^Basic realm=/, 'a browser is asked for the key');
  t.notMatch(anonymous.body.toString(), /\d+ of \d+|%/, 'and is shown no figure');
  t.match(JSON.parse(anonymous.body.toString()), { error: { code: 'InvalidAuthenticationToken' } }, 'Graph-shaped');
  t.equal((await stack.get('/', 'gpp_wrong-key')).status, 401, 'a wrong key: 401');
  t.equal((await stack.get('/', KEYS.licence)).status, 403, 'a consumer without the score permission: 403');
  const bearer = await stack.get('/', KEYS.vendor);
  t.equal(bearer.status, 200, 'a consumer with the score permission (bearer)');
  t.match(bearer.body.toString(), /id="score"/);
  t.equal((await stack.get('/', undefined, { authorization: basic(KEYS.vendor) })).status, 200, 'the same key as a browser sends it (Basic)');
  t.equal((await stack.get('/', undefined, { authorization: basic(KEYS.licence) })).status, 403);
  t.equal((await stack.get('/disclosure')).status, 200, '/disclosure stays public');
  t.equal((await stack.get('/disclosure.html')).status, 200);
});

t.test('/metrics needs the metrics token and holds no suppression count by rule', async (t) => {
  const stack = await startStack({ simulator: { users: 200 }, proxy: { metricsToken: METRICS_TOKEN } });
  t.teardown(() => stack.close());
  await stack.get("/beta/reports/getTeamsUserActivityUserDetail(period='D30')?$format=application/json", KEYS.vendor);
  t.equal((await stack.get('/metrics')).status, 401, 'no token: 401');
  t.equal((await stack.get('/metrics', KEYS.vendor)).status, 401, 'a consumer key is not the metrics token');
  t.equal((await stack.get('/metrics', 'gpp-metrics-test-token-0123456789abcdeX')).status, 401, 'a wrong token: 401');
  const metrics = await stack.get('/metrics', METRICS_TOKEN);
  t.equal(metrics.status, 200);
  const text = metrics.body.toString();
  t.match(text, /gpp_requests_total/);
  t.notMatch(text, /what="(primary|complement|secondary)"/, 'no count of cells by suppression rule');
  t.match(text, /gpp_suppressed_total\{what="cohort cells"\} [1-9]/, 'only the total of suppressed cohort cells');

  const off = await startStack({ simulator: { users: 30 } });
  t.teardown(() => off.close());
  t.equal((await off.get('/metrics')).status, 404, 'without a configured token there is no /metrics');
});
