/**
 * Aggregating users into cohort cells: the organisation, each declared dimension, the marginals a
 * cross-dimension implies, and the cross of the directory attributes the table uses (these two kept hidden when
 * not declared, so the suppression can reason about them). Each user's metric values are clipped to the bound
 * the policy declares (G12), in whole units, before they are summed.
 *
 * The directory's cross is what the consumer knows (privacy.md's threat model: who is in which department and
 * office): a department wholly in one office is that office's cell minus the office's other departments, and a
 * combination nobody holds is known to be empty (a structural zero). Without it the attacker check would treat
 * every cut of the organisation as unrelated and let London - Sales show Legal when Legal sits in London alone.
 */
import { compareKeys } from './directory.js';
import type { CellState, CohortCell, CohortRelation, CohortTable } from './table.js';
import { InternalInvariantError } from '../errors/catalogue.js';

export const ORGANIZATION = 'organization';
const ALL = 'all';

/** A declared dimension: 'organization', one attribute, or several joined by ' x '. */
export interface CohortDimension {
  readonly name: string;
  readonly parts: readonly string[];
}

export function parseDimension(name: string): CohortDimension {
  return { name, parts: name === ORGANIZATION ? [] : name.split(/\s+x\s+/).map((p) => p.trim()) };
}

/** What one user contributes: their value of each attribute a dimension may use, activity and metrics. */
export interface UserContribution {
  readonly attributes: Readonly<Record<string, string>>;
  readonly active: boolean;
  /** Raw per-user values, in the order of the declared metrics (clipped here). */
  readonly metrics: readonly number[];
}

export interface CohortLayout {
  readonly dimensions: readonly CohortDimension[];
  /** The cohort keys of a dimension's parts, from the directory or a fixed domain (never from the report). */
  keySet(parts: readonly string[]): string[][];
  readonly metrics: readonly { readonly name: string; readonly clip: number }[];
  /**
   * A label that names the same people in every single-attribute dimension (those the directory does not have):
   * their cells are tied by equality relations, so suppression treats them as one cell whatever the dimension.
   */
  readonly sameEverywhere?: string;
  /**
   * What the consumer knows of each person from the directory: the attributes, and the combinations of them
   * someone holds (keys in the order of `attributes` given; fastest sorted by compareKeys). With two or more of these attributes in the table,
   * their cross is built (hidden unless declared) and every combination nobody holds is a structural zero.
   */
  readonly known?: {
    readonly attributes: readonly string[];
    held(attributes: readonly string[]): readonly (readonly string[])[];
  };
}

/** Cell ids by key, one map level per part: a user's cells are found without building a key string. */
type KeyTrie = Map<string, KeyTrie | number>;

interface CellGroup {
  readonly parts: readonly string[];
  /** The group's cells, in key order. */
  readonly ids: number[];
  /** Those that are no structural zero, in key order. */
  readonly held: number[];
  /** The ids of `held` by key. */
  readonly byKey: KeyTrie;
}

/** Counts the users of one combination of attribute values; see CohortAggregator.counter. */
export interface CohortCounter {
  /** Adds a user (or `people` users alike): active or not, and their raw metric values in the declared order. */
  add(active: boolean, metrics: readonly number[], people?: number): void;
}

/**
 * The users of one combination of the attributes the table uses (a directory tuple: few against users), counted
 * as they are added and poured into its cells (one per dimension) when the table is asked for.
 */
class TupleCounter implements CohortCounter {
  users = 0;
  active = 0;
  readonly sums: number[];

  constructor(
    readonly cells: readonly number[],
    private readonly clips: readonly number[],
  ) {
    this.sums = clips.map(() => 0);
  }

  add(active: boolean, metrics: readonly number[], people = 1): void {
    this.users += people;
    if (active) this.active += people;
    // Whole units (durations in whole seconds): with noise, a sum must move by whole steps only.
    for (let i = 0; i < this.clips.length; i++) this.sums[i]! += Math.floor(Math.min(Math.max(metrics[i] ?? 0, 0), this.clips[i]!)) * people;
  }
}

/** Tuple counters by the user's value of each used attribute in turn, one map level per attribute. */
type TupleTrie = Map<string, TupleTrie | TupleCounter>;

export class CohortAggregator {
  private readonly cells: CohortCell[] = [];
  private readonly relations: CohortRelation[] = [];
  /** Per dimension (declared or implied). */
  private readonly groups: CellGroup[] = [];
  /** Every attribute a dimension uses, sorted: a user's tuple is their value of each. */
  private readonly attributes: readonly string[];
  /** add()'s counters by their values (with no attribute used, organization only: the first in `counters`). */
  private readonly tuples: TupleTrie = new Map();
  private readonly counters: TupleCounter[] = [];
  private readonly clips: readonly number[];
  private readonly zeroSums: number[];

