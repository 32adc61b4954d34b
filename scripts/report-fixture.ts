/**
 * Writes one simulated report to stdout, as Graph would send it: CSV (with BOM, CRLF) or one JSON page
 * `{ "value": [...] }` with every item. For `policy test` inputs. Fixed refresh date, so output is stable.
 * Run: node --import tsx scripts/report-fixture.ts <report> <days> <csv|json> [users] [seed]
 */
import { findReport } from '../src/graph/catalogue.js';
import { UTF8_BOM } from '../src/graph/csv.js';
import { ReportRenderer } from '../src/simulator/render.js';
import { LAST_DAY, reportSource } from '../src/simulator/reports.js';
import { SimulatedTenant } from '../src/simulator/tenant.js';

const [name = '', daysText = '30', format = 'csv', users = '60', seed = 'policy-tests'] = process.argv.slice(2);
const spec = findReport(name);
if (spec === undefined || (format !== 'csv' && format !== 'json')) {
  process.stderr.write('Usage: report-fixture.ts <report> <days> <csv|json> [users] [seed]\n');
  process.exit(2);
}
const days = Number(daysText);
const tenant = new SimulatedTenant({ seed, users: Number(users), refreshDate: '2026-11-20' });
const source = reportSource(tenant, spec, { firstDay: LAST_DAY - days + 1, lastDay: LAST_DAY, periodDays: days });
const renderer = new ReportRenderer(tenant, spec, { concealed: false });
if (format === 'csv') {
  let out = UTF8_BOM + renderer.csvHeader('\r\n');
  for (let i = 0; i < source.count; i++) out += renderer.csvLines(source.item(i), '\r\n');
  process.stdout.write(out);
} else {
  const value = Array.from({ length: source.count }, (_, i) => renderer.jsonItem(source.item(i)));
  process.stdout.write(`${JSON.stringify({ value }, null, 2)}\n`);
}
