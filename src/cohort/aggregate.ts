/**
 * Aggregating users into cohort cells: the organisation, each declared dimension, and the marginals a
 * cross-dimension implies (kept hidden when not declared, so the suppression can reason about them). Each
 * user's metric values are clipped to the bound the policy declares (G12), in whole units, before they are summed.
 */
import { compareKeys } from './directory.js';
import type { CohortCell, CohortRelation, CohortTable } from './table.js';
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
}

/** Cell ids by key, one map level per part: a user's cells are found without building a key string. */
type KeyTrie = Map<string, KeyTrie | number>;

interface CellGroup {
  readonly parts: readonly string[];
  /** The group's cells, in key order. */
  readonly ids: number[];
  readonly byKey: KeyTrie;
}

export class CohortAggregator {
  private readonly cells: CohortCell[] = [];
  private readonly relations: CohortRelation[] = [];
  /** Per dimension (declared or implied). */
  private readonly groups: CellGroup[] = [];

  /** Builds every cell and relation in passes linear in cells (issue 18: 6,000 departments x 50 offices). */
  constructor(private readonly layout: CohortLayout) {
    const declared = new Set(layout.dimensions.map((d) => d.name));
    const singles = new Set(layout.dimensions.flatMap((d) => d.parts));
    const totalOf = this.group(ORGANIZATION, [], declared.has(ORGANIZATION)).ids[0]!;
    const marginals = new Map<string, CellGroup>();
    const twins: number[] = [];
    for (const attribute of [...singles].sort()) {
      const group = this.group(attribute, [attribute], declared.has(attribute));
      marginals.set(attribute, group);
      this.relations.push({ total: totalOf, parts: [...group.ids] });
      const twin = layout.sameEverywhere === undefined ? undefined : group.byKey.get(layout.sameEverywhere);
      if (typeof twin === 'number') twins.push(twin);
    }
    // The same people in two dimensions: one released and the other suppressed would show the suppressed one.
    for (const twin of twins.slice(1)) this.relations.push({ total: twins[0]!, parts: [twin] });
    for (const dimension of layout.dimensions.filter((d) => d.parts.length > 1)) {
      const group = this.group(dimension.name, dimension.parts, true);
      dimension.parts.forEach((part, i) => {
        // One indexed pass over the cross's cells per part, relations in the marginal's key order.
        const marginal = marginals.get(part)!;
        const partsOf = new Map<number, number[]>(marginal.ids.map((id) => [id, []]));
        for (const id of group.ids) {
          const total = marginal.byKey.get(this.cells[id]!.key[i]!);
          if (typeof total === 'number') partsOf.get(total)!.push(id);
        }
        for (const [total, parts] of partsOf) this.relations.push({ total, parts });
      });
    }
  }

  private group(name: string, parts: readonly string[], released: boolean): CellGroup {
    const keys = parts.length === 0 ? [[ALL]] : this.layout.keySet(parts);
    const group: CellGroup = { parts, ids: [], byKey: new Map() };
    for (const key of [...keys].sort(compareKeys)) {
      let level = group.byKey;
      for (let p = 0; p < key.length - 1; p++) {
        let next = level.get(key[p]!);
        if (!(next instanceof Map)) level.set(key[p]!, (next = new Map()));
        level = next;
      }
      level.set(key[key.length - 1]!, this.cells.length);
      group.ids.push(this.cells.length);
      this.cells.push({ dimension: name, key, users: 0, active: 0, sums: this.layout.metrics.map(() => 0), state: released ? 'released' : 'hidden' });
    }
    this.groups.push(group);
    return group;
  }

  /** The cell of a group a user falls in; undefined outside its key set. */
  private cellOf(group: CellGroup, attributes: Readonly<Record<string, string>>): number | undefined {
    if (group.parts.length === 0) return group.ids[0];
    let node: KeyTrie | number | undefined = group.byKey;
    for (const part of group.parts) {
      if (!(node instanceof Map)) return undefined;
      node = node.get(attributes[part]!);
    }
    return typeof node === 'number' ? node : undefined;
  }

  /** Adds `user`'s contribution, `people` times (people with the same attributes, activity and metrics). */
  add(user: UserContribution, people = 1): void {
    // Whole units (durations in whole seconds): with noise, a sum must move by whole steps only.
    const clipped = this.layout.metrics.map((m, i) => Math.floor(Math.min(Math.max(user.metrics[i] ?? 0, 0), m.clip)));
    for (const group of this.groups) {
      const id = this.cellOf(group, user.attributes);
      if (id === undefined) throw new InternalInvariantError(`a user falls outside the cohort key set of '${group.parts.join(' x ')}'`);
      const cell = this.cells[id]!;
      cell.users += people;
      if (user.active) cell.active += people;
      for (let i = 0; i < clipped.length; i++) cell.sums[i]! += clipped[i]! * people;
    }
  }

  table(): CohortTable {
    return { cells: this.cells, relations: this.relations, metrics: this.layout.metrics.map((m) => m.name) };
  }
}
