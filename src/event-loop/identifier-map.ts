/**
 * A map for names at tenant scale (User Principal Names: 300,000 and more) that keeps the event loop responsive
 * while it grows (issue 18). Used for the people numbered in the score's reports (score/score-facts.ts
 * PersonIndex) and the directory's UPN index (cohort/directory.ts).
 */

/** Entries an IdentifierMap holds in one Map before it starts the next. */
const IDENTIFIER_GENERATION = 65_536;

/**
 * A map keyed by names (User Principal Names at tenant scale: 300,000 and more) that grows without one long
 * pause: the entries are held in generations of at most IDENTIFIER_GENERATION, each a Map, a new one started when
 * the last is full. V8 grows a Map by rehashing every entry into a table twice the size; one `set` at 262,144
 * UPNs held the event loop for about 50 ms here, at 524,288 about 100 ms (issue 18: the org score's longest
 * turns, found with bench/turns-in-profile.ts). Here no insertion rehashes more than one generation (a few ms);
 * a lookup asks each generation, newest first (five at 300,000 names). Iterates in the order keys were first set,
 * as a Map does; setting a key again replaces its value in place. Keys are never deleted; values are never
 * undefined (so `get` is one lookup per generation).
 */
export class IdentifierMap<V extends object | number | string | boolean> implements Iterable<[string, V]> {
  private readonly generations: Map<string, V>[] = [new Map<string, V>()];
  private newest: Map<string, V> = this.generations[0]!;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(name: string): V | undefined {
    const { generations } = this;
    for (let g = generations.length - 1; g >= 0; g--) {
      const value = generations[g]!.get(name);
      if (value !== undefined) return value;
    }
    return undefined;
  }

  has(name: string): boolean {
    return this.generations.some((generation) => generation.has(name));
  }

  set(name: string, value: V): this {
    const { generations } = this;
    for (let g = generations.length - 1; g >= 0; g--) {
      if (generations[g]!.has(name)) {
        generations[g]!.set(name, value);
        return this;
      }
    }
    return this.addNew(name, value);
  }

  /** Sets a name that `get` has just not found (without asking the generations again). */
  addNew(name: string, value: V): this {
    if (this.newest.size >= IDENTIFIER_GENERATION) this.generations.push((this.newest = new Map<string, V>()));
    this.newest.set(name, value);
    this.count++;
    return this;
  }

  *keys(): IterableIterator<string> {
    for (const generation of this.generations) yield* generation.keys();
  }

  *values(): IterableIterator<V> {
    for (const generation of this.generations) yield* generation.values();
  }

  *[Symbol.iterator](): Iterator<[string, V]> {
    for (const generation of this.generations) yield* generation;
  }
}
