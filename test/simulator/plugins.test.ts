/**
 * The simulator's route plugins over its one state object (src/simulator/state.ts): each plugin reads the
 * state as it is when a request arrives, so a switch thrown through one plugin changes what the others serve,
 * and the plugins compose on any fastify instance (here two apps driven with inject, no listening).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import t from 'tap';
import { daysBefore, utcToday } from '../../src/catalogue/odata.js';
import { controlRoutes } from '../../src/simulator/control-routes.js';
import { downloadRoutes } from '../../src/simulator/download-routes.js';
import { entraRoutes } from '../../src/simulator/entra.js';
import { reportRoutes } from '../../src/simulator/report-routes.js';
import { graphBase } from '../../src/simulator/request-checks.js';
import { createSimulatorState, type SimulatorState } from '../../src/simulator/state.js';
import { userRoutes } from '../../src/simulator/user-routes.js';

const REFRESH = daysBefore(utcToday(), 2);
const DOWNLOAD_HOST = 'http://download.invalid';
const DETAIL = "getEmailActivityUserDetail(period='D7')";

interface Tenant {
  readonly state: SimulatorState;
  readonly graph: FastifyInstance;
  readonly download: FastifyInstance;
}

async function composedTenant(): Promise<Tenant> {
  const state = await createSimulatorState({ users: 12, seed: 7, refreshDate: REFRESH, concealedNames: false, enforceGraphLimits: false });
  state.downloadUrl = DOWNLOAD_HOST;
  const graph = Fastify({ logger: false });
  await graph.register(entraRoutes, { state, base: graphBase });
  await graph.register(reportRoutes, { state });
  await graph.register(userRoutes, { state });
  await graph.register(controlRoutes, { state });
  const download = Fastify({ logger: false });
  await download.register(downloadRoutes, { state });
  return { state, graph, download };
}

async function accessToken({ state, graph }: Tenant): Promise<Record<string, string>> {
  const res = await graph.inject({
    method: 'POST', url: `/${state.tenant.tenantId}/oauth2/v2.0/token`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ grant_type: 'client_credentials', client_id: state.clientId, client_secret: state.clientSecret, scope: 'https://graph.microsoft.com/.default' }).toString(),
  });
  return { authorization: `Bearer ${res.json<{ access_token: string }>().access_token}` };
}

/** The CSV behind a v1.0 report call: the reports plugin's 302, then the download plugin's file. */
async function downloadCsv({ graph, download }: Tenant, auth: Record<string, string>): Promise<{ location: string; csv: string }> {
  const first = await graph.inject({ url: `/v1.0/reports/${DETAIL}`, headers: auth });
  if (first.statusCode !== 302) throw new Error(`expected 302, got ${first.statusCode}: ${first.body}`);
  const location = String(first.headers.location);
  const file = await download.inject({ url: location.slice(DOWNLOAD_HOST.length) });
  if (file.statusCode !== 200) throw new Error(`download answered ${file.statusCode}: ${file.body}`);
  return { location, csv: file.body };
}

