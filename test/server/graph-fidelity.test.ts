/**
 * The simulator and the proxy refuse exactly what Graph refuses, as the catalogue says: every report x API
 * version x format x parameter form is asked of both. The simulator answers what Graph serves (302 or 200) and
 * refuses the rest with Graph's error; the proxy refuses the same requests with the same status, code and
 * message before any policy decision or upstream call, and lets the rest through to the policy (403 here, for
 * a consumer no policy names).
 */
import t from 'tap';
import { API_VERSIONS, REPORTS, type ApiVersion, type ReportFormat, type ReportSpec } from '../../src/catalogue/catalogue.js';
import { daysBefore, utcToday } from '../../src/catalogue/odata.js';
import { request } from 'undici';
import { bearer } from '../helpers/graph-client.js';
import { KEYS, startStack } from '../helpers/proxy-stack.js';

type Form = { label: string; argument: string | undefined; served: (report: ReportSpec) => boolean };

const today = utcToday();
const FORMS: Form[] = [
  { label: 'no parameters', argument: undefined, served: (r) => r.parameters === 'none' },
  { label: "period='D7'", argument: "(period='D7')", served: (r) => r.parameters !== 'none' },
  { label: "period='D8'", argument: "(period='D8')", served: () => false },
  { label: 'date 5 days back', argument: `(date=${daysBefore(today, 5)})`, served: (r) => r.parameters === 'periodOrDate' },
  { label: 'date 40 days back', argument: `(date=${daysBefore(today, 40)})`, served: () => false },
];
const FORMATS: (ReportFormat | undefined)[] = [undefined, 'csv', 'json'];

function expectedServed(report: ReportSpec, version: ApiVersion, format: ReportFormat | undefined, form: Form): boolean {
  return report.versions.includes(version) && report.formats[version].includes(format ?? report.defaultFormat) && form.served(report);
}

t.test('every report x version x format x parameter form: simulator and proxy agree with the catalogue', async (t) => {
  const stack = await startStack({ simulator: { users: 30 } });
  t.teardown(() => stack.close());
  const auth = await bearer(stack.sim);
  let served = 0;
  let refused = 0;
  for (const report of REPORTS) {
    for (const version of API_VERSIONS) {
      // A report missing from a version is asked under the root it has elsewhere, as a client would.
      const root = report.root[version];
      for (const form of FORMS) {
        for (const format of FORMATS) {
          const query = format === undefined ? '' : `?$format=${format === 'csv' ? 'text/csv' : 'application/json'}`;
          const path = `/${version}${root}/${report.name}${form.argument ?? ''}${query}`;
          const label = `${path} (${form.label})`;
          const graph = await request(`${stack.sim.graphUrl}${path}`, { headers: auth });
          const graphBody = await graph.body.text();
          const proxied = await stack.get(path, KEYS.stranger);
          const expected = expectedServed(report, version, format, form);
          if (expected) {
            served++;
            t.equal(graph.statusCode, (format ?? report.defaultFormat) === 'csv' ? 302 : 200, `simulator serves ${label}`);
            t.equal(proxied.status, 403, `proxy passes ${label} on to the policy`);
          } else {
            refused++;
            t.equal(graph.statusCode, 400, `simulator refuses ${label}`);
            t.equal(proxied.status, 400, `proxy refuses ${label}`);
            const graphError = (JSON.parse(graphBody) as { error: { code: string; message: string } }).error;
            const proxyError = (JSON.parse(proxied.body.toString('utf8')) as { error: { code: string; message: string } }).error;
            t.same([proxyError.code, proxyError.message], [graphError.code, graphError.message], `the same refusal for ${label}`);
          }
        }
      }
    }
  }
  t.ok(served > 200 && refused > 400, `both sides exercised (${served} served, ${refused} refused)`);
  t.same(stack.sim.stats.downloads, {}, 'nothing was downloaded');
});

t.test("Graph's wording for the refusals real tenants see", async (t) => {
  const stack = await startStack({ simulator: { users: 20 } });
  t.teardown(() => stack.close());
  const cases: [string, string, RegExp][] = [
    ["/v1.0/reports/getTeamsUserActivityUserDetail(period='D7')?$format=application/json", 'BadRequest', /^JSON format is not supported\./],
    ['/v1.0/reports/getOffice365ActivationsUserDetail', 'BadRequest', /^Resource not found for the segment 'getOffice365ActivationsUserDetail'\.$/],
    [`/v1.0/reports/getEmailActivityUserDetail(date=${daysBefore(today, 28)})`, 'InvalidArgument', /^Only support data for the past 28 days/],
  ];
  for (const [path, code, message] of cases) {
    const res = await stack.get(path, KEYS.licence);
    t.equal(res.status, 400, path);
    const error = (JSON.parse(res.body.toString('utf8')) as { error: { code: string; message: string } }).error;
    t.equal(error.code, code, path);
    t.match(error.message, message, path);
    t.notMatch(error.message, /30 days/, 'no invented cause');
  }
});
