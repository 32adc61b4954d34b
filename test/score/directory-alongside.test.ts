/**
 * The directory is read while the reports download (issue 18: at 300,000 users the directory is 300 pages, about
 * 2 s before any report was asked for). Against the simulator behind its two ports: the real snapshot cache and
 * the real directory source. The directory here answers only once a report was asked for (or after 3 s): read
 * before the reports, as before, it would wait out the 3 s and the test fails. Failures on either side lose
 * nothing: every lease is released and the first failure is the one reported.
 */
import t, { type Test } from 'tap';
import { findReport } from '../../src/catalogue/catalogue.js';
import { CohortReleases } from '../../src/cohort/cohort-releases.js';
import type { Directory } from '../../src/cohort/directory.js';
import { planCohorts } from '../../src/cohort/report-users.js';
import type { DirectoryLookup, LeasedSnapshot, SnapshotSource } from '../../src/cohort/sources.js';
import { DirectorySource } from '../../src/graph/directory-source.js';
import { SnapshotCache } from '../../src/graph/snapshots.js';
import { UpstreamError } from '../../src/graph/upstream-error.js';
import { OrgScores, type ScoreGrant } from '../../src/score/org-scores.js';
import { scoreTenantGraph } from '../helpers/score-fixtures.js';

const TEAMS = findReport('getTeamsUserActivityUserDetail')!;
const GRANT: ScoreGrant = { policyName: 'p', dimensions: ['department'], kOrg: 10, kC: 5, cadence: 'daily' };

/** Reports through the real cache, noting when the first lease was asked for and how many are held. */
class WatchedSnapshots implements SnapshotSource {
  readonly stats: SnapshotCache['stats'];
  held = 0;
  private asked!: () => void;
  /** Settles when the first lease is asked for. */
  readonly firstAsked = new Promise<void>((resolve) => (this.asked = resolve));

  constructor(
    private readonly cache: SnapshotSource & { stats: SnapshotCache['stats'] },
    private readonly fail?: Error,
  ) {
    this.stats = cache.stats;
  }

  async lease(...args: Parameters<SnapshotSource['lease']>): Promise<LeasedSnapshot> {
    this.asked();
    if (this.fail !== undefined) throw this.fail;
    const snapshot = await this.cache.lease(...args);
    this.held++;
    return { csv: () => snapshot.csv(), takeSummary: () => snapshot.takeSummary?.(), digest: snapshot.digest, release: () => (this.held--, snapshot.release()) };
  }
}

/** The real directory, given only once a report was asked for (or after 3 s, noted as `waitedOut`). */
class GatedDirectory implements DirectoryLookup {
  waitedOut = false;
  constructor(
    private readonly source: DirectoryLookup,
    private readonly reportsAsked: Promise<void>,
    private readonly fail?: Error,
  ) {}

  async current(): Promise<Directory> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(() => ((this.waitedOut = true), resolve()), 3000)));
    await Promise.race([this.reportsAsked, timeout]);
    clearTimeout(timer);
    if (this.fail !== undefined) throw this.fail;
    return this.source.current();
  }
}

async function setting(t: Test, failures: { reports?: Error; directory?: Error } = {}) {
  const graph = await scoreTenantGraph(t);
  const snapshots = new WatchedSnapshots(new SnapshotCache({ client: graph, ttlMs: 60_000 }), failures.reports);
  const directory = new GatedDirectory(new DirectorySource(graph, 60_000), snapshots.firstAsked, failures.directory);
  return { snapshots, directory };
}

t.test('the score reads the directory while its reports download, and releases by department as before', async (t) => {
  const { snapshots, directory } = await setting(t);
  const score = await new OrgScores({ snapshots, directory }).compute({ period: 'D30' }, GRANT, 'a');
  t.notOk(directory.waitedOut, 'the reports were asked for before the directory was read');
  t.ok(score.rows.some((row) => row.dimension === 'department'), 'rows by department');
  t.equal(snapshots.held, 0, 'every lease released');
});

t.test('the cohorts read the directory while their report downloads', async (t) => {
  const { snapshots, directory } = await setting(t);
  const plan = planCohorts(TEAMS, { cohort: { by: ['organization', 'department'], metrics: { 'Meeting Count': { clip: 100 } } } }, 10, 5);
  const release = await new CohortReleases(snapshots, directory).release({ version: 'v1.0', report: TEAMS, period: 'D30' }, { policyName: 'p', plan }, 'v1', 'a');
  t.notOk(directory.waitedOut, 'the report was asked for before the directory was read');
  t.ok(release.rows().some((row) => row.dimension === 'department'), 'rows by department');
  t.equal(snapshots.held, 0, 'the lease released');
});

t.test('a directory that fails while the reports download fails the score, and every report lease is released', async (t) => {
  const { snapshots, directory } = await setting(t, { directory: new UpstreamError('Unavailable', 'Graph is down') });
  await t.rejects(new OrgScores({ snapshots, directory }).compute({ period: 'D30' }, GRANT, 'a'), { code: 'Unavailable' });
  t.equal(snapshots.held, 0, 'no lease kept');
  const plan = planCohorts(TEAMS, { cohort: { by: ['organization', 'department'], metrics: {} } }, 10, 5);
  await t.rejects(new CohortReleases(snapshots, directory).release({ version: 'v1.0', report: TEAMS, period: 'D30' }, { policyName: 'p', plan }, 'v1', 'a'), { code: 'Unavailable' });
  t.equal(snapshots.held, 0, 'no lease kept');
});

t.test('reports that fail while the directory is read fail with their own error, and the directory\'s later failure is no unhandled rejection', async (t) => {
  const { snapshots, directory } = await setting(t, { reports: new UpstreamError('Throttled', 'too many requests', 429, 30), directory: new UpstreamError('Unavailable', 'Graph is down') });
  const unhandled: unknown[] = [];
  const note = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', note);
  t.teardown(() => process.off('unhandledRejection', note));
  await t.rejects(new OrgScores({ snapshots, directory }).compute({ period: 'D30' }, GRANT, 'a'), { code: 'Throttled' });
  const plan = planCohorts(TEAMS, { cohort: { by: ['organization', 'department'], metrics: {} } }, 10, 5);
  await t.rejects(new CohortReleases(snapshots, directory).release({ version: 'v1.0', report: TEAMS, period: 'D30' }, { policyName: 'p', plan }, 'v1', 'a'), { code: 'Throttled' });
  // Let the directory's failures settle.
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.same(unhandled, [], 'no unhandled rejection');
});
