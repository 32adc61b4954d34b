/** Simulated reports rendered in memory (CSV text and JSON items) for sanitiser tests; no HTTP involved. */
import { findReport, type ReportSpec } from '../../src/catalogue/catalogue.js';
import { UTF8_BOM } from '../../src/catalogue/csv.js';
import { ReportRenderer } from '../../src/simulator/render.js';
import { LAST_DAY, reportSource } from '../../src/simulator/reports.js';
import { SimulatedTenant, type TenantOptions } from '../../src/simulator/tenant.js';

export interface RenderedReport {
  readonly spec: ReportSpec;
  readonly tenant: SimulatedTenant;
  readonly csv: string;
  readonly items: Record<string, unknown>[];
}

export function renderReport(
  reportName: string,
  options: TenantOptions & { days?: number; concealed?: boolean; extraColumn?: boolean } = {},
): RenderedReport {
  const spec = findReport(reportName);
  if (spec === undefined) throw new Error(`no report ${reportName}`);
  const tenant = new SimulatedTenant({ seed: 7, users: 120, refreshDate: '2026-11-20', ...options });
  const days = options.days ?? 30;
  const source = reportSource(tenant, spec, { firstDay: LAST_DAY - days + 1, lastDay: LAST_DAY, periodDays: days });
  const renderer = new ReportRenderer(tenant, spec, { concealed: options.concealed === true, extraColumn: options.extraColumn === true });
  let csv = UTF8_BOM + renderer.csvHeader('\r\n');
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < source.count; i++) {
    csv += renderer.csvLines(source.item(i), '\r\n');
    items.push(renderer.jsonItem(source.item(i)));
  }
  return { spec, tenant, csv, items };
}

/** A CSV text as a stream of byte chunks of the given size (to cross row and character boundaries). */
export async function* chunked(text: string, size = 1000): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

export async function collect(pieces: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const piece of pieces) out += piece;
  return out;
}
