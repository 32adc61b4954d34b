import t from 'tap';
import { REPORTS } from '../../src/catalogue/catalogue.js';
import { KEYS, proxyCsv, proxyJsonPages, startStack, type Stack } from '../helpers/proxy-stack.js';
import { reportPath } from '../helpers/graph-client.js';

const CONSUMERS = [KEYS.licence, KEYS.vendor, KEYS.onboarding, KEYS.stranger];

async function sweep(stack: Stack): Promise<{ released: string[]; served: number }> {
  const released: string[] = [];
  let served = 0;
  for (const spec of REPORTS) {
    for (const version of spec.versions) {
      const periods = spec.parameters === 'none' ? [undefined] : ['D30', 'D90'];
      for (const period of periods) {
        const path = reportPath(spec, version, period === undefined ? undefined : `period='${period}'`);
        for (const key of CONSUMERS) {
          const csv = await proxyCsv(stack, `${path}?$format=text/csv`, key);
          released.push(csv.text, csv.location ?? '', csv.headers);
          const json = await proxyJsonPages(stack, `${path}?$format=application/json`, key);
          released.push(...json.pages.map((p) => JSON.stringify(p)), ...json.headers);
          if (csv.status === 200) served++;
          if (json.status === 200) served++;
        }
      }
    }
  }
  for (const path of ['/', '/disclosure', '/disclosure.html', '/org-score?period=D30', '/org-score?period=D30&by=department', '/cohorts/getTeamsUserActivityUserDetail?period=D30&format=csv', '/cohorts/getEmailActivityUserDetail?period=D30']) {
    const res = await stack.get(path, KEYS.vendor);
    released.push(res.body.toString('utf8'), JSON.stringify(res.headers));
    if (res.status === 200) served++;
  }
  return { released, served };
}

for (const concealedNames of [false, true]) {
  t.test(`G9: no canary identifier in any response or log line (concealed names ${concealedNames ? 'on' : 'off'})`, async (t) => {
    const stack = await startStack({ simulator: { canary: true, concealedNames, users: 60 } });
    t.teardown(() => stack.close());
    const marker = stack.sim.tenant.canaryMarker!;
    const { released, served } = await sweep(stack);
    t.ok(served >= 8, `the sweep released real data (${served} responses)`);
    const everything = [...released, ...stack.logs].join('\n').toLowerCase();
    t.notOk(everything.includes(marker), 'the canary marker appears nowhere');
    t.notOk(everything.includes(stack.sim.tenant.displayName.toLowerCase()), 'nor the tenant name');
    t.notOk(everything.includes(stack.sim.tenant.tenantId.toLowerCase()), 'nor the tenant id');
    t.notOk(everything.includes(stack.sim.downloadUrl), "nor Graph's download host");
    t.notOk(/eyj[a-z0-9_-]{10,}\.eyj/.test(everything), 'nor any JWT (Graph access token, download token)');
    // Independent scan: pseudonyms are the only long opaque strings the shipped policies release.
    const guids = everything.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g) ?? [];
    t.same([...new Set(guids)].filter((g) => !/^0{8}-/.test(g)).filter((g) => !stack.logs.join('').includes(g)), [], 'no GUID outside request ids in the logs');
    t.same(everything.match(/(?<![0-9a-z_-])[0-9a-f]{32}(?![0-9a-z_-])/g) ?? [], [], 'no 32-hex concealed id');
    t.same(everything.match(/[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}/g) ?? [], [], 'no e-mail address');
  });
}
