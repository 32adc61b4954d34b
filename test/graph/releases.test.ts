/**
 * The release cache on its own, over real encrypted spill files: a release holds exactly the sanitiser's
 * output (in the keyed order, also when sorting spills to disk), pages slice it without gaps or repeats, and
 * the cache stays within its bounds (releases held, decrypted bytes in memory) while a release evicted under
 * a reader stays readable until that reader is done.
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import t from 'tap';
import { findReport } from '../../src/catalogue/catalogue.js';
import { PageMemo, ReleaseCache, releaseId, type ReleaseScope } from '../../src/graph/releases.js';
import { ReportSnapshot } from '../../src/graph/snapshots.js';
import { SpillFile } from '../../src/graph/spill-file.js';
import { sanitizeCsvReport } from '../../src/sanitize/csv-report.js';
import { JsonItemSanitizer } from '../../src/sanitize/json-report.js';
import { planRows, type RowsRule } from '../../src/sanitize/plan.js';
import { parseKeyring, pseudonymizer } from '../../src/sanitize/pseudonyms.js';
import { rowOrderKey } from '../../src/sanitize/row-order.js';
import { QuasiClasses, emptyStats } from '../../src/sanitize/stats.js';
import { renderReport } from '../helpers/report-fixtures.js';

const REPORT = findReport('getOffice365ActiveUserDetail')!;
const RULE: RowsRule = {
  rows: { 'User Principal Name': 'pseudonymize', 'Assigned Products': 'keep', 'Has Teams License': 'keep', 'Teams Last Activity Date': { generalize: 'month' } },
  quasiIdentifiers: ['Assigned Products', 'Teams Last Activity Date'],
};
const rendered = renderReport(REPORT.name, { users: 1500 });
const keyring = parseKeyring(`k=${randomBytes(32).toString('base64')}`);
const planFor = (consumer: string) => planRows(REPORT, RULE, 5, { kC: 5, pseudonymize: pseudonymizer(keyring, { keyId: 'k', epoch: 1, consumer }) });
const orderSecret = randomBytes(32);
const scopeOf = (consumer: string): ReleaseScope => ({ consumer, policyHash: 'p1', pseudonyms: { keyId: 'k', epoch: 1 } });

/** A real snapshot over a real spill file: the CSV in 16 KB records, or the JSON items in records of 100. */
async function snapshotOf(format: 'csv' | 'json'): Promise<ReportSnapshot> {
  const file = await SpillFile.create(tmpdir());
  const starts: number[] = [];
  if (format === 'csv') {
    const bytes = Buffer.from(rendered.csv);
    for (let i = 0; i < bytes.length; i += 16_384) await file.writeRecord(bytes.subarray(i, i + 16_384));
  } else {
    for (let i = 0; i < rendered.items.length; i += 100) {
      starts.push(i);
      await file.writeRecord(Buffer.from(JSON.stringify(rendered.items.slice(i, i + 100))));
    }
  }
  return new ReportSnapshot(`test ${format}`, format, file, rendered.items.length, starts, Date.now(), Date.now() + 60_000, 1, `digest-${format}`);
}

async function text(pieces: AsyncIterable<Buffer | string>): Promise<string> {
  let out = '';
  for await (const piece of pieces) out += piece.toString();
  return out;
}

t.test('a CSV release is the sanitiser\'s output, header first, rows in the keyed order; sorting may spill to disk', async (t) => {
  const snapshot = await snapshotOf('csv');
  t.teardown(() => snapshot.retire());
  const plan = planFor('tool');
  const expected = await text(sanitizeCsvReport(() => snapshot.csv(), plan, emptyStats(), { validated: true }));
  const [header, ...lines] = expected.split('\r\n');
  for (const sortBucketChars of [32 * 1024, 200]) {
    const cache = new ReleaseCache({ sortBucketChars });
    const release = await cache.obtain('csv-release', Date.now() + 60_000, () => ({ snapshot, plan, orderKey: rowOrderKey(orderSecret, scopeOf('tool')) }));
    const got = (await text(release.csv())).split('\r\n');
    release.release();
    t.equal(got[0], header, `buckets of ${sortBucketChars}: the header line first`);
    t.same([...got.slice(1)].sort(), [...lines].sort(), `buckets of ${sortBucketChars}: exactly the released lines`);
    t.notSame(got.slice(1), lines, `buckets of ${sortBucketChars}: not in Graph's order`);
    t.equal(release.count, lines.length - 1, 'the count of released rows');
    if (sortBucketChars === 200) t.ok(cache.stats.sortSpills > 0, `sorting spilled ${cache.stats.sortSpills} buckets to disk`);
    cache.clear();
  }
  const one = new ReleaseCache();
  const other = new ReleaseCache({ sortBucketChars: 200 });
  const build = () => ({ snapshot, plan, orderKey: rowOrderKey(orderSecret, scopeOf('tool')) });
  const a = await one.obtain('x', Date.now() + 60_000, build);
  const b = await other.obtain('x', Date.now() + 60_000, build);
  t.equal(await text(a.csv()), await text(b.csv()), 'the same order whether sorted in memory or on disk');
  a.release();
  b.release();
  one.clear();
  other.clear();
});

