/**
 * The directory join: each user's attributes (department, office, ...) from Graph `/users`, keyed by the
 * canonical UPN. The cohort key sets come from here, never from the report (G8): a department exists as a
 * cohort because the directory has it, whether 0, 3 or 300 of its people appear in a report.
 */
import { createHash } from 'node:crypto';
import { IdentifierMap } from '../event-loop/identifier-map.js';
import { grownToHold, NumberColumn, StringColumn } from '../event-loop/columns.js';
import { ProductError } from '../errors/catalogue.js';
import { canonicalIdentifier } from '../sanitize/pseudonyms.js';

export const DIRECTORY_ATTRIBUTES = ['department', 'officeLocation', 'country', 'city', 'companyName', 'jobTitle'] as const;
export type DirectoryAttribute = (typeof DIRECTORY_ATTRIBUTES)[number];

/** The label of users whose directory entry leaves the attribute empty. */
export const NO_VALUE = '(none)';
/** The label of report rows whose user is not in the directory (deleted users, guests). */
export const NOT_IN_DIRECTORY = '(not in directory)';

export type DirectoryEntry = Partial<Record<DirectoryAttribute | 'userPrincipalName', unknown>>;

/**
 * Canonical UPNs by number (score/score-facts.ts PersonIndex.upns): it may grow, and never gives a number to
 * another name (Directory.entryAt relies on it).
 */
export interface NumberedNames {
  readonly length: number;
  at(id: number): string | undefined;
}

export class Directory {
  /** Distinct attribute tuples (few: departments x offices x ...), and each user's tuple by index. */
  private readonly tuples: (readonly string[])[] = [];
  /** Each tuple's index, found through one Map per attribute keyed by its shared values (no key string per user). */
  private readonly tupleTree: TupleTree = new Map();
  /** Per attribute (DIRECTORY_ATTRIBUTES order), each spelling met (untrimmed, '' for a missing value) and its shared value. */
  private readonly spellings = DIRECTORY_ATTRIBUTES.map(() => new Map<string, string>());
  /**
   * Each user's entry (its place in `entryUpns`) by canonical UPN (an IdentifierMap: grows without one long pause
   * at tenant scale); a UPN listed twice is the later entry's.
   */
  private readonly byUpn = new IdentifierMap<number>();
  /** Each entry's canonical UPN, in the order the entries came (one string with byUpn's key). */
  private readonly entryUpns = new StringColumn();
  /** Each entry's tuple (its index in `tuples`), in the same order. */
  private readonly entryTuples = new NumberColumn('int32');
  /** Per attribute, its values, each kept as one string that every tuple shares (lookups by it compare pointers). */
  private readonly domains = new Map<DirectoryAttribute, Map<string, string>>(DIRECTORY_ATTRIBUTES.map((a) => [a, new Map([[NOT_IN_DIRECTORY, NOT_IN_DIRECTORY]])]));
  /**
   * Per numbering of names (entryAt): each number's entry as found (0 not yet looked up, 1 not in the directory,
   * t + 2 the tuple t), and the place in `entryUpns` of the last name found. Started again when entries are added.
   */
  private numbered = new WeakMap<NumberedNames, { found: Int32Array; last: number }>();

  constructor(entries: Iterable<DirectoryEntry>) {
    this.addEntries(entries);
  }

  /**
   * A directory read page by page (Graph's `/users` pages of 999), each page added as it arrives: building a
   * large tenant's directory never holds the event loop for long. The same directory as `new Directory` of all.
   */
  static async fromPages(pages: AsyncIterable<Iterable<DirectoryEntry>>): Promise<Directory> {
    const directory = new Directory([]);
    for await (const page of pages) directory.addEntries(page);
    return directory;
  }

