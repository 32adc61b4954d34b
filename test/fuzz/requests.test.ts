/**
 * Fuzzing the request surface (fast-check, bounded): OData function syntax, percent-encodings, traversal,
 * odd methods of writing parameters, oversize input. Whatever arrives, the proxy answers with a known status and
 * a Graph-shaped error (never a 500, never a stack), and nothing from the canary tenant appears in a refusal.
 */
import fc from 'fast-check';
import t from 'tap';
import { KEYS, startStack } from '../helpers/proxy-stack.js';

const REPORT_NAMES = ['getOffice365ActiveUserDetail', 'getTeamsUserActivityUserDetail', 'getEmailActivityCounts', 'getNoSuchReport', 'microsoft.graph.getOneDriveActivityUserDetail', '..', '%2e%2e', 'getOffice365ActivationsUserDetail'];
const argument = fc.oneof(
  fc.constantFrom("(period='D7')", "(period='D30')", "(period='D8')", '(date=2026-11-01)', "(date='2026-11-01')", '(date=2026-02-30)', '()', '', "(period='D30',date=2026-11-01)", "(period='D30'", "(period=D30)", '(%27D30%27)'),
  fc.string({ unit: fc.constantFrom('(', ')', "'", '=', 'D', '7', '%', '2', '7', ',', ' ', '/', '\\', '\u0000', 'é'), maxLength: 20 }),
);
const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom('?$format=application/json', '?$format=text/csv', '?$top=5', '?$top=-1', '?$top=99999999', '?$skiptoken=abc', '?$filter=x', '?$format=application/json&$format=text/csv', '?foo=bar', '?$FORMAT=APPLICATION/JSON'),
  fc.string({ unit: fc.constantFrom('?', '&', '=', '$', 'a', '%', '0', '#', ';'), maxLength: 30 }).map((q) => `?${q}`),
);
const prefix = fc.constantFrom('/v1.0/reports/', '/beta/reports/', '/v1.0/copilot/reports/', '/v2.0/reports/', '/v1.0/reports/../', '/v1.0//reports/', '/cohorts/', '/org-score/', '/v1.0/');
const key = fc.constantFrom(KEYS.licence, KEYS.vendor, KEYS.onboarding, 'gpp_wrong', undefined);

const KNOWN = new Set([200, 302, 400, 401, 403, 404, 405, 409, 422]);

t.test('request fuzzing: known statuses only, Graph-shaped errors, no canary data in refusals', async (t) => {
  const stack = await startStack({ simulator: { canary: true, users: 60 } });
  t.teardown(() => stack.close());
  const marker = stack.sim.tenant.canaryMarker!;
  const seen = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(prefix, fc.constantFrom(...REPORT_NAMES), argument, query, key, async (p, name, arg, q, k) => {
      const path = `${p}${name}${encodeURI(arg).replace(/#/g, '%23')}${q.replace(/#/g, '%23')}`;
      const res = await stack.get(path, k);
      seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
      if (!KNOWN.has(res.status)) throw new Error(`status ${res.status} for ${path}`);
      const text = res.body.toString();
      if (text.toLowerCase().includes(marker)) throw new Error(`canary data in the answer to ${path}`);
      if (res.status >= 400) {
        const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
        if (typeof body.error?.code !== 'string' || typeof body.error.message !== 'string') throw new Error(`not a Graph error for ${path}`);
        if (/\bat .*\.(ts|js):\d+/.test(text)) throw new Error(`a stack trace for ${path}`);
      }
      return true;
    }),
    // Seeded: a well-formed request is about 1 in 1,000 of these, so an unseeded run sometimes saw only 400, 401
    // and 404 and failed the spread below (GPP_FUZZ_SEED picks another sequence).
    { numRuns: 300, seed: Number(process.env.GPP_FUZZ_SEED ?? 20261201) },
  );
  t.ok(seen.size >= 4, `a spread of outcomes: ${JSON.stringify(Object.fromEntries(seen))}`);
  t.notOk(stack.logs.some((l) => l.toLowerCase().includes(marker)), 'and nothing of the tenant in the logs');
});

t.test('oversize input: a very long path or query is refused cleanly', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const long = await stack.get(`/v1.0/reports/getOffice365ActiveUserDetail(period='${'D'.repeat(20_000)}')`, KEYS.licence);
  t.ok(long.status === 400 || long.status === 414 || long.status === 431, `status ${long.status}`);
  const header = await stack.get('/healthz', undefined, { 'x-padding': 'x'.repeat(70_000) }).catch((error: Error) => ({ status: 0, error }));
  t.ok(header.status === 431 || header.status === 400 || header.status === 0, 'an oversized header is refused (or the connection closed)');
});
