/**
 * Graph's `(Unknown)` users, across every per-user report, version and format (the whole kind of
 * ../shared/cases/real-graph 03 and 03b): the simulator writes about one user in four as `(Unknown)` in every
 * per-user report; each such row is one person in cohorts and is released with an empty pseudonym, never with
 * one shared by different people.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import t from 'tap';
import { REPORTS } from '../../src/catalogue/catalogue.js';
import { bearer, fetchCsv, reportPath } from '../helpers/graph-client.js';
import { KEYS, proxyCsv, proxyJsonPages, startStack } from '../helpers/proxy-stack.js';

const USER_REPORTS = REPORTS.filter((r) => r.shape === 'userDetail');

async function policies(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-unknown-'));
  const rows = Object.fromEntries(USER_REPORTS.map((r) => [r.name, { rows: Object.fromEntries(r.columns.filter((c) => c.role === 'identifier').map((c) => [c.json, 'pseudonymize'])) }]));
  await writeFile(join(dir, 'rows.json'), JSON.stringify({ name: 'rows', description: 'Every per-user report, identifiers pseudonymised.', consumers: ['licence-tool'], periods: ['D7', 'D30'], pseudonyms: { keyId: 'licence-tool', epoch: 1 }, reports: rows }));
  const cohorts = Object.fromEntries(USER_REPORTS.filter((r) => r.parameters !== 'none' && r.columns.some((c) => c.json === 'userPrincipalName')).map((r) => [r.name, { cohort: { by: ['organization'] } }]));
  await writeFile(join(dir, 'cohorts.json'), JSON.stringify({ name: 'cohorts', description: 'Every per-user report as an organisation total.', consumers: ['adoption-dashboard'], periods: ['D7', 'D30'], reports: cohorts }));
  return dir;
}

t.test("every per-user report: '(Unknown)' rows get no shared pseudonym and are each one person, whatever the version or format", async (t) => {
  const stack = await startStack({ simulator: { users: 80 }, proxy: { policiesDir: await policies(), snapshotTtlSeconds: 0 } });
  t.teardown(() => stack.close());
  stack.sim.faults = { unknownNames: { every: 4 } };
  const auth = await bearer(stack.sim);
  let unknownSeen = 0;
  let checkedTotals = 0;
  for (const report of USER_REPORTS) {
    const version = report.versions.includes('v1.0') ? 'v1.0' : 'beta';
    const path = reportPath(report, version, "period='D30'");
    // The person's name: User Principal Name, or Owner Principal Name in the OneDrive account report.
    const upn = report.columns.find((c) => c.conceal?.as === 'hex' && c.conceal.namespace === 'upn')!;
    const raw = parse(await fetchCsv(stack.sim, path, auth), { bom: true, columns: true }) as Record<string, string>[];
    const unknown = raw.filter((r) => r[upn.header] === '(Unknown)').length;
    const named = new Set(raw.map((r) => r[upn.header]).filter((u) => u !== '(Unknown)')).size;
    unknownSeen += unknown;
    t.ok(unknown > 0, `${report.name}: the tenant has unknown users`);

    const csv = await proxyCsv(stack, `${path}?$format=text/csv`, KEYS.licence);
    t.equal(csv.status, 200, `${report.name} CSV`);
    t.notOk(csv.text.includes('(Unknown)'), `${report.name}: the placeholder is not released`);
    const released = (parse(csv.text, { bom: true, columns: true }) as Record<string, string>[]).map((r) => r[upn.header]!);
    t.equal(released.filter((p) => p === '').length, unknown, `${report.name}: each '(Unknown)' row has an empty pseudonym`);
    t.equal(new Set(released.filter((p) => p !== '')).size, named, `${report.name}: one pseudonym per named person, none shared`);
    t.ok(stack.logs.some((l) => l.includes(`"pseudonymsWithheld":${unknown}`)), `${report.name}: the audit line counts them`);

    const json = await proxyJsonPages(stack, `${reportPath(report, 'beta', "period='D30'")}?$format=application/json`, KEYS.licence);
    t.equal(json.status, 200, `${report.name} JSON`);
    const items = json.pages.flatMap((p) => p.value as Record<string, string | null>[]);
    t.notOk(JSON.stringify(json.pages).includes('(Unknown)'));
    const fromJson = items.map((i) => i[upn.json]).filter((p): p is string => p !== null);
    t.equal(new Set(fromJson).size, fromJson.length, `${report.name}: one JSON item per person, no pseudonym shared`);
    t.ok(released.every((p) => p === '' || fromJson.includes(p)), `${report.name}: JSON names the people CSV names`);

    if (report.parameters === 'none' || upn.json !== 'userPrincipalName') continue;
    const cohort = await stack.get(`/cohorts/${report.name}?period=D30`, KEYS.vendor);
    t.equal(cohort.status, 200, `${report.name} cohorts`);
    const organization = (JSON.parse(cohort.body.toString('utf8')) as { value: { users: number | null; suppressed: boolean }[] }).value[0]!;
    // An organisation with 1..k_c-1 inactive people is suppressed by the complement rule (G2); every released
    // one must count each '(Unknown)' row as a person.
    if (organization.suppressed) continue;
    checkedTotals++;
    t.equal(organization.users, named + unknown, `${report.name}: the organisation counts every '(Unknown)' row as a person`);
  }
  t.ok(unknownSeen > 100, `unknown rows seen: ${unknownSeen}`);
  t.ok(checkedTotals >= 6, `organisation totals checked: ${checkedTotals}`);
});
