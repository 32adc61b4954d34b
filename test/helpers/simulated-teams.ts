/**
 * The simulated tenant's Teams user activity report (D30, as CSV with its BOM) and its directory as the proxy
 * reads it (leavers stay in the report but leave the directory), for tests that aggregate real report text.
 */
import { findReport, type ReportSpec } from '../../src/catalogue/catalogue.js';
import { UTF8_BOM } from '../../src/catalogue/csv.js';
import { Directory } from '../../src/cohort/directory.js';
import { ReportRenderer } from '../../src/simulator/render.js';
import { LAST_DAY, reportSource } from '../../src/simulator/reports.js';
import { SimulatedTenant } from '../../src/simulator/tenant.js';

export function simulatedTeamsReport(seed: string, users: number): { spec: ReportSpec; csv: string; directory: Directory } {
  const spec = findReport('getTeamsUserActivityUserDetail')!;
  const tenant = new SimulatedTenant({ seed, users });
  const renderer = new ReportRenderer(tenant, spec, { concealed: false });
  const source = reportSource(tenant, spec, { firstDay: LAST_DAY - 29, lastDay: LAST_DAY, periodDays: 30 });
  let csv = UTF8_BOM + renderer.csvHeader('\r\n');
  for (let i = 0; i < source.count; i++) csv += renderer.csvLines(source.item(i), '\r\n');
  const present = Array.from({ length: tenant.size }, (_, i) => tenant.user(i)).filter((u) => u.deletedDay === null);
  const directory = new Directory(present.map((u) => ({ userPrincipalName: u.userPrincipalName, department: u.department, officeLocation: u.officeLocation })));
  return { spec, csv, directory };
}
