/**
 * The release binding of issue 15 (item 3), against the cohort service with the simulator's reports and
 * directory behind its two ports: a directory change within a refresh day releases nothing new, and noise
 * belongs to the release, not to the consumer who asks.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { findReport } from '../../src/catalogue/catalogue.js';
import type { ReportCall } from '../../src/catalogue/odata.js';
import { CohortReleases, type CohortGrant } from '../../src/cohort/cohort-releases.js';
import { Directory, type DirectoryEntry } from '../../src/cohort/directory.js';
import { planCohorts } from '../../src/cohort/report-users.js';
import type { DirectoryLookup, LeasedSnapshot, SnapshotSource } from '../../src/cohort/sources.js';
import { SampleReports } from '../../src/policy/sample-reports.js';
import { BudgetLedger } from '../../src/store/budget-ledger.js';
import { openEmbeddedStore } from '../../src/store/embedded-store.js';
import { RedisStore } from '../../src/store/redis-store.js';
import type { Store } from '../../src/store/store.js';
import { redisAvailable, startRedis } from '../helpers/redis.js';

const TEAMS = findReport('getTeamsUserActivityUserDetail')!;
const CALL: ReportCall = { version: 'v1.0', report: TEAMS, period: 'D30' };
const METRICS = { 'Team Chat Message Count': { clip: 500 }, 'Private Chat Message Count': { clip: 1000 }, 'Call Count': { clip: 100 }, 'Meeting Count': { clip: 100 } };

/** Report snapshots served from memory: the CSV of the current refresh (a test moves it to the next day). */
class MemorySnapshots implements SnapshotSource {
  readonly stats = { hits: 0 };
  constructor(public csv: Buffer) {}
  async lease(): Promise<LeasedSnapshot> {
    const bytes = this.csv;
    return { csv: async function* () { yield bytes; }, release() {} };
  }
}

/** The directory as Graph's /users would give it now (a test deletes a leaver from it). */
class MemoryDirectory implements DirectoryLookup {
  constructor(public entries: DirectoryEntry[]) {}
  async current(): Promise<Directory> {
    return new Directory(this.entries);
  }
}

/** The same report one Graph refresh later: every row's refresh date moved to `date`. */
function refreshedOn(csv: Buffer, from: string, date: string): Buffer {
  return Buffer.from(csv.toString('utf8').replaceAll(from, date), 'utf8');
}

async function setting(noise: boolean) {
  const sample = new SampleReports({ users: 250 });
  const snapshots = new MemorySnapshots(sample.csv(TEAMS, 'D30'));
  const directory = new MemoryDirectory(sample.directory());
  const ledger = await BudgetLedger.open(join(await mkdtemp(join(tmpdir(), 'gpp-releases-')), 'ledger.jsonl'));
  const plan = planCohorts(TEAMS, { cohort: { by: ['organization', 'department', 'officeLocation'], metrics: METRICS, ...(noise ? { noise: { epsilon: 1 } } : {}) } }, 10, 5);
  const grant: CohortGrant = { policyName: 'vendor-dashboard', plan, epsilonPerYear: 400 };
  const releases = new CohortReleases(snapshots, directory, { key: randomBytes(32), ledger });
  return { sample, snapshots, directory, ledger, grant, releases };
}

/** A user of a released department with private chats, whom the attacker knows has left. */
function leaverOf(sample: SampleReports, released: Set<string>): { upn: string; department: string } {
  const lines = sample.csv(TEAMS, 'D30').toString('utf8').split('\r\n');
  const header = lines[0]!.replace('\uFEFF', '').split(',');
  const upnAt = header.indexOf('User Principal Name');
  const chatsAt = header.indexOf('Private Chat Message Count');
  const byUpn = new Map(sample.directory().map((e) => [String(e.userPrincipalName).toLowerCase(), String(e.department)]));
  for (const line of lines.slice(1)) {
    const fields = line.split(',');
    const department = byUpn.get(fields[upnAt]?.toLowerCase() ?? '');
    if (department !== undefined && released.has(department) && Number(fields[chatsAt]) > 0) return { upn: fields[upnAt]!.toLowerCase(), department };
  }
  throw new Error('no leaver found');
}

