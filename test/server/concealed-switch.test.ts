/**
 * The concealed-names switch: when the tenant turns Graph's "display concealed names" setting on or off, every
 * pseudonym derived from a user name changes. The proxy sees it in the reports it fetches, logs it once per
 * switch and counts it, so an operator can tell a tool why its history broke.
 */
import { parse } from 'csv-parse/sync';
import t from 'tap';
import { KEYS, proxyCsv, startStack } from '../helpers/proxy-stack.js';

const METRICS_TOKEN = 'gpp-concealed-switch-test-metrics-token';
const ACTIVE_USERS = "/v1.0/reports/getOffice365ActiveUserDetail(period='D30')";

t.test('a switch of the concealed-names setting is detected, logged and counted; pseudonyms change with it', async (t) => {
  const stack = await startStack({ simulator: { users: 60, concealedNames: false }, proxy: { snapshotTtlSeconds: 0, metricsToken: METRICS_TOKEN } });
  t.teardown(() => stack.close());
  const pseudonyms = async () => (parse((await proxyCsv(stack, ACTIVE_USERS, KEYS.licence)).text, { bom: true, columns: true }) as Record<string, string>[]).map((r) => r['User Principal Name']).sort();
  const switches = () => stack.logs.filter((l) => l.includes('"concealedNamesSwitched"'));
  const clear = await pseudonyms();
  t.same(await pseudonyms(), clear, 'stable while the setting stays');
  t.equal(switches().length, 0, 'no switch yet');

  stack.sim.concealedNames = true;
  const concealed = await pseudonyms();
  t.equal(concealed.filter((p) => clear.includes(p)).length, 0, 'every pseudonym changed');
  t.equal(switches().length, 1, 'one warning for the switch');
  t.match(JSON.parse(switches()[0]!), { level: 40, from: 'clear', to: 'concealed', report: 'getOffice365ActiveUserDetail' });
  await pseudonyms();
  t.equal(switches().length, 1, 'not repeated while the setting stays');
  t.equal(stack.proxy.snapshots.stats.nameFormSwitches, 1);
  const metrics = (await stack.get('/metrics', METRICS_TOKEN)).body.toString();
  t.match(metrics, /gpp_concealed_names_switches 1/);

  stack.sim.concealedNames = false;
  t.same(await pseudonyms(), clear, 'switching back restores the earlier pseudonyms');
  t.match(JSON.parse(switches()[1]!), { from: 'concealed', to: 'clear' });
});