  private addEntries(entries: Iterable<DirectoryEntry>): void {
    this.codings.clear();
    this.held.clear();
    this.numbered = new WeakMap();
    const last = DIRECTORY_ATTRIBUTES.length - 1;
    for (const entry of entries) {
      if (typeof entry.userPrincipalName !== 'string') continue;
      let level = this.tupleTree;
      let index: number | undefined;
      for (let a = 0; a <= last; a++) {
        const raw = entry[DIRECTORY_ATTRIBUTES[a]!];
        const value = this.sharedValue(a, typeof raw === 'string' ? raw : '');
        const next = level.get(value);
        if (a < last) {
          if (next === undefined) level.set(value, (level = new Map()));
          else level = next as TupleTree;
        } else if (next === undefined) {
          index = this.tuples.length;
          this.tuples.push(this.tupleAt(entry));
          level.set(value, index);
        } else {
          index = next as number;
        }
      }
      const upn = canonicalIdentifier(entry.userPrincipalName);
      this.byUpn.set(upn, this.entryUpns.length);
      this.entryUpns.push(upn);
      this.entryTuples.push(index!);
    }
  }

  /** An attribute's value as the directory holds it (trimmed, NO_VALUE when empty), one string per value. */
  private sharedValue(attribute: number, spelling: string): string {
    const known = this.spellings[attribute]!.get(spelling);
    if (known !== undefined) return known;
    const value = spelling.trim() !== '' ? spelling.trim() : NO_VALUE;
    const domain = this.domains.get(DIRECTORY_ATTRIBUTES[attribute]!)!;
    let shared = domain.get(value);
    if (shared === undefined) domain.set(value, (shared = value));
    this.spellings[attribute]!.set(spelling, shared);
    return shared;
  }

  /** A new tuple's values, read again from its first entry (sharedValue knows every spelling by now). */
  private tupleAt(entry: DirectoryEntry): readonly string[] {
    return DIRECTORY_ATTRIBUTES.map((attribute, a) => {
      const raw = entry[attribute];
      return this.sharedValue(a, typeof raw === 'string' ? raw : '');
    });
  }

  get size(): number {
    return this.byUpn.size;
  }

  /** A user's value of an attribute; NOT_IN_DIRECTORY for a user the directory does not have. */
  valueOf(upn: string, attribute: DirectoryAttribute): string {
    return this.entryOf(upn)?.[DIRECTORY_ATTRIBUTES.indexOf(attribute)] ?? NOT_IN_DIRECTORY;
  }

  /** A user's attribute values in DIRECTORY_ATTRIBUTES order (one lookup for all), or undefined. */
  entryOf(upn: string): readonly string[] | undefined {
    const index = this.tupleOf(upn);
    return index === undefined ? undefined : this.tuples[index];
  }

  /** A user's tuple (its index in `tuples`), or undefined. */
  private tupleOf(upn: string): number | undefined {
    const place = this.placeOf(upn);
    return place === undefined ? undefined : this.entryTuples.at(place);
  }

  /** A user's entry (its place in `entryUpns`), or undefined. */
  private placeOf(upn: string): number | undefined {
    // Graph's UPNs are usually canonical already: try them as they are before trimming and lower-casing.
    return this.byUpn.get(upn) ?? this.byUpn.get(canonicalIdentifier(upn));
  }

  /**
   * The entry of the person `names` numbers `id` (as entryOf gives it), looked up by name once per numbering:
   * the score's tables and the Teams organisation table it is suppressed with join the same people by their
   * numbers, where each looked every name up (300,000 lookups by name each at tenant scale; issue 18).
   * Where the names come in the directory's order (asked for by number in turn, as the tables do), each is
   * compared with the entry after the last one found before it is looked up: at 300,000 users the lookups by
   * name were 0.22 s of the score's last 0.8 s (bench/score-scale.ts profile). A UPN the directory lists twice
   * turns the comparison off (its later entry counts, as for entryOf). Undefined for a number `names` does not have.
   */
  entryAt(names: NumberedNames, id: number): readonly string[] | undefined {
    if (!Number.isInteger(id) || id < 0 || id >= names.length) return undefined;
    let memo = this.numbered.get(names);
    if (memo === undefined) this.numbered.set(names, (memo = { found: new Int32Array(0), last: -1 }));
    const found = (memo.found = grownToHold(memo.found, id, names.length));
    let tuple = found[id]!;
    if (tuple === 0) {
      const name = names.at(id)!;
      const inOrder = this.byUpn.size === this.entryUpns.length && this.entryUpns.at(memo.last + 1) === name;
      const place = inOrder ? memo.last + 1 : this.placeOf(name);
      if (place !== undefined) memo.last = place;
      found[id] = tuple = place === undefined ? 1 : this.entryTuples.at(place)! + 2;
    }
    return tuple === 1 ? undefined : this.tuples[tuple - 2];
  }

