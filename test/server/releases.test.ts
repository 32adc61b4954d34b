/**
 * The release cache through the running proxy: a cached release is one consumer's and one policy version's
 * and one key epoch's, never another's. Two consumers under one policy and one key id each get their own
 * pseudonyms from the cache; after a policy reload (a column dropped, the key epoch rotated) no request is
 * served the old release, and a listing begun before the change must start again.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import t, { type Test } from 'tap';
import { ConsumerKeys } from '../../src/server/consumer-keys.js';
import { parseKeyring, pseudonymizer } from '../../src/sanitize/pseudonyms.js';
import { proxyCsv, startStack, type Stack } from '../helpers/proxy-stack.js';

const KEY_A = 'gpp_test-release-tool-a-key-000000000000000000000000';
const KEY_B = 'gpp_test-release-tool-b-key-000000000000000000000000';
const CSV = "/v1.0/reports/getOffice365ActiveUserDetail(period='D30')";
const JSON_LISTING = "/beta/reports/getOffice365ActiveUserDetail(period='D30')?$format=application/json&$top=40";

function policy(epoch: number, columns: readonly string[], quasi: readonly string[] = []): string {
  return [
    'name: shared-rows', 'description: Two tools under one policy and one pseudonym key id.', 'consumers: [tool-a, tool-b]',
    'formats: [csv, json]', 'periods: [D30]', `pseudonyms: { keyId: shared, epoch: ${epoch} }`, 'reports:', '  getOffice365ActiveUserDetail:', '    rows:',
    '      User Principal Name: pseudonymize', ...columns.map((c) => `      ${c}: keep`),
    ...(quasi.length > 0 ? [`    quasiIdentifiers: [${quasi.join(', ')}]`] : []), '',
  ].join('\n');
}

async function sharedStack(t: Test): Promise<{ stack: Stack; dir: string; pseudonym: (consumer: string, epoch: number) => (name: string) => string }> {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-releases-'));
  await writeFile(join(dir, 'shared.yaml'), policy(1, ['Has Teams License']));
  const keyring = `shared=${randomBytes(32).toString('base64')}`;
  const stack = await startStack({
    simulator: { users: 90 },
    proxy: { policiesDir: dir, consumerKeys: ConsumerKeys.of({ 'tool-a': KEY_A, 'tool-b': KEY_B }), pseudonymKeys: parseKeyring(keyring) },
  });
  t.teardown(() => stack.close());
  return { stack, dir, pseudonym: (consumer, epoch) => pseudonymizer(parseKeyring(keyring), { keyId: 'shared', epoch, consumer }) };
}

async function csvRows(stack: Stack, key: string): Promise<Record<string, string>[]> {
  const res = await proxyCsv(stack, CSV, key);
  if (res.status !== 200) throw new Error(`CSV: ${res.status} ${res.text}`);
  return parse(res.text, { columns: true, bom: true }) as Record<string, string>[];
}

async function jsonPage(stack: Stack, path: string, key: string): Promise<{ status: number; body: { value: Record<string, unknown>[]; '@odata.nextLink'?: string } }> {
  const res = await stack.get(path, key);
  return { status: res.status, body: JSON.parse(res.body.toString('utf8')) as never };
}

t.test('a cached release is never served to another consumer, even under the same policy and key id', async (t) => {
  const { stack, pseudonym } = await sharedStack(t);
  const names = Array.from({ length: stack.sim.tenant.size }, (_, i) => stack.sim.tenant.user(i).userPrincipalName);
  for (let round = 1; round <= 2; round++) {
    for (const [consumer, key] of [['tool-a', KEY_A], ['tool-b', KEY_B]] as const) {
      const expected = new Set(names.map(pseudonym(consumer, 1)));
      const csv = (await csvRows(stack, key)).map((r) => r['User Principal Name']!);
      t.equal(csv.length, names.length, `round ${round}, ${consumer}: every row`);
      t.ok(csv.every((p) => expected.has(p)), `round ${round}, ${consumer}: CSV pseudonyms are ${consumer}'s own`);
      const json = (await jsonPage(stack, JSON_LISTING, key)).body.value.map((i) => i.userPrincipalName as string);
      t.ok(json.length === 40 && json.every((p) => expected.has(p)), `round ${round}, ${consumer}: JSON pseudonyms are ${consumer}'s own`);
    }
  }
  t.ok(stack.proxy.releases.stats.hits >= 4, `the second round came from the cache (${stack.proxy.releases.stats.hits} hits)`);
});

t.test('a policy change (a column dropped, the key epoch rotated) is never answered from the old release', async (t) => {
  const { stack, dir, pseudonym } = await sharedStack(t);
  const names = Array.from({ length: stack.sim.tenant.size }, (_, i) => stack.sim.tenant.user(i).userPrincipalName);
  const before = await csvRows(stack, KEY_A);
  t.same(Object.keys(before[0]!), ['User Principal Name', 'Has Teams License'], 'the columns of the first version');
  const first = await jsonPage(stack, JSON_LISTING, KEY_A);
  t.ok(first.body['@odata.nextLink'], 'a listing is in progress');
  await csvRows(stack, KEY_A);
  t.ok(stack.proxy.releases.stats.hits >= 1, 'the CSV release is cached');

  await writeFile(join(dir, 'shared.yaml'), policy(1, ['Has Exchange License']));
  await stack.proxy.policies.reload();
  const changed = await csvRows(stack, KEY_A);
  t.same(Object.keys(changed[0]!), ['User Principal Name', 'Has Exchange License'], 'CSV: the new columns, at once');
  const changedJson = await jsonPage(stack, JSON_LISTING, KEY_A);
  t.ok(changedJson.body.value.every((i) => 'hasExchangeLicense' in i && !('hasTeamsLicense' in i)), 'JSON: the new columns, at once');
  const stale = await jsonPage(stack, first.body['@odata.nextLink']!, KEY_A);
  t.equal(stale.status, 409, 'a listing begun under the old version must start again');

  await writeFile(join(dir, 'shared.yaml'), policy(2, ['Has Exchange License']));
  await stack.proxy.policies.reload();
  const epoch2 = new Set(names.map(pseudonym('tool-a', 2)));
  const rotated = (await csvRows(stack, KEY_A)).map((r) => r['User Principal Name']!);
  t.ok(rotated.length === names.length && rotated.every((p) => epoch2.has(p)), 'CSV: every pseudonym is of the new epoch');
  const rotatedJson = (await jsonPage(stack, JSON_LISTING, KEY_A)).body.value.map((i) => i.userPrincipalName as string);
  t.ok(rotatedJson.every((p) => epoch2.has(p)), 'JSON: every pseudonym is of the new epoch');
  const epoch1 = new Set(names.map(pseudonym('tool-a', 1)));
  t.notOk(rotated.some((p) => epoch1.has(p)), 'no pseudonym of the old epoch is served');
  t.notSame(rotated, changed.map((r) => r['User Principal Name']!), 'and the row order changed with the epoch');
});

t.test('with the cache off, a listing is served from the one release it began on: one report fetch for all its pages (quasi-identifiers need them all)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-releases-'));
  await writeFile(join(dir, 'shared.yaml'), policy(1, ['Has Teams License', 'Has Exchange License'], ['Has Teams License', 'Has Exchange License']));
  const stack = await startStack({
    simulator: { users: 200 },
    proxy: { policiesDir: dir, snapshotTtlSeconds: 0, consumerKeys: ConsumerKeys.of({ 'tool-a': KEY_A }), pseudonymKeys: parseKeyring(`shared=${randomBytes(32).toString('base64')}`) },
  });
  t.teardown(() => stack.close());
  const pages: Record<string, unknown>[][] = [];
  let url: string | undefined = "/beta/reports/getOffice365ActiveUserDetail(period='D30')?$format=application/json&$top=10";
  while (url !== undefined) {
    const page = await jsonPage(stack, url, KEY_A);
    t.equal(page.status, 200);
    pages.push(page.body.value);
    url = page.body['@odata.nextLink'];
  }
  const listed = pages.flat().map((i) => i.userPrincipalName);
  t.ok(pages.length >= 15 && pages.slice(0, -1).every((p) => p.length === 10), `${pages.length} full pages of 10`);
  t.equal(new Set(listed).size, listed.length, 'nobody twice');
  t.equal(stack.proxy.snapshots.stats.fetches, 1, 'the report was fetched from Graph once for the whole listing');
  const again = await jsonPage(stack, "/beta/reports/getOffice365ActiveUserDetail(period='D30')?$format=application/json&$top=10", KEY_A);
  t.equal(again.status, 200);
  t.equal(stack.proxy.snapshots.stats.fetches, 2, 'a new listing fetches again (the cache is off)');
});

t.test('a repeated JSON page is sent as the stored bytes, its next cursor sealed once; another consumer under the same policy and key id gets its own page', async (t) => {
  const { stack, pseudonym } = await sharedStack(t);
  const first = await stack.get(JSON_LISTING, KEY_A);
  const repeat = await stack.get(JSON_LISTING, KEY_A);
  t.equal(first.status, 200);
  t.ok(first.body.equals(repeat.body), 'the same bytes, the sealed cursor included');
  t.ok(stack.proxy.releases.pages.bytes >= first.body.length, 'the finished page is held');
  const other = await jsonPage(stack, JSON_LISTING, KEY_B);
  const mine = JSON.parse(first.body.toString('utf8')) as { value: Record<string, unknown>[]; '@odata.nextLink': string };
  t.not(other.body['@odata.nextLink'], mine['@odata.nextLink'], "tool-b's cursor is its own");
  const names = Array.from({ length: stack.sim.tenant.size }, (_, i) => stack.sim.tenant.user(i).userPrincipalName);
  const ofA = new Set(names.map(pseudonym('tool-a', 1)));
  const ofB = new Set(names.map(pseudonym('tool-b', 1)));
  t.ok(other.body.value.every((item) => ofB.has(item.userPrincipalName as string) && !ofA.has(item.userPrincipalName as string)), "tool-b's page holds tool-b's pseudonyms only");
  // The reused cursor opens, and its page is the listing's second page.
  const second = await jsonPage(stack, new URL(mine['@odata.nextLink']).pathname + new URL(mine['@odata.nextLink']).search, KEY_A);
  t.equal(second.status, 200);
  t.equal(second.body.value.length, 40);
  t.notOk(second.body.value.some((item) => mine.value.some((seen) => seen.userPrincipalName === item.userPrincipalName)), 'no item of the first page again');
});
