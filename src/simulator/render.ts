/**
 * Turning simulated report items into Graph's wire formats: CSV lines (one per nested element) and JSON
 * items, with identifiers concealed when the tenant's concealed-names setting is on.
 */
import { columnsFor, type ColumnSpec, type ReportSpec } from '../catalogue/catalogue.js';
import { csvLine } from '../catalogue/csv.js';
import { toCsvText, toJsonValue, type CellValue, type ReportItem, type ReportRow } from '../catalogue/values.js';
import { hashString } from './random.js';
import type { SimulatedTenant } from './tenant.js';

const ZERO_GUID = '00000000-0000-0000-0000-000000000000';

export interface RenderOptions {
  readonly concealed: boolean;
  /** Fault switch: an extra column Graph might add tomorrow. */
  readonly extraColumn?: boolean;
  /**
   * Fault switch: about one user in `every` is written with Graph's `(Unknown)` placeholder as User Principal
   * Name (and an empty Display Name) in every per-user report, as real tenants show for several users at once.
   */
  readonly unknownNames?: { readonly every: number };
}

/** A request's render options: its concealment and whichever render fault switches are thrown now. */
export function renderOptions(concealed: boolean, faults: Omit<RenderOptions, 'concealed'>): RenderOptions {
  return { concealed, extraColumn: faults.extraColumn === true, ...(faults.unknownNames !== undefined ? { unknownNames: faults.unknownNames } : {}) };
}

/** Graph's placeholder for a user it cannot name. */
export const UNKNOWN_NAME = '(Unknown)';

export const EXTRA_COLUMN: ColumnSpec = { header: 'Unexpected Column', json: 'unexpectedColumn', role: 'identifier', kind: 'text' };

function concealValue(tenant: SimulatedTenant, column: ColumnSpec, value: CellValue): CellValue {
  if (column.conceal === undefined || value === null || typeof value !== 'string') return value;
  return column.conceal.as === 'zeroGuid' ? ZERO_GUID : tenant.conceal(column.conceal.namespace, value);
}

/** The flat rows (one per CSV line) of one item: top-level columns joined with each nested element. */
export function flattenItem(spec: ReportSpec, item: ReportItem): ReportRow[] {
  if (spec.nestedProperty === undefined) return [item as ReportRow];
  const nested = (item[spec.nestedProperty] ?? []) as readonly ReportRow[];
  const top = { ...item } as Record<string, unknown>;
  delete top[spec.nestedProperty];
  return nested.map((n) => ({ ...(top as ReportRow), ...n }));
}

export class ReportRenderer {
  private readonly csvColumns: readonly ColumnSpec[];
  private readonly jsonColumns: readonly ColumnSpec[];

  constructor(
    private readonly tenant: SimulatedTenant,
    private readonly spec: ReportSpec,
    private readonly options: RenderOptions,
  ) {
    const extra = options.extraColumn === true ? [EXTRA_COLUMN] : [];
    this.csvColumns = [...columnsFor(spec, 'csv'), ...extra];
    this.jsonColumns = [...columnsFor(spec, 'json'), ...extra];
  }

  /** Whether the unknownNames fault writes this row's user as `(Unknown)`: the same users in every report. */
  private unnamed(row: ReportRow): boolean {
    const every = this.options.unknownNames?.every;
    const upn = row.userPrincipalName ?? row.ownerPrincipalName;
    return every !== undefined && this.spec.entity === 'user' && typeof upn === 'string' && hashString(upn) % every === 0;
  }

  private cell(column: ColumnSpec, row: ReportRow): CellValue {
    if (column === EXTRA_COLUMN) return `extra-${this.tenant.canaryMarker ?? 'value'}`;
    if (column.conceal?.as === 'hex' && (column.conceal.namespace === 'upn' || column.conceal.namespace === 'displayName') && this.unnamed(row)) {
      return column.conceal.namespace === 'upn' ? UNKNOWN_NAME : null;
    }
    const value = row[column.json] ?? null;
    return this.options.concealed ? concealValue(this.tenant, column, value) : value;
  }

  csvHeader(lineEnding: string): string {
    return csvLine(this.csvColumns.map((c) => c.header), lineEnding);
  }

  csvLines(item: ReportItem, lineEnding: string): string {
    let out = '';
    for (const row of flattenItem(this.spec, item)) {
      out += csvLine(this.csvColumns.map((c) => toCsvText(c, this.cell(c, row))), lineEnding);
    }
    return out;
  }

  jsonItem(item: ReportItem): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const nestedColumns: ColumnSpec[] = [];
    for (const column of this.jsonColumns) {
      if (column.nested === true) nestedColumns.push(column);
      else out[column.json] = toJsonValue(column, this.cell(column, item as ReportRow));
    }
    if (this.spec.nestedProperty !== undefined) {
      const nested = (item[this.spec.nestedProperty] ?? []) as readonly ReportRow[];
      out[this.spec.nestedProperty] = nested.map((n) =>
        Object.fromEntries(nestedColumns.map((c) => [c.json, toJsonValue(c, this.cell(c, n))])),
      );
    }
    return out;
  }
}