t.test('a fault switch thrown through the controls plugin changes what the reports and download plugins serve', async (t) => {
  const tenant = await composedTenant();
  t.teardown(() => Promise.all([tenant.graph.close(), tenant.download.close()]));
  const auth = await accessToken(tenant);
  const before = await downloadCsv(tenant, auth);
  t.ok(before.location.startsWith(`${DOWNLOAD_HOST}/data/v1.0/download?token=`), "the 302 points at the state's download host");
  t.notMatch(before.csv.split('\r\n')[0]!, /Unexpected Column/);

  const put = await tenant.graph.inject({ method: 'PUT', url: '/_simulator/faults', payload: { extraColumn: true } });
  t.same(put.json(), { extraColumn: true });
  t.same(tenant.state.faults, { extraColumn: true }, 'the switch lives in the shared state');
  const json = await tenant.graph.inject({ url: `/beta/reports/${DETAIL}?$format=application/json`, headers: auth });
  t.equal(json.statusCode, 200);
  t.ok('unexpectedColumn' in json.json<{ value: Record<string, unknown>[] }>().value[0]!, 'the reports plugin writes the extra column');
  t.match((await downloadCsv(tenant, auth)).csv.split('\r\n')[0]!, /,Unexpected Column$/, 'the download plugin writes it too');

  tenant.state.faults = { throttle: { remaining: 1, retryAfterSeconds: 4 } };
  const users = await tenant.graph.inject({ url: '/v1.0/users', headers: auth });
  t.equal(users.statusCode, 429, 'a switch set on the state itself reaches the users plugin');
  t.equal(users.headers['retry-after'], '4');
  t.equal((await tenant.graph.inject({ url: '/v1.0/users', headers: auth })).statusCode, 200, 'one-shot: counted down in the state');
  t.same(tenant.state.faults, { throttle: { remaining: 0, retryAfterSeconds: 4 } });

  const stats = await tenant.graph.inject({ url: '/_simulator/stats' });
  t.match(stats.json(), {
    tokensIssued: 1, tokensByGrant: { secret: 1 },
    reportRequests: { 'v1.0 getEmailActivityUserDetail csv': 2, 'beta getEmailActivityUserDetail json': 1 },
    downloads: { getEmailActivityUserDetail: 2 },
  }, 'the controls report what the token, reports and download plugins counted');
});

t.test('expiring tokens through the controls revokes what the token plugin issued, for reports and users alike', async (t) => {
  const tenant = await composedTenant();
  t.teardown(() => Promise.all([tenant.graph.close(), tenant.download.close()]));
  const auth = await accessToken(tenant);
  t.equal((await tenant.graph.inject({ url: '/v1.0/users', headers: auth })).statusCode, 200);
  t.equal((await tenant.graph.inject({ method: 'POST', url: '/_simulator/expire-tokens' })).statusCode, 204);
  for (const url of ['/v1.0/users', `/beta/reports/${DETAIL}?$format=application/json`, '/v1.0/admin/reportSettings']) {
    const refused = await tenant.graph.inject({ url, headers: auth });
    t.equal(refused.statusCode, 401, url);
    t.match(refused.json(), { error: { code: 'InvalidAuthenticationToken', message: /expired/ } });
  }
  t.equal((await tenant.graph.inject({ url: '/v1.0/users', headers: await accessToken(tenant) })).statusCode, 200, 'a new token works');
});

t.test('concealed names switched through reportSettings: later links are concealed, an earlier link keeps its form', async (t) => {
  const tenant = await composedTenant();
  t.teardown(() => Promise.all([tenant.graph.close(), tenant.download.close()]));
  const auth = await accessToken(tenant);
  const earlier = await tenant.graph.inject({ url: `/v1.0/reports/${DETAIL}`, headers: auth });
  const patch = await tenant.graph.inject({
    method: 'PATCH', url: '/v1.0/admin/reportSettings', headers: { ...auth, 'content-type': 'application/json' }, payload: { displayConcealedNames: true },
  });
  t.equal(patch.statusCode, 204);
  t.equal(tenant.state.concealedNames, true);
  const upns = (csv: string) => csv.split('\r\n').slice(1, -1).map((line) => line.split(',')[1]);
  const later = upns((await downloadCsv(tenant, auth)).csv);
  t.ok(later.length === 12 && later.every((upn) => /^[0-9A-F]{32}$/.test(upn!)), 'a link made after the switch serves concealed names');
  const old = await tenant.download.inject({ url: String(earlier.headers.location).slice(DOWNLOAD_HOST.length) });
  t.ok(upns(old.body).every((upn) => upn!.includes('@')), 'the earlier link still serves real names (its token records the setting)');
});

t.test('form-encoded bodies are read by the token plugin alone: the controls refuse one rather than take it as faults', async (t) => {
  const tenant = await composedTenant();
  t.teardown(() => Promise.all([tenant.graph.close(), tenant.download.close()]));
  const put = await tenant.graph.inject({
    method: 'PUT', url: '/_simulator/faults', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'extraColumn=true',
  });
  t.equal(put.statusCode, 415);
  t.same(tenant.state.faults, {}, 'no switch was thrown');
  t.ok((await accessToken(tenant)).authorization!.length > 20, 'the token endpoint reads its form body');
});