  /** Every value the attribute takes in the directory, sorted, with the NO_VALUE and NOT_IN_DIRECTORY labels. */
  domain(attribute: DirectoryAttribute): string[] {
    return [...this.coding(attribute).values];
  }

  /** Per attribute: its values sorted, and each tuple's value as its position there (made on first use). */
  private readonly codings = new Map<DirectoryAttribute, AttributeCoding>();

  private coding(attribute: DirectoryAttribute): AttributeCoding {
    let coding = this.codings.get(attribute);
    if (coding === undefined) {
      const values = [...this.domains.get(attribute)!.keys()].sort();
      const codeOf = new Map(values.map((v, code) => [v, code]));
      const position = DIRECTORY_ATTRIBUTES.indexOf(attribute);
      const ofTuple = new Int32Array(this.tuples.length);
      for (let t = 0; t < this.tuples.length; t++) ofTuple[t] = codeOf.get(this.tuples[t]![position]!)!;
      this.codings.set(attribute, (coding = { values, ofTuple, outside: codeOf.get(NOT_IN_DIRECTORY)! }));
    }
    return coding;
  }

  /**
   * The key set of a cross of several attributes, sorted: every combination of their values (each attribute's
   * domain, from the directory), whether anyone holds it or not, plus the one all-NOT_IN_DIRECTORY combination
   * of people outside the directory (a combination outside the directory in one part only cannot hold anyone).
   * Never only the combinations people hold (G8): which of them are empty would show where a lone person is.
   */
  combinations(attributes: readonly DirectoryAttribute[]): string[][] {
    const domains = attributes.map((a) => this.coding(a).values.filter((v) => v !== NOT_IN_DIRECTORY));
    const keys: string[][] = [];
    // Each domain sorted and walked in order (an odometer): the keys come out in compareKeys order.
    const digits = domains.map(() => 0);
    if (domains.every((d) => d.length > 0)) {
      for (;;) {
        keys.push(digits.map((digit, i) => domains[i]![digit]!));
        let i = digits.length - 1;
        while (i >= 0 && ++digits[i]! === domains[i]!.length) digits[i--] = 0;
        if (i < 0) break;
      }
    }
    const outside = attributes.map(() => NOT_IN_DIRECTORY);
    keys.splice(sortedPosition(keys, outside), 0, outside);
    return keys;
  }

  private readonly held = new Map<string, readonly (readonly string[])[]>();

  /**
   * The combinations of several attributes that someone in the directory holds, sorted, plus the one
   * all-NOT_IN_DIRECTORY combination (report users the directory does not have). What a consumer knows from the
   * directory (privacy.md's threat model): every other combination of `combinations` is a structural zero.
   * Linear in the directory's distinct tuples; kept per attribute list (the caller must not change it).
   */
  heldCombinations(attributes: readonly DirectoryAttribute[]): readonly (readonly string[])[] {
    const name = attributes.join(' ');
    let known = this.held.get(name);
    if (known === undefined) {
      const codings = attributes.map((a) => this.coding(a));
      const outside = attributes.map(() => NOT_IN_DIRECTORY);
      if (codings.reduce((product, c) => product * c.values.length, 1) <= Number.MAX_SAFE_INTEGER) {
        // Each tuple's combination as one number (its values' codes in mixed radix, so ordered as compareKeys
        // orders the keys): sorted, each distinct one decoded once.
        const tuples = this.tuples.length;
        const numbers = new Float64Array(tuples + 1);
        for (const { values, ofTuple, outside: code } of codings) {
          for (let t = 0; t < tuples; t++) numbers[t] = numbers[t]! * values.length + ofTuple[t]!;
          numbers[tuples] = numbers[tuples]! * values.length + code;
        }
        numbers.sort();
        const keys: (readonly string[])[] = [];
        for (let i = 0; i < numbers.length; i++) {
          if (i > 0 && numbers[i] === numbers[i - 1]) continue;
          const key = new Array<string>(codings.length);
          for (let a = codings.length - 1, n = numbers[i]!; a >= 0; a--) {
            const { values } = codings[a]!;
            key[a] = values[n % values.length]!;
            n = Math.floor(n / values.length);
          }
          keys.push(key);
        }
        known = keys;
      } else {
        // A cross too large to number exactly (several attributes of thousands of values each): by text.
        const held = new Map<string, readonly string[]>([[outside.join('\u0000'), outside]]);
        for (let t = 0; t < this.tuples.length; t++) {
          const key = codings.map((c) => c.values[c.ofTuple[t]!]!);
          held.set(key.join('\u0000'), key);
        }
        known = [...held.values()].sort(compareKeys);
      }
      this.held.set(name, known);
    }
    return known;
  }

