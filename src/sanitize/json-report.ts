/**
 * Sanitising Graph's JSON report items with the same plan as CSV: released properties only (nested arrays
 * such as `details[]` filtered the same way), values transformed per column, quasi-identifier combinations
 * counted per flattened row (one per CSV line), so CSV and JSON release the same rows.
 */
import { columnsFor } from '../catalogue/catalogue.js';
import { MissingColumnError, SanitizeError } from './errors.js';
import { releasedFor, type ReleasedColumn, type RowsPlan } from './plan.js';
import { smallCountsToEmpty } from './small-counts.js';
import { emptyStats, QuasiClasses, quasiKey, type SanitizeStats } from './stats.js';
import { InternalInvariantError } from '../errors/catalogue.js';

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The items of one Graph JSON page (`{ value: [...] }`); anything else is refused. */
export function pageItems(page: unknown): JsonObject[] {
  if (!isObject(page) || !Array.isArray(page.value)) throw new SanitizeError('MalformedJson', 'the upstream page is not a JSON object with a value array');
  for (const item of page.value) if (!isObject(item)) throw new SanitizeError('MalformedJson', 'an upstream item is not a JSON object');
  return page.value as JsonObject[];
}

/** A rows plan applied to JSON items; one instance serves one response (it accumulates stats). */
export class JsonItemSanitizer {
  private readonly top: ReleasedColumn[];
  private readonly nested: ReleasedColumn[];
  private readonly nestedProperty: string | undefined;
  private readonly known: Set<string>;
  private readonly knownNested: Set<string>;
  private readonly unknownNames = new Set<string>();

  constructor(
    private readonly plan: RowsPlan,
    private readonly stats: SanitizeStats,
    /** Combination counts from a first pass over every item; required when the plan has quasi-identifiers. */
    private readonly classes?: QuasiClasses,
  ) {
    const released = releasedFor(plan, 'json');
    this.top = released.filter((r) => r.column.nested !== true);
    this.nested = released.filter((r) => r.column.nested === true);
    this.nestedProperty = plan.report.nestedProperty;
    const columns = columnsFor(plan.report, 'json');
    this.known = new Set(columns.filter((c) => c.nested !== true).map((c) => c.json));
    if (this.nestedProperty !== undefined) this.known.add(this.nestedProperty);
    this.knownNested = new Set(columns.filter((c) => c.nested === true).map((c) => c.json));
    if (plan.hasQuasi && classes === undefined) throw new InternalInvariantError('quasi-identifier counts are needed before items can be released');
    stats.columnsDropped = columns.length - released.length;
  }

  /** Adds the items' quasi-identifier combinations to `classes` (the first pass). */
  static count(plan: RowsPlan, items: readonly JsonObject[], classes: QuasiClasses): void {
    const counter = new JsonItemSanitizer(plan, emptyStats(), classes);
    for (const item of items) for (const key of counter.rowKeys(item)) if (key !== undefined) classes.add(key);
  }

  /** Counts a whole report given in batches of items (the first pass), without holding it all at once. */
  static async countAll(plan: RowsPlan, batches: AsyncIterable<readonly JsonObject[]>): Promise<QuasiClasses> {
    const classes = new QuasiClasses(plan.k);
    for await (const items of batches) JsonItemSanitizer.count(plan, items, classes);
    return classes;
  }

  /** The released form of each item, or nothing for items whose rows were all suppressed. */
  sanitize(items: readonly JsonObject[]): JsonObject[] {
    return this.sanitizeEach(items, () => {});
  }

  /** As `sanitize`, also handing each released item to `each` beside the upstream item it came from. */
  sanitizeEach(items: readonly JsonObject[], each: (released: JsonObject, upstream: JsonObject) => void): JsonObject[] {
    const out: JsonObject[] = [];
    for (const item of items) {
      const released = this.sanitizeItem(item);
      if (released === undefined) continue;
      out.push(released);
      each(released, item);
    }
    this.stats.unknownColumns = this.unknownNames.size;
    return out;
  }

  private value(item: JsonObject, r: ReleasedColumn): unknown {
    if (!(r.column.json in item)) throw new MissingColumnError(this.plan.report.name, r.column.json, 'the policy');
    return r.json(item[r.column.json]);
  }