  /** Builds every cell and relation in passes linear in cells (issue 18: 6,000 departments x 50 offices). */
  constructor(private readonly layout: CohortLayout) {
    const declared = new Set(layout.dimensions.map((d) => d.name));
    const singles = new Set(layout.dimensions.flatMap((d) => d.parts));
    this.attributes = [...singles].sort();
    this.clips = layout.metrics.map((m) => m.clip);
    this.zeroSums = Object.freeze(this.clips.map(() => 0)) as number[];
    const known = this.attributes.filter((a) => layout.known?.attributes.includes(a) === true);
    /**
     * For a dimension's parts, whether a key's combination of known attributes is held by no one (two or more
     * known); asked once per key, in key order.
     */
    const structuralZeros = (parts: readonly string[]): ((key: readonly string[]) => boolean) | undefined => {
      const positions = parts.flatMap((part, i) => (known.includes(part) ? [i] : []));
      if (positions.length < 2) return undefined;
      const held = inKeyOrder(layout.known!.held(positions.map((i) => parts[i]!)));
      if (positions.length === parts.length) {
        // Keys and held combinations both in key order: walked side by side, no lookup per cell.
        let next = 0;
        return (key) => {
          while (next < held.length && compareKeys(held[next]!, key) < 0) next++;
          return next === held.length || compareKeys(held[next]!, key) !== 0;
        };
      }
      // Other parts in the cross too: the held combinations as a trie, looked up part by part.
      const trie: KeyTrie = new Map();
      for (const combination of held) {
        let level = trie;
        for (let p = 0; p < combination.length - 1; p++) {
          let next = level.get(combination[p]!);
          if (!(next instanceof Map)) level.set(combination[p]!, (next = new Map()));
          level = next;
        }
        level.set(combination[combination.length - 1]!, 1);
      }
      return (key) => {
        let node: KeyTrie | number | undefined = trie;
        for (const i of positions) node = node instanceof Map ? node.get(key[i]!) : undefined;
        return node === undefined;
      };
    };
    const totalOf = this.group(ORGANIZATION, [], declared.has(ORGANIZATION)).ids[0]!;
    const marginals = new Map<string, CellGroup>();
    const twins: number[] = [];
    for (const attribute of this.attributes) {
      const group = this.group(attribute, [attribute], declared.has(attribute));
      marginals.set(attribute, group);
      this.relations.push({ total: totalOf, parts: [...group.ids] });
      const twin = layout.sameEverywhere === undefined ? undefined : group.byKey.get(layout.sameEverywhere);
      if (typeof twin === 'number') twins.push(twin);
    }
    const crosses = layout.dimensions.filter((d) => d.parts.length > 1).map((d) => this.group(d.name, d.parts, true, structuralZeros(d.parts)));
    const sameSet = (parts: readonly string[]) => parts.length === known.length && known.every((a) => parts.includes(a));
    const declaredStructure = known.length >= 2 ? crosses.find((group) => sameSet(group.parts)) : undefined;
    const hiddenStructure = known.length >= 2 && declaredStructure === undefined ? this.group(known.join(' x '), known, false, undefined, layout.known!.held(known)) : undefined;
    // The same people in two dimensions: one released and the other suppressed would show the suppressed one.
    // The directory's cross implies it (each marginal's (not in directory) cell is its one outside cell).
    if (declaredStructure === undefined && hiddenStructure === undefined) for (const twin of twins.slice(1)) this.relations.push({ total: twins[0]!, parts: [twin] });
    for (const group of hiddenStructure === undefined ? crosses : [...crosses, hiddenStructure]) {
      for (const part of group.parts) this.relate(marginals.get(part)!, group);
    }
    // A declared cross of some of the known attributes is the sum of the directory cross's cells under it.
    if (hiddenStructure !== undefined) for (const cross of crosses.filter((group) => group.parts.every((p) => known.includes(p)))) this.relate(cross, hiddenStructure);
  }

  /**
   * total = sum of parts for each cell of `totals` and the cells of `parts` under it (whose key, projected on
   * `totals`' attributes, is the total's key); one indexed pass over `parts`, relations in `totals`' key order.
   * Structural zeros are known to be 0 and left out.
   */
  private relate(totals: CellGroup, parts: CellGroup): void {
    const positions = totals.parts.map((p) => parts.parts.indexOf(p));
    const partsOf = new Map<number, number[]>(totals.ids.map((id) => [id, []]));
    for (const id of parts.held) {
      const key = this.cells[id]!.key;
      let node: KeyTrie | number | undefined = totals.byKey;
      for (const position of positions) node = node instanceof Map ? node.get(key[position]!) : undefined;
      if (typeof node === 'number') partsOf.get(node)!.push(id);
    }
    for (const [total, ids] of partsOf) this.relations.push({ total, parts: ids });
  }

