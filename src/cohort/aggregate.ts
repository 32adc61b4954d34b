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

/** A cell key as a map key (NUL cannot occur in directory values or labels). */
const keyString = (key: readonly string[]) => key.join('\u0000');

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

export class CohortAggregator {
  private readonly cells: CohortCell[] = [];
  private readonly relations: CohortRelation[] = [];
  /** Per dimension (declared or implied): parts, and cell index by key. */
  private readonly groups: { parts: readonly string[]; byKey: Map<string, number> }[] = [];

  constructor(private readonly layout: CohortLayout) {
    const declared = new Set(layout.dimensions.map((d) => d.name));
    const singles = new Set(layout.dimensions.flatMap((d) => d.parts));
    const organization = this.group(ORGANIZATION, [], declared.has(ORGANIZATION));
    const totalOf = organization.get(keyString([ALL]))!;
    const twins: number[] = [];
    for (const attribute of [...singles].sort()) {
      const group = this.group(attribute, [attribute], declared.has(attribute));
      this.relations.push({ total: totalOf, parts: [...group.values()] });
      const twin = layout.sameEverywhere === undefined ? undefined : group.get(keyString([layout.sameEverywhere]));
      if (twin !== undefined) twins.push(twin);
    }
    // The same people in two dimensions: one released and the other suppressed would show the suppressed one.
    for (const twin of twins.slice(1)) this.relations.push({ total: twins[0]!, parts: [twin] });
    for (const dimension of layout.dimensions.filter((d) => d.parts.length > 1)) {
      const group = this.group(dimension.name, dimension.parts, true);
      dimension.parts.forEach((part, i) => {
        const marginal = this.groups.find((g) => g.parts.length === 1 && g.parts[0] === part)!;
        for (const total of marginal.byKey.values()) {
          const label = this.cells[total]!.key[0];
          const parts = [...group.values()].filter((id) => this.cells[id]!.key[i] === label);
          this.relations.push({ total, parts });
        }
      });
    }
  }

  private group(name: string, parts: readonly string[], released: boolean): Map<string, number> {
    const keys = parts.length === 0 ? [[ALL]] : this.layout.keySet(parts);
    const byKey = new Map<string, number>();
    for (const key of [...keys].sort(compareKeys)) {
      byKey.set(keyString(key), this.cells.length);
      this.cells.push({ dimension: name, key, users: 0, active: 0, sums: this.layout.metrics.map(() => 0), state: released ? 'released' : 'hidden' });
    }
    this.groups.push({ parts, byKey });
    return byKey;
  }

  /** Adds `user`'s contribution, `people` times (people with the same attributes, activity and metrics). */
  add(user: UserContribution, people = 1): void {
    // Whole units (durations in whole seconds): with noise, a sum must move by whole steps only.
    const clipped = this.layout.metrics.map((m, i) => Math.floor(Math.min(Math.max(user.metrics[i] ?? 0, 0), m.clip)));
    for (const group of this.groups) {
      let key = ALL;
      for (let p = 0; p < group.parts.length; p++) key = p === 0 ? user.attributes[group.parts[0]!]! : `${key}\u0000${user.attributes[group.parts[p]!]!}`;
      const id = group.byKey.get(key);
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