for (const noise of [true, false]) {
  t.test(`red team (leaver within a day, ${noise ? 'noisy' : 'exact'} cohorts): a directory change before Graph's next refresh releases nothing new`, async (t) => {
    const { sample, snapshots, directory, ledger, grant, releases } = await setting(noise);
    t.teardown(() => ledger.close());
    const before = await releases.release(CALL, grant, 'v1', 'adoption-dashboard');
    const rows = before.rows();
    const released = new Set(rows.filter((r) => r.dimension === 'department' && !r.suppressed).map((r) => r.cohort[0]!));
    const leaver = leaverOf(sample, released);
    // The leaver is deleted from the directory within the day: their rows now join '(not in directory)'.
    directory.entries = directory.entries.filter((e) => String(e.userPrincipalName).toLowerCase() !== leaver.upn);
    const spent = await ledger.spent('adoption-dashboard');
    const after = await releases.release(CALL, grant, 'v1', 'adoption-dashboard');
    t.same(after.rows(), rows, `the same release is served until Graph's next refresh, so before minus after shows nothing of ${leaver.department}'s leaver`);
    t.equal(await ledger.spent('adoption-dashboard'), spent, 'and nothing new was released, so nothing new is charged');
    // Graph's next refresh is a new release (new noise, charged when noisy) that reflects the directory of its day.
    const day = sample.tenant.refreshDate;
    snapshots.csv = refreshedOn(snapshots.csv, day, '2026-11-21');
    const next = await releases.release(CALL, grant, 'v1', 'adoption-dashboard');
    t.equal(next.refreshDate, '2026-11-21');
    t.not(JSON.stringify(next.rows()), JSON.stringify(rows), 'the next refresh is a fresh release');
    // Charged per noisy measure, whose epsilons add up to the release's 1 (up to floating-point rounding).
    if (noise) t.ok(Math.abs((await ledger.spent('adoption-dashboard')) - (spent + 1)) < 1e-9, 'the fresh noisy release is charged');
  });
}

t.test('red team (colluding consumers): two consumers under one policy get identical noisy figures for the same release, so averaging them learns nothing', async (t) => {
  const { ledger, grant, releases } = await setting(true);
  t.teardown(() => ledger.close());
  const a = (await releases.release(CALL, grant, 'v1', 'adoption-dashboard')).rows();
  const b = (await releases.release(CALL, grant, 'v1', 'second-dashboard')).rows();
  t.ok(a.some((r) => r.dimension === 'department' && !r.suppressed), 'departments are released');
  t.same(b, a, 'one release, one noise draw, whoever asks');
});

t.test('G6/G7: once a consumer has spent its budget it is served its last release, marked stale, never a fresh one; another consumer is not affected', async (t) => {
  const { sample, snapshots, ledger, grant, releases } = await setting(true);
  t.teardown(() => ledger.close());
  const tight: CohortGrant = { ...grant, epsilonPerYear: 1 };
  const first = await releases.release(CALL, tight, 'v1', 'adoption-dashboard');
  t.match(first, { stale: false, budget: { charged: true, spent: 1, epsilonPerYear: 1 } });
  snapshots.csv = refreshedOn(snapshots.csv, sample.tenant.refreshDate, '2026-11-21');
  const spent = await releases.release(CALL, tight, 'v1', 'adoption-dashboard');
  t.equal(spent.stale, true, 'the budget is spent: stale');
  t.same(spent.rows(), first.rows(), 'the last release, unchanged');
  t.equal(spent.refreshDate, sample.tenant.refreshDate, 'of its own refresh date');
  t.equal(await ledger.spent('adoption-dashboard'), 1, 'nothing more charged');
  const other = await releases.release(CALL, tight, 'v1', 'second-dashboard');
  t.match(other, { stale: false, refreshDate: '2026-11-21' }, 'another consumer with budget left gets the fresh release');
  const never = await releases.release({ ...CALL, period: 'D7' }, tight, 'v1', 'adoption-dashboard').catch((e: Error & { code?: string }) => e.code);
  t.equal(never, 'PrivacyBudgetExhausted', 'a release it was never served is refused, not computed');
});

/**
 * Two proxy lifetimes on one Store: the embedded files closed and opened again (a restart), or one Redis shared
 * by two service instances (two replicas). Each instance has only its own memory.
 */
const STORES: { name: string; skip?: string; open(): Promise<{ first: () => Promise<Store>; second: () => Promise<Store>; teardown(): Promise<void> }> }[] = [
  {
    name: 'a restart on the embedded store',
    async open() {
      const dir = await mkdtemp(join(tmpdir(), 'gpp-release-book-'));
      const files = { ledgerFile: join(dir, 'ledger.jsonl'), historyFile: join(dir, 'history.jsonl') };
      let open: Store | undefined;
      const reopen = async () => {
        await open?.close();
        return (open = await openEmbeddedStore(files));
      };
      return { first: reopen, second: reopen, teardown: async () => open?.close() };
    },
  },
  {
    name: 'two replicas on one Redis',
    ...(redisAvailable ? {} : { skip: 'redis-server is not installed' }),
    async open() {
      const redis = await startRedis();
      const stores: Store[] = [];
      const connect = async () => {
        const store = await RedisStore.connect(redis.url, 'book');
        stores.push(store);
        return store;
      };
      return { first: connect, second: connect, teardown: async () => { for (const s of stores) await s.close(); await redis.stop(); } };
    },
  },
];

