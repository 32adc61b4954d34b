/** The org score's source reports of a simulated tenant with the rows its join must handle (score tests). */
import type { Test } from 'tap';
import { UTF8_BOM } from '../../src/catalogue/csv.js';
import type { LeasedSnapshot, SnapshotSource } from '../../src/cohort/sources.js';
import { GraphClient } from '../../src/graph/client.js';
import type { SnapshotCache } from '../../src/graph/snapshots.js';
import { EntraTokens } from '../../src/graph/token.js';
import { startSimulator } from '../../src/simulator/server.js';
import { SCORE_SOURCE_REPORTS } from '../../src/score/score-facts.js';
import { ReportRenderer } from '../../src/simulator/render.js';
import { LAST_DAY, reportSource } from '../../src/simulator/reports.js';
import { SimulatedTenant } from '../../src/simulator/tenant.js';

/**
 * The score's reports of a simulated tenant (D30), each with rows added that the join must handle: a row of
 * Graph's `(Unknown)`, a concealed-name row, and the first user's row again under an upper-cased UPN with the
 * second user's facts (the same person twice: facts are joined, the person counted once).
 */
export function fixtureReports(tenant: SimulatedTenant): Map<string, Buffer> {
  return new Map(SCORE_SOURCE_REPORTS.map((report) => {
    const rows = reportSource(tenant, report, { firstDay: LAST_DAY - 29, lastDay: LAST_DAY, periodDays: 30 });
    const render = new ReportRenderer(tenant, report, { concealed: false });
    const header = render.csvHeader('\r\n');
    const upn = header.split(',').indexOf('User Principal Name');
    const lines = Array.from({ length: rows.count }, (_, i) => render.csvLines(rows.item(i), '\r\n'));
    const withUpn = (line: string, name: string) => line.split(',').map((cell, i) => (i === upn ? name : cell)).join(',');
    const first = lines[0]!.split(',')[upn]!;
    lines.push(withUpn(lines[1]!, '(Unknown)'), withUpn(lines[2]!, '0123456789ABCDEF0123456789ABCDEF'), withUpn(lines[1]!, first.toUpperCase()));
    return [report.name, Buffer.from(UTF8_BOM + header + lines.join(''))] as const;
  }));
}

export async function* chunked(bytes: Buffer): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += 4096) yield bytes.subarray(at, at + 4096);
}

/** The refresh date of the golden's tenant: the simulator's activity follows the calendar (weekends), so a tenant refreshed relative to today gives other rows every day. */
export const SCORE_FIXTURE_REFRESH_DATE = '2026-11-29';
/** The golden's tenant: 300 users, seed 7, refreshed on SCORE_FIXTURE_REFRESH_DATE. */
export const scoreFixtureTenant = () => new SimulatedTenant({ users: 300, seed: 7, refreshDate: SCORE_FIXTURE_REFRESH_DATE });
/**
 * SHA-256 of the score rows released from fixtureReports of scoreFixtureTenant by department and office (k_org 10,
 * k_c 5): what the score released before facts were made in one pass (src/score/score-facts.ts at 325bcdf).
 */
export const SCORE_FIXTURE_GOLDEN = '976229d24cce74b6e35af7acabbbeab302091867839a2ba26f65b6e6362974bc';

/** A Graph client of the simulator's 300-user tenant (seed 7, clear names, no Graph limits), stopped at the end of `t`. */
export async function scoreTenantGraph(t: Test): Promise<GraphClient> {
  const sim = await startSimulator({ users: 300, seed: 7, concealedNames: false, enforceGraphLimits: false });
  t.teardown(() => sim.close());
  return new GraphClient({
    graphUrl: sim.graphUrl, downloadHosts: [`${sim.downloadUrl}/data/`],
    tokens: new EntraTokens({ credential: { kind: 'secret', tokenUrl: sim.entraTokenUrl, clientId: sim.clientId, clientSecret: sim.clientSecret }, authorityCa: sim.authorityCa }),
  });
}

/**
 * The cache's snapshots as the score leases them (one object per snapshot, with its summary and digest),
 * counting reads of their CSV in `reads`.
 */
export function countingReads(cache: SnapshotCache): SnapshotSource & { reads: number } {
  const wrapped = new Map<object, LeasedSnapshot>();
  const source = {
    reads: 0, stats: cache.stats,
    async lease(...args: Parameters<SnapshotSource['lease']>): Promise<LeasedSnapshot> {
      const snapshot = await cache.lease(...args);
      let lease = wrapped.get(snapshot);
      if (lease === undefined) {
        lease = { csv: () => (source.reads++, snapshot.csv()), release: () => snapshot.release(), takeSummary: () => snapshot.takeSummary(), digest: snapshot.digest };
        wrapped.set(snapshot, lease);
      }
      return lease;
    },
  };
  return source;
}
