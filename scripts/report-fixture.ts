/**
 * Writes one simulated report to stdout, as Graph would send it: CSV (with BOM, CRLF) or one JSON page
 * `{ "value": [...] }` with every item. For `policy test` inputs. Fixed refresh date, so output is stable.
 * Run: node --import tsx scripts/report-fixture.ts <report> <days> <csv|json> [users] [seed]
 *      node --import tsx scripts/report-fixture.ts directory <users> [seed]   (the /users page, for cohort cases)
 */
import { findReport } from '../src/catalogue/catalogue.js';
import { UTF8_BOM } from '../src/catalogue/csv.js';
import { ReportRenderer } from '../src/simulator/render.js';
import { LAST_DAY, reportSource } from '../src/simulator/reports.js';
import { SimulatedTenant } from '../src/simulator/tenant.js';

if (process.argv[2] === 'directory') {
  const size = Number(process.argv[3] ?? 60);
  const tenant = new SimulatedTenant({ seed: process.argv[4] ?? 'policy-tests', users: size, refreshDate: '2026-11-20' });
  const value = [];
  for (let i = 0; i < size; i++) {
    const u = tenant.user(i);
    if (u.deletedDay !== null) continue; // deleted users leave the directory, as in Graph
    value.push({ userPrincipalName: u.userPrincipalName, department: u.department, officeLocation: u.officeLocation, country: u.country, city: u.city, companyName: u.companyName, jobTitle: u.jobTitle });
  }
  process.stdout.write(`${JSON.stringify({ value }, null, 2)}\n`);
  process.exit(0);
}
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
