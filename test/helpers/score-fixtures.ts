/** The org score's source reports of a simulated tenant with the rows its join must handle (score tests). */
import { UTF8_BOM } from '../../src/catalogue/csv.js';
import { SCORE_SOURCE_REPORTS } from '../../src/score/score-facts.js';
import { ReportRenderer } from '../../src/simulator/render.js';
import { LAST_DAY, reportSource } from '../../src/simulator/reports.js';
import type { SimulatedTenant } from '../../src/simulator/tenant.js';

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

/**
 * SHA-256 of the score rows released from fixtureReports of a 300-user tenant (seed 7) by department and office
 * (k_org 10, k_c 5): what the score released before facts were made in one pass (src/score/score-facts.ts at 325bcdf).
 */
export const SCORE_FIXTURE_GOLDEN = '976229d24cce74b6e35af7acabbbeab302091867839a2ba26f65b6e6362974bc';
