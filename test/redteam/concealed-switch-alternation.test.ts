/**
 * Red team (consumer + Graph's own refresh lag): the concealed-names switch detector keeps ONE name form for
 * the whole cache (src/graph/snapshots.ts noteNameForm), across reports. Graph applies a changed setting at
 * each report's next refresh (up to 48 h apart), so for a while some reports are concealed and others clear;
 * a consumer alternating between two such reports makes the proxy log and count a "switch" on every fetch,
 * although the setting changed once (or, with a hostile upstream, never). The metric and the warning then
 * say nothing an operator can trust, and a consumer can flood the warning log.
 */
import { createHash } from 'node:crypto';
import t from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { KEYS, startProxyFor } from '../helpers/proxy-stack.js';
import { rewriteColumn, simulatedReports } from './helpers.js';

t.test('alternating requests between a concealed and a clear report are counted as many switches', async (t) => {
  const names = ['getTeamsUserActivityUserDetail', 'getEmailActivityUserDetail'];
  const { csv, directory } = await simulatedReports(30, names);
  const hex = (upn: string) => createHash('md5').update(upn).digest('hex').toUpperCase();
  const double = await startGraphDouble({
    reports: {
      getTeamsUserActivityUserDetail: Buffer.from(csv.getTeamsUserActivityUserDetail!, 'utf8'),
      // Already refreshed under the new setting: concealed.
      getEmailActivityUserDetail: rewriteColumn(csv.getEmailActivityUserDetail!, 'User Principal Name', hex),
    },
    directory,
  });
  const proxy = await startProxyFor(double, { proxy: { snapshotTtlSeconds: 0 } });
  t.teardown(async () => { await proxy.close(); await double.close(); });
  for (let i = 0; i < 5; i++) {
    for (const name of names) await proxy.get(`/cohorts/${name}?period=D30`, KEYS.vendor);
  }
  const warnings = proxy.logs.filter((l) => l.includes('"concealedNamesSwitched"')).length;
  t.ok(proxy.proxy.snapshots.stats.nameFormSwitches <= 1, `the setting changed at most once; counted ${proxy.proxy.snapshots.stats.nameFormSwitches} switches, ${warnings} warnings`);
});
