/** Red-team helpers: a tenant's raw CSVs from the simulator, rewritten, then served by the Graph double. */
import { parse } from 'csv-parse/sync';
import { quoteCsvField } from '../../src/catalogue/csv.js';
import { startSimulator } from '../../src/simulator/server.js';
import { SCORE_SOURCE_REPORTS } from '../../src/score/score-facts.js';
import { bearer, fetchCsv } from '../helpers/graph-client.js';

/** Score source reports (v1.0, D30) of a small simulated tenant, as raw CSV strings, and its /users answer. */
export async function simulatedReports(users: number, names: string[] = SCORE_SOURCE_REPORTS.map((r) => r.name)): Promise<{ csv: Record<string, string>; directory: unknown }> {
  const sim = await startSimulator({ seed: 7, users, enforceGraphLimits: false, concealedNames: false });
  try {
    const headers = await bearer(sim);
    const csv: Record<string, string> = {};
    for (const name of names) csv[name] = await fetchCsv(sim, `/v1.0/reports/${name}(period='D30')`, headers);
    const res = await fetch(`${sim.graphUrl}/v1.0/users?$select=userPrincipalName,department,officeLocation,city,country,companyName,jobTitle&$top=999`, { headers });
    return { csv, directory: await res.json() };
  } finally {
    await sim.close();
  }
}

/** Rewrites one column of a CSV (with BOM) row by row. */
export function rewriteColumn(text: string, header: string, value: (old: string, row: number) => string): Buffer {
  const bom = text.startsWith('\uFEFF');
  const records = parse(bom ? text.slice(1) : text) as string[][];
  const [head, ...rows] = records;
  const i = head!.indexOf(header);
  if (i === -1) throw new Error(`no column ${header}`);
  const out = [head!, ...rows.map((r, n) => r.map((f, j) => (j === i ? value(f, n) : f)))];
  return Buffer.from(`${bom ? '\uFEFF' : ''}${out.map((r) => r.map(quoteCsvField).join(',')).join('\r\n')}\r\n`, 'utf8');
}

/** Rows of a CSV (with BOM) as records. */
export function records(text: string): Record<string, string>[] {
  return parse(text.startsWith('\uFEFF') ? text.slice(1) : text, { columns: true }) as Record<string, string>[];
}