t.test('JSON pages slice one release without gaps or repeats, across record boundaries', async (t) => {
  const snapshot = await snapshotOf('json');
  t.teardown(() => snapshot.retire());
  const plan = planFor('tool');
  const classes = new QuasiClasses(plan.k);
  JsonItemSanitizer.count(plan, rendered.items, classes);
  const expected = new JsonItemSanitizer(plan, emptyStats(), classes).sanitize(rendered.items).map((i) => JSON.stringify(i));
  const cache = new ReleaseCache();
  const release = await cache.obtain('json-release', Date.now() + 60_000, () => ({ snapshot, plan, orderKey: rowOrderKey(orderSecret, scopeOf('tool')) }));
  t.equal(release.count, expected.length, 'every released item');
  const whole = JSON.parse(`[${(await release.items(0, release.count)).text.toString()}]`) as unknown[];
  t.same(whole.map((i) => JSON.stringify(i)).sort(), [...expected].sort(), 'exactly the released items');
  const paged: unknown[] = [];
  for (let offset = 0; offset < release.count; offset += 37) {
    const page = await release.items(offset, 37);
    t.equal(page.count, Math.min(37, release.count - offset));
    paged.push(...(JSON.parse(`[${page.text.toString()}]`) as unknown[]));
  }
  t.same(paged, whole, 'pages of 37 put together are the whole release');
  t.equal((await release.items(release.count, 10)).count, 0, 'past the end: nothing');
  release.release();
  cache.clear();
});

t.test('bounded: at most maxReleases held, decrypted records within maxMemoryBytes; an evicted release stays readable under its reader', async (t) => {
  const snapshot = await snapshotOf('csv');
  t.teardown(() => snapshot.retire());
  const cache = new ReleaseCache({ maxReleases: 3, maxMemoryBytes: 100_000 });
  const build = (consumer: string) => () => ({ snapshot, plan: planFor(consumer), orderKey: rowOrderKey(orderSecret, scopeOf(consumer)) });
  const first = await cache.obtain(releaseId(snapshot.digest, 'csv', scopeOf('tool-0')), Date.now() + 60_000, build('tool-0'));
  const firstText = await text(first.csv());
  t.ok(Buffer.byteLength(firstText) > 100_000, `a release (${Buffer.byteLength(firstText)} bytes) larger than the memory bound`);
  t.ok(cache.memory.bytes <= 100_000, `memory held ${cache.memory.bytes} bytes`);
  for (let i = 1; i < 6; i++) {
    const release = await cache.obtain(releaseId(snapshot.digest, 'csv', scopeOf(`tool-${i}`)), Date.now() + 60_000, build(`tool-${i}`));
    await text(release.csv());
    release.release();
    t.ok(cache.size <= 3, `after ${i + 1} releases, ${cache.size} held`);
    t.ok(cache.memory.bytes <= 100_000, `after ${i + 1} releases, ${cache.memory.bytes} bytes in memory`);
  }
  t.equal(cache.stats.evictions, 3, 'the three least recently used were evicted');
  t.equal(cache.lease(releaseId(snapshot.digest, 'csv', scopeOf('tool-0'))), undefined, 'the first is no longer held');
  t.equal(await text(first.csv()), firstText, 'but its reader still reads it whole');
  first.release();
  await new Promise((resolve) => setTimeout(resolve, 50));
  await t.rejects(text(first.csv()), 'once its last reader is done, its file is closed');

  const passed = await cache.obtain('expired', Date.now() - 1, build('tool-x'));
  t.equal(cache.lease('expired'), undefined, 'a release whose time has passed (the cache is off) is not held');
  t.ok((await text(passed.csv())).length > 0, 'yet its one request reads it');
  passed.release();
  cache.clear();
  t.equal(cache.size, 0, 'clear() drops everything (a policy reload)');
});

t.test('a release id names snapshot content, format, consumer, policy version and key epoch', async (t) => {
  const base: ReleaseScope = { consumer: 'a', policyHash: 'p1', pseudonyms: { keyId: 'k', epoch: 1 } };
  const ids = [
    releaseId('d1', 'csv', base), releaseId('d2', 'csv', base), releaseId('d1', 'json', base), releaseId('d1', 'csv', { ...base, consumer: 'b' }),
    releaseId('d1', 'csv', { ...base, policyHash: 'p2' }), releaseId('d1', 'csv', { ...base, pseudonyms: { keyId: 'k', epoch: 2 } }),
    releaseId('d1', 'csv', { ...base, pseudonyms: { keyId: 'k2', epoch: 1 } }), releaseId('d1', 'csv', { consumer: 'a', policyHash: 'p1' }),
  ];
  t.equal(new Set(ids).size, ids.length, 'every difference gives another id');
});

t.test('finished pages: served until their time, bounded in bytes (least recently used first), dropped with the releases', async (t) => {
  const memo = new PageMemo(250);
  const page = (fill: string) => ({ body: Buffer.from(fill.repeat(100)), items: 3 });
  const now = Date.now();
  memo.put('a', page('a'), now + 1_000);
  memo.put('b', page('b'), now + 1_000);
  t.same(memo.get('a', now)?.body, page('a').body, 'a page is sent again as stored');
  t.equal(memo.get('a', now + 1_000), undefined, 'not once its time is up (its cursor would have aged)');
  t.equal(memo.bytes, 100, 'an expired page no longer counts');
  memo.put('a', page('a'), now + 1_000);
  memo.get('b', now);
  memo.put('c', page('c'), now + 1_000);
  t.equal(memo.get('a', now), undefined, 'past the bound, the least recently used went first');
  t.ok(memo.get('b', now) !== undefined && memo.get('c', now) !== undefined && memo.bytes <= 250, `${memo.bytes} bytes held`);
  memo.put('big', { body: Buffer.alloc(300), items: 1 }, now + 1_000);
  t.equal(memo.get('big', now), undefined, 'a page larger than the bound is not held');
  const cache = new ReleaseCache();
  cache.pages.put('x', page('x'), now + 1_000);
  cache.clear();
  t.equal(cache.pages.get('x', now), undefined, 'clear() (a policy reload) drops the finished pages too');
});