  private nestedRows(item: JsonObject): JsonObject[] | undefined {
    if (this.nestedProperty === undefined) return undefined;
    const rows = item[this.nestedProperty];
    if (!Array.isArray(rows) || !rows.every(isObject)) {
      throw new SanitizeError('MalformedJson', `an upstream item's '${this.nestedProperty}' is not an array of objects`);
    }
    return rows as JsonObject[];
  }

  /** Whether a team/group row (the item, or one nested element) counts at least k people. */
  private enoughPeople(row: JsonObject): boolean {
    const people = this.plan.peopleColumn;
    if (people === undefined) return true;
    const value = row[people.json];
    return typeof value === 'number' && value >= this.plan.k;
  }

  /** One quasi key per flattened row (per nested element, or the item itself); undefined for withheld rows. */
  private rowKeys(item: JsonObject): (string | undefined)[] {
    const topQuasi = this.top.filter((r) => r.quasi).map((r) => String(this.value(item, r)));
    const nested = this.nestedRows(item);
    const peopleNested = this.plan.peopleColumn?.nested === true;
    if (nested === undefined) return [peopleNested || this.enoughPeople(item) ? quasiKey(topQuasi) : undefined];
    if (!peopleNested && !this.enoughPeople(item)) return nested.map(() => undefined);
    const nestedQuasi = this.nested.filter((r) => r.quasi);
    return nested.map((row) => (peopleNested && !this.enoughPeople(row) ? undefined : quasiKey([...topQuasi, ...nestedQuasi.map((r) => String(this.value(row, r)))])));
  }

  /** Empties small counts (counts reports) in a released item, reading the upstream values. */
  private emptySmallCounts(item: JsonObject, out: JsonObject): void {
    const rule = this.plan.smallCounts;
    if (rule === undefined) return;
    for (const column of smallCountsToEmpty(rule, (c) => (typeof item[c.json] === 'number' ? (item[c.json] as number) : null))) {
      if (column.json in out && out[column.json] !== null) {
        out[column.json] = null;
        this.stats.cellsSuppressed++;
      }
    }
  }

  private sanitizeItem(item: JsonObject): JsonObject | undefined {
    for (const name of Object.keys(item)) if (!this.known.has(name)) this.unknownNames.add(name);
    const nested = this.nestedRows(item);
    const rowCount = nested?.length ?? 1;
    this.stats.rowsIn += rowCount;
    const peopleNested = this.plan.peopleColumn?.nested === true;
    if (!peopleNested && !this.enoughPeople(item)) {
      this.stats.rowsSuppressed += rowCount;
      return undefined;
    }
    const out: JsonObject = {};
    for (const r of this.top) {
      out[r.column.json] = this.value(item, r);
      if (r.action === 'pseudonymize' && out[r.column.json] === null && typeof item[r.column.json] === 'string' && item[r.column.json] !== '') this.stats.pseudonymsWithheld++;
    }
    this.emptySmallCounts(item, out);
    const keys = this.classes !== undefined ? this.rowKeys(item) : undefined;
    if (nested === undefined) {
      if (keys !== undefined && !this.classes!.releases(keys[0]!)) {
        this.stats.rowsSuppressed++;
        return undefined;
      }
      this.stats.rowsOut++;
      return out;
    }
    const rows: JsonObject[] = [];
    nested.forEach((row, i) => {
      for (const name of Object.keys(row)) if (!this.knownNested.has(name)) this.unknownNames.add(`${this.nestedProperty}/${name}`);
      if ((peopleNested && !this.enoughPeople(row)) || (keys !== undefined && !this.classes!.releases(keys[i]!))) {
        this.stats.rowsSuppressed++;
        return;
      }
      const released: JsonObject = {};
      for (const r of this.nested) released[r.column.json] = this.value(row, r);
      rows.push(released);
    });
    if (rows.length === 0 && rowCount > 0) return undefined;
    this.stats.rowsOut += rows.length;
    if (this.nested.length > 0) out[this.nestedProperty!] = rows;
    return out;
  }
}