  private group(name: string, parts: readonly string[], released: boolean, structuralZero?: (key: readonly string[]) => boolean, keySet?: readonly (readonly string[])[]): CellGroup {
    const keys = keySet ?? (parts.length === 0 ? [[ALL]] : this.layout.keySet(parts));
    const group: CellGroup = { parts, ids: [], held: [], byKey: new Map() };
    const state: CellState = released ? 'released' : 'hidden';
    for (const key of inKeyOrder(keys)) {
      group.ids.push(this.cells.length);
      // One literal per shape, `structuralZero` last, as the table has always been serialised. Nobody is counted
      // in a structural zero: they share one frozen sums array and are left out of the key index.
      if (structuralZero?.(key) === true) {
        this.cells.push({ dimension: name, key, users: 0, active: 0, sums: this.zeroSums, state, structuralZero: true });
        continue;
      }
      let level = group.byKey;
      for (let p = 0; p < key.length - 1; p++) {
        let next = level.get(key[p]!);
        if (!(next instanceof Map)) level.set(key[p]!, (next = new Map()));
        level = next;
      }
      level.set(key[key.length - 1]!, this.cells.length);
      group.held.push(this.cells.length);
      this.cells.push({ dimension: name, key, users: 0, active: 0, sums: this.clips.map(() => 0), state });
    }
    this.groups.push(group);
    return group;
  }

  /** The cell of a group a user falls in; undefined outside its key set or in a structural zero. */
  private cellOf(group: CellGroup, attributes: Readonly<Record<string, string>>): number | undefined {
    if (group.parts.length === 0) return group.ids[0];
    let node: KeyTrie | number | undefined = group.byKey;
    for (const part of group.parts) {
      if (!(node instanceof Map)) return undefined;
      node = node.get(attributes[part]!);
    }
    return typeof node === 'number' ? node : undefined;
  }

  /**
   * A new counter of the users with these attributes (their values of every attribute a dimension uses), its
   * cells found now. A caller with many users per combination (a directory's tuples) keeps it and counts through
   * it without a lookup per user; two counters of the same values count into the same cells. Throws
   * InternalInvariantError for a combination outside a dimension's key set or one the directory says nobody
   * holds (a structural zero).
   */
  counter(attributes: Readonly<Record<string, string>>): CohortCounter {
    return this.newCounter(attributes);
  }

  /** The one counter of these attributes (add()'s: one per combination, not per user). */
  private tupleCounter(attributes: Readonly<Record<string, string>>): TupleCounter {
    if (this.attributes.length === 0) return this.counters[0] ?? this.newCounter(attributes);
    let level = this.tuples;
    const depth = this.attributes.length - 1;
    for (let a = 0; a < depth; a++) {
      const value = attributes[this.attributes[a]!]!;
      let next = level.get(value) as TupleTrie | undefined;
      if (next === undefined) level.set(value, (next = new Map()));
      level = next;
    }
    const last = attributes[this.attributes[depth]!]!;
    let counter = level.get(last) as TupleCounter | undefined;
    if (counter === undefined) level.set(last, (counter = this.newCounter(attributes)));
    return counter;
  }

  private newCounter(attributes: Readonly<Record<string, string>>): TupleCounter {
    // Its cells first: a combination outside the key set throws before anything is kept of it.
    const cells = this.groups.map((group) => {
      const id = this.cellOf(group, attributes);
      if (id === undefined) throw new InternalInvariantError(`a user falls outside the cohort key set of '${group.parts.join(' x ')}', or in a combination of it the directory says nobody holds`);
      return id;
    });
    const counter = new TupleCounter(cells, this.clips);
    this.counters.push(counter);
    return counter;
  }

  /** Adds `user`'s contribution, `people` times (people with the same attributes, activity and metrics). */
  add(user: UserContribution, people = 1): void {
    this.tupleCounter(user.attributes).add(user.active, user.metrics, people);
  }

  /** The table, with every user added so far counted into their cells. */
  table(): CohortTable {
    for (const count of this.counters) {
      if (count.users === 0) continue;
      for (const id of count.cells) {
        const cell = this.cells[id]!;
        cell.users += count.users;
        cell.active += count.active;
        for (let i = 0; i < count.sums.length; i++) cell.sums[i]! += count.sums[i]!;
      }
      // Poured once: a later add() and table() count only what came after.
      count.users = count.active = 0;
      count.sums.fill(0);
    }
    return { cells: this.cells, relations: this.relations, metrics: this.layout.metrics.map((m) => m.name) };
  }
}

/** Keys sorted by compareKeys; a key set already in order (the directory's are) is taken as it is. */
function inKeyOrder(keys: readonly (readonly string[])[]): readonly (readonly string[])[] {
  for (let i = 1; i < keys.length; i++) if (compareKeys(keys[i - 1]!, keys[i]!) > 0) return [...keys].sort(compareKeys);
  return keys;
}