for (const where of STORES) {
  for (const noise of [true, false]) {
    t.test(`red team (leaver within a day, across ${where.name}, ${noise ? 'noisy' : 'exact'} cohorts): the second instance serves the epoch's release unchanged`, { skip: where.skip ?? false }, async (t) => {
      const { sample, directory, grant, ledger } = await setting(noise);
      const stores = await where.open();
      t.teardown(async () => { await stores.teardown(); await ledger.close(); });
      const key = randomBytes(32);
      const serviceOn = (store: Store) => new CohortReleases(new MemorySnapshots(sample.csv(TEAMS, 'D30')), directory, { key, ledger: store.budget, releases: store.releases });
      const first = await stores.first();
      const before = (await serviceOn(first).release(CALL, grant, 'v1', 'adoption-dashboard')).rows();
      const released = new Set(before.filter((r) => r.dimension === 'department' && !r.suppressed).map((r) => r.cohort[0]!));
      const leaver = leaverOf(sample, released);
      directory.entries = directory.entries.filter((e) => String(e.userPrincipalName).toLowerCase() !== leaver.upn);
      const second = await stores.second();
      const spent = await second.budget.spent('adoption-dashboard');
      const after = await serviceOn(second).release(CALL, grant, 'v1', 'adoption-dashboard');
      t.same(after.rows(), before, `the same release: before minus after shows nothing of ${leaver.department}'s leaver`);
      t.equal(await second.budget.spent('adoption-dashboard'), spent, 'nothing new released, nothing new charged');
      const exact = new CohortReleases(new MemorySnapshots(sample.csv(TEAMS, 'D30')), directory, { key, ledger: second.budget });
      t.not(JSON.stringify((await exact.release(CALL, grant, 'v1', 'another-consumer')).rows()), JSON.stringify(before), 'a book without the store would have released the changed table (the test can fail)');
    });
  }

  t.test(`G6/G7 across ${where.name}: a consumer whose budget is spent is served its last release, stale, not refused`, { skip: where.skip ?? false }, async (t) => {
    const { sample, directory, grant, ledger } = await setting(true);
    const stores = await where.open();
    t.teardown(async () => { await stores.teardown(); await ledger.close(); });
    const key = randomBytes(32);
    const tight: CohortGrant = { ...grant, epsilonPerYear: 1 };
    const first = await stores.first();
    const served = await new CohortReleases(new MemorySnapshots(sample.csv(TEAMS, 'D30')), directory, { key, ledger: first.budget, releases: first.releases }).release(CALL, tight, 'v1', 'adoption-dashboard');
    t.equal(served.stale, false);
    const second = await stores.second();
    const nextDay = new MemorySnapshots(refreshedOn(sample.csv(TEAMS, 'D30'), sample.tenant.refreshDate, '2026-11-21'));
    const spent = await new CohortReleases(nextDay, directory, { key, ledger: second.budget, releases: second.releases }).release(CALL, tight, 'v1', 'adoption-dashboard');
    t.equal(spent.stale, true, 'marked stale');
    t.same(spent.rows(), served.rows(), 'the release it was served before, unchanged');
    t.equal(spent.refreshDate, sample.tenant.refreshDate);
  });
}

t.test("consumers whose releases are parts of one organisation table share its aggregation and attacker check", async (t) => {
  const sample = new SampleReports({ users: 250 });
  const bytes = sample.csv(TEAMS, 'D30');
  // One snapshot object for every lease, as the snapshot cache gives, counting how often its CSV is read.
  let reads = 0;
  const snapshot: LeasedSnapshot = { csv: async function* () { reads++; yield bytes; }, release() {} };
  const snapshots: SnapshotSource = { stats: { hits: 0 }, lease: async () => snapshot };
  // One directory object while it is unchanged, as the directory source gives.
  const directory = new Directory(sample.directory());
  const releases = new CohortReleases(snapshots, { current: async () => directory });
  const plan = (by: string[]) => planCohorts(TEAMS, { cohort: { by } }, 10, 5);
  const joint = plan(['department', 'officeLocation', 'organization']);
  const byDepartment: CohortGrant = { policyName: 'a', plan: plan(['organization', 'department']), joint };
  const byOffice: CohortGrant = { policyName: 'b', plan: plan(['organization', 'officeLocation']), joint };
  const a = await releases.release(CALL, byDepartment, 'v1', 'tool-a');
  const readsForA = reads;
  const b = await releases.release(CALL, byOffice, 'v1', 'tool-b');
  t.comment(`reads: ${readsForA} for the first consumer, ${reads - readsForA} for the second`);
  t.equal(reads - readsForA, readsForA - 1, "the second consumer reads the report once less: the organisation's table is not aggregated again");
  // Each consumer's cells carry the organisation's states: the same organisation cell, suppressed or not, for both.
  const organisation = (rows: ReturnType<typeof a.rows>) => rows.find((r) => r.dimension === 'organization')!;
  t.same(organisation(b.rows()), organisation(a.rows()), 'one organisation cell for both');
  t.ok(a.rows().every((r) => r.dimension !== 'officeLocation') && b.rows().every((r) => r.dimension !== 'department'), 'each served its own dimensions');
});
