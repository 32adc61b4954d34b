/** A minimal Graph client for tests: token, CSV through the 302, every JSON page; decodes rows by the catalogue. */
import { parse } from 'csv-parse/sync';
import { request } from 'undici';
import { columnsFor, type ReportSpec } from '../../src/catalogue/catalogue.js';
import { fromCsvText, fromJsonValue, type ReportRow } from '../../src/catalogue/values.js';
import type { RunningSimulator } from '../../src/simulator/server.js';

export async function getToken(sim: RunningSimulator, secret = sim.clientSecret): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await request(sim.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials', client_id: sim.clientId, client_secret: secret, scope: 'https://graph.microsoft.com/.default',
    }).toString(),
  });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

export async function bearer(sim: RunningSimulator): Promise<Record<string, string>> {
  const { body } = await getToken(sim);
  return { authorization: `Bearer ${String(body.access_token)}` };
}

export async function getJson(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; body: any }> {
  const res = await request(url, { headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
}

/** Fetches a report's CSV the way a Graph client does: follow the 302 without the Authorization header. */
export async function fetchCsv(sim: RunningSimulator, path: string, headers: Record<string, string>): Promise<string> {
  const csvPath = path.includes('?') ? path : `${path}?$format=text/csv`;
  const first = await request(`${sim.graphUrl}${csvPath}`, { headers });
  await first.body.dump();
  if (first.statusCode !== 302) throw new Error(`expected 302, got ${first.statusCode}`);
  const download = await request(String(first.headers.location));
  if (download.statusCode !== 200) throw new Error(`download answered ${download.statusCode}`);
  // Raw bytes: undici's text() would drop the BOM we want to see.
  return Buffer.from(await download.body.arrayBuffer()).toString('utf8');
}

export function decodeCsv(spec: ReportSpec, text: string): ReportRow[] {
  if (!text.startsWith('\uFEFF')) throw new Error('no BOM');
  const records = parse(text.slice(1), { relax_column_count: false }) as string[][];
  const [header, ...rows] = records;
  const columns = columnsFor(spec, 'csv');
  if (JSON.stringify(header) !== JSON.stringify(columns.map((c) => c.header))) throw new Error('header differs from catalogue');
  return rows.map((r) => Object.fromEntries(columns.map((c, i) => [c.json, fromCsvText(c, r[i]!)])));
}

/** Fetches every JSON page, following @odata.nextLink; returns flat rows (one per nested element). */
export async function fetchJsonRows(
  sim: RunningSimulator, spec: ReportSpec, path: string, headers: Record<string, string>,
): Promise<{ rows: ReportRow[]; pages: number }> {
  const columns = columnsFor(spec, 'json');
  const rows: ReportRow[] = [];
  let url: string | undefined = `${sim.graphUrl}${path}`;
  let pages = 0;
  while (url !== undefined) {
    const page = await getJson(url, headers);
    if (page.status !== 200) throw new Error(`page answered ${page.status}: ${JSON.stringify(page.body)}`);
    pages++;
    for (const item of page.body.value as Record<string, unknown>[]) {
      const top = Object.fromEntries(columns.filter((c) => c.nested !== true).map((c) => [c.json, fromJsonValue(c, item[c.json])]));
      const nested = spec.nestedProperty === undefined ? [{}] : (item[spec.nestedProperty] as Record<string, unknown>[]);
      for (const n of nested) {
        rows.push({ ...top, ...Object.fromEntries(columns.filter((c) => c.nested === true).map((c) => [c.json, fromJsonValue(c, n[c.json])])) });
      }
    }
    url = page.body['@odata.nextLink'];
  }
  return { rows, pages };
}

/** The path of a report call: period form, or no parameters. */
export function reportPath(spec: ReportSpec, version: 'v1.0' | 'beta' = 'beta', argument = "period='D7'"): string {
  return `/${version}${spec.root[version]}/${spec.name}${spec.parameters === 'none' ? '' : `(${argument})`}`;
}