  private readonly digests = new Map<string, string>();

  /**
   * SHA-256 (hex) of who is in the directory and their values of `attributes` (none: who is in it), by canonical
   * UPN: what the noise of cells grouped by those attributes is bound to (cohort/release.ts noisyMeasureId), so a
   * change of anything else in the directory draws no new noise for them.
   */
  digest(attributes: readonly DirectoryAttribute[]): string {
    const key = attributes.join(' ');
    let known = this.digests.get(key);
    if (known === undefined) {
      const hash = createHash('sha256').update(`${key}\n`);
      const positions = attributes.map((a) => DIRECTORY_ATTRIBUTES.indexOf(a));
      for (const upn of [...this.byUpn.keys()].sort()) {
        const tuple = this.tuples[this.entryTuples.at(this.byUpn.get(upn)!)!]!;
        hash.update(`${upn}\u0000${positions.map((i) => tuple[i]).join('\u0000')}\n`);
      }
      this.digests.set(key, (known = hash.digest('hex')));
    }
    return known;
  }
}

/**
 * What a consumer knows of each person from the directory (privacy.md's threat model), in the shape a cohort
 * layout takes it (aggregate.ts CohortLayout.known): every directory attribute and the combinations held.
 */
export function directoryKnowledge(directory: Directory): { readonly attributes: readonly string[]; held(attributes: readonly string[]): readonly (readonly string[])[] } {
  return { attributes: DIRECTORY_ATTRIBUTES, held: (attributes) => directory.heldCombinations(attributes as DirectoryAttribute[]) };
}

/** Tuples by their values: a Map per attribute, the last one's values giving the tuple's index. */
type TupleTree = Map<string, TupleTree | number>;

/** An attribute's values sorted (codes are positions there), each directory tuple's code, and NOT_IN_DIRECTORY's. */
interface AttributeCoding {
  readonly values: readonly string[];
  readonly ofTuple: Int32Array;
  readonly outside: number;
}

/** Where `key` goes in `keys` (sorted by compareKeys) to keep them sorted: after any equal key. */
function sortedPosition(keys: readonly (readonly string[])[], key: readonly string[]): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareKeys(keys[middle]!, key) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

export function compareKeys(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = a[i]! < b[i]! ? -1 : a[i]! > b[i]! ? 1 : 0;
    if (c !== 0) return c;
  }
  return 0;
}

/**
 * Report rows cannot be joined to the directory. `reason` says what was observed: the tenant's setting says
 * names are concealed, or the setting says they are not but no row of the report names a directory user
 * (Graph applies a changed setting at its next refresh, and writes transient or `(Unknown)` names meanwhile).
 */
export class ConcealedNamesError extends ProductError<'ConcealedNames'> {
  readonly code = 'ConcealedNames';
  constructor(readonly reason: 'setting' | 'noRowMatched' = 'setting') {
    super(
      reason === 'setting'
        ? "The tenant shows concealed names in usage reports (admin/reportSettings displayConcealedNames is true), so report rows cannot be joined to departments or offices. A Microsoft 365 administrator can turn this off under Settings > Org settings > Services > Reports."
        : "No row of this report names a user the directory has, so rows cannot be joined to departments or offices. The tenant's setting says names are not concealed; Graph may still be writing concealed, transient or '(Unknown)' names in reports generated before a change of that setting. Try again after Graph's next daily refresh.",
    );
  }
}
