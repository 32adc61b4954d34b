/**
 * G11 against colluding consumers (privacy.md threat model: "Two consumers may collude and join their
 * outputs"): released rows come in a keyed order of each consumer's own, so two tools cannot link their rows by
 * position. The attack: an HR tool sees user names in clear, an analytics tool sees the same rows under
 * pseudonyms; in Graph's order, the n-th line of one is the n-th line of the other, and every pseudonym is
 * read off. Also: CSV and JSON list one consumer's rows in one order, and paging is stable.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import t, { type Test } from 'tap';
import { ConsumerKeys } from '../../src/server/consumer-keys.js';
import { parseKeyring, pseudonymizer } from '../../src/sanitize/pseudonyms.js';
import { proxyCsv, proxyJsonPages, startStack } from '../helpers/proxy-stack.js';

const HR_KEY = 'gpp_test-hr-tool-key-000000000000000000000000000000';
const ANALYTICS_KEY = 'gpp_test-analytics-tool-key-0000000000000000000000';
const REPORT = "/beta/reports/getOffice365ActiveUserDetail(period='D30')";
const ROWS = '    rows:\n      User Principal Name: {action}\n      Has Teams License: keep\n      Has Exchange License: keep\n';

async function colludingStack(t: Test) {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-collusion-'));
  await writeFile(join(dir, 'hr.yaml'), `name: hr\ndescription: The HR tool sees who holds which licence, by name.\nconsumers: [hr-tool]\nformats: [csv, json]\nperiods: [D30]\nreports:\n  getOffice365ActiveUserDetail:\n${ROWS.replace('{action}', 'keep')}    allowClearIdentifiers: { reason: HR reconciles licences per named employee. }\n`);
  await writeFile(join(dir, 'analytics.yaml'), `name: analytics\ndescription: The analytics tool sees the same rows under pseudonyms.\nconsumers: [analytics-tool]\nformats: [csv, json]\nperiods: [D30]\npseudonyms: { keyId: analytics, epoch: 1 }\nreports:\n  getOffice365ActiveUserDetail:\n${ROWS.replace('{action}', 'pseudonymize')}`);
  const secret = randomBytes(32);
  const stack = await startStack({
    simulator: { users: 120 },
    proxy: {
      policiesDir: dir,
      consumerKeys: ConsumerKeys.of({ 'hr-tool': HR_KEY, 'analytics-tool': ANALYTICS_KEY }),
      pseudonymKeys: parseKeyring(`analytics=${secret.toString('base64')}`),
    },
  });
  t.teardown(() => stack.close());
  const pseudonym = pseudonymizer(parseKeyring(`analytics=${secret.toString('base64')}`), { keyId: 'analytics', epoch: 1, consumer: 'analytics-tool' });
  return { stack, pseudonym };
}

/** How many line numbers hold the same person for both tools (joined by position, as colluders would). */
function positionalMatches(names: readonly string[], pseudonyms: readonly string[], pseudonym: (name: string) => string): number {
  return names.filter((name, i) => pseudonyms[i] === pseudonym(name)).length;
}

t.test('G11: two colluding tools cannot link pseudonyms to names by row position (CSV and JSON)', async (t) => {
  const { stack, pseudonym } = await colludingStack(t);
  const csvRows = async (key: string) => (parse((await proxyCsv(stack, REPORT.replace('/beta/', '/v1.0/'), key)).text, { columns: true, bom: true }) as Record<string, string>[]).map((r) => r['User Principal Name']!);
  const hr = await csvRows(HR_KEY);
  const analytics = await csvRows(ANALYTICS_KEY);
  t.equal(hr.length, 120, 'the HR tool gets every row');
  t.equal(analytics.length, 120, 'the analytics tool gets the same rows');
  t.same(new Set(analytics), new Set(hr.map(pseudonym)), 'the same people under pseudonyms');
  const csvMatches = positionalMatches(hr, analytics, pseudonym);
  // Two independent random orders of 120 rows share about one position by chance.
  t.ok(csvMatches <= 6, `CSV: ${csvMatches} of ${hr.length} line numbers link a name to its pseudonym`);

  const jsonRows = async (key: string) => (await proxyJsonPages(stack, `${REPORT}?$format=application/json&$top=50`, key)).pages.flatMap((p) => (p.value as { userPrincipalName: string }[]).map((i) => i.userPrincipalName));
  const hrJson = await jsonRows(HR_KEY);
  const analyticsJson = await jsonRows(ANALYTICS_KEY);
  const jsonMatches = positionalMatches(hrJson, analyticsJson, pseudonym);
  t.ok(jsonMatches <= 6, `JSON: ${jsonMatches} of ${hrJson.length} positions link a name to its pseudonym`);
  t.same(analyticsJson, analytics, 'one consumer gets its rows in the same order in CSV and JSON');
  t.same(await jsonRows(ANALYTICS_KEY), analyticsJson, 'and the same order on every listing (stable paging)');
});
