/**
 * The data the policy tooling (release lint, `policy preview`) measures against when it has no proxy
 * snapshots: reports of the simulated tenant, rendered in process exactly as the simulator serves them (CSV
 * with BOM and CRLF, names not concealed, as the proxy sees Graph when cohorts need the directory).
 */
import { findReport, type Period, type ReportSpec } from '../catalogue/catalogue.js';
import { UTF8_BOM } from '../catalogue/csv.js';
import { periodDays } from '../catalogue/odata.js';
import type { DirectoryEntry } from '../cohort/directory.js';
import { InternalInvariantError } from '../errors/catalogue.js';
import { ReportRenderer } from '../simulator/render.js';
import { LAST_DAY, reportSource } from '../simulator/reports.js';
import { SimulatedTenant } from '../simulator/tenant.js';

/** Where the sample comes from: a simulated tenant of `users` people from `seed` (the demo's defaults). */
export interface SampleOptions {
  readonly users?: number;
  readonly seed?: number | string;
  /** YYYY-MM-DD; fixed by default so figures printed by the tooling are reproducible. */
  readonly refreshDate?: string;
}

/** Reports of one simulated tenant, rendered on demand and kept (a preview asks for each a few times). */
export class SampleReports {
  readonly tenant: SimulatedTenant;
  private readonly csvs = new Map<string, Buffer>();

  constructor(readonly options: SampleOptions = {}) {
    this.tenant = new SimulatedTenant({ seed: options.seed ?? 1, users: options.users ?? 250, refreshDate: options.refreshDate ?? '2026-11-20' });
  }

  /** The report's CSV as Graph sends it for a period (reports without parameters ignore it). */
  csv(report: ReportSpec | string, period: Period = 'D30'): Buffer {
    const spec = typeof report === 'string' ? findReport(report) : report;
    if (spec === undefined) throw new InternalInvariantError(`unknown report '${String(report)}'`);
    const key = `${spec.name} ${period}`;
    const known = this.csvs.get(key);
    if (known !== undefined) return known;
    const days = periodDays(period);
    const source = reportSource(this.tenant, spec, { firstDay: LAST_DAY - days + 1, lastDay: LAST_DAY, periodDays: days });
    const renderer = new ReportRenderer(this.tenant, spec, { concealed: false });
    const parts = [UTF8_BOM + renderer.csvHeader('\r\n')];
    for (let i = 0; i < source.count; i++) parts.push(renderer.csvLines(source.item(i), '\r\n'));
    const bytes = Buffer.from(parts.join(''), 'utf8');
    this.csvs.set(key, bytes);
    return bytes;
  }

  /** The directory (Graph /users) of the tenant: deleted users are not in it, as in Graph. */
  directory(): DirectoryEntry[] {
    const value: DirectoryEntry[] = [];
    for (let i = 0; i < this.tenant.size; i++) {
      const u = this.tenant.user(i);
      if (u.deletedDay !== null) continue;
      value.push({ userPrincipalName: u.userPrincipalName, department: u.department, officeLocation: u.officeLocation, country: u.country, city: u.city, companyName: u.companyName, jobTitle: u.jobTitle });
    }
    return value;
  }
}
