/**
 * The attacker's programme (privacy.md G3, attacker-lp.ts) decomposed exactly along the table's relations, so
 * that tables of real directories (6,000 departments x 50 offices: 306,000 cells) are verified, not skipped.
 *
 * Why each step is exact (the intervals are the joint LP's, not approximations of them):
 * 1. Measures. Per unknown cell the joint programme has users u and active a with 0 <= a <= u, each relation
 *    holding for both. With inactive i = u - a, the constraints are a >= 0, i >= 0, each relation for a and
 *    (subtracting the two) for i: the feasible set is the product of an active and an inactive polytope. So
 *    each is solved alone, and a cell's users interval is their sum, [min a + min i, max a + max i].
 * 2. Components. Unknown cells are linked when one relation holds both; every constraint's variables lie in
 *    one connected component, so the feasible set is the product of the components' and a cell's interval is
 *    its component's alone. Relations with no unknown cell constrain nothing.
 * 3. Networks. When each cell of a component is in at most two of its relations, and the relations can be
 *    signed (multiplied by -1) so that each such cell leaves one and enters the other (a 2-colouring: the
 *    organisation, marginals and crosses of two attributes, each attribute in one cross, always can), the
 *    component is a flow network: relations are nodes, cells are arcs (a cell in one relation runs to a
 *    ground node, which needs no balance: the other nodes' balances imply its own), and the true values are a
 *    feasible flow x*. Any feasible y differs from x* by a circulation, which decomposes into cycles of x*'s
 *    residual graph (arcs forward without limit, backward up to their flow). Hence
 *    max x_e = x*_e + maxflow(head(e) -> tail(e)) and min x_e = x*_e - min(x*_e, maxflow(tail(e) -> head(e))),
 *    flows taken in the residual graph without e. Augmenting paths compute them exactly, and the check stops
 *    them once they reach the width it needs.
 * 4. Any other component (a 3-way cross; an attribute in two crosses) is solved by its own LP (yalps), up to a
 *    limit on its cells; above it the table cannot be verified and is refused (CohortTableUnverifiable).
 *
 * The check needs only whether each width reaches k (or k_c), so it bounds before it searches: a cut between
 * h and t puts any hub node on one side, so maxflow(h -> t) >= min(maxflow(h -> hub), maxflow(hub -> t))
 * (found once per node, not per cell), and leaving e out lowers it by at most e's flow; and maxflow(h -> t)
 * is at most what can leave h or enter t. A cell whose lower bound reaches the need is wide; one whose bounds
 * meet is exact; only the rest is searched. Intervals asked for without a need (attackerIntervals) are exact.
 */
import { solve, type Coefficients, type Model } from 'yalps';
import { ProductError } from '../errors/catalogue.js';
import { isUnknown, type CohortTable } from './table.js';

/** The two measures the programme splits into (users = active + inactive). */
export type SplitMeasure = 'active' | 'inactive';
const SPLIT: readonly SplitMeasure[] = ['active', 'inactive'];

/** How far one measure of an unknown cell moves from its true value: true - down .. true + up (see reach). */
export interface Reach {
  readonly value: number;
  readonly up: number;
  readonly down: number;
}

/**
 * A table whose attacker programme this build cannot verify (a component that is not a network and has more
 * unknown cells than the LP limit). Nothing of it is released: the caller answers with an error.
 */
export class CohortTableUnverifiable extends ProductError<'CohortTableUnverifiable'> {
  readonly code = 'CohortTableUnverifiable';
  constructor(readonly unknownCells: number, readonly limit: number) {
    super(
      `This cohort table cannot be verified against the attacker's programme: a group of ${unknownCells} linked suppressed cells ` +
        `(from a cross of three attributes, or one attribute in several crosses) is above the limit of ${limit}. ` +
        'Declare fewer or smaller crosses.',
    );
    this.name = 'CohortTableUnverifiable';
  }
}

const ABSENT = -1;

interface Component {
  /** Unknown cells (variables), by cell id. */
  readonly cells: number[];
  /** Relation indexes (into the table) with at least one of these cells. */
  readonly relations: number[];
  network: boolean;
  /** A network's node with the most leaving arcs (the organisation's relation to departments), see reach. */
  hub?: number;
}

/** The attacker's programme of one table, decomposed; built once per suppression round. */
export class AttackerDecomposition {
  private readonly unknown: Uint8Array;
  /** Each cell's true value per measure (the feasible flow), and a copy a search changes and puts back. */
  private readonly flows: Record<SplitMeasure, Float64Array>;
  private readonly working: Record<SplitMeasure, Float64Array>;
  /**
   * Per cell and measure, the least and the most its value may be (CohortCell.bounds; 0 and Infinity without):
   * an arc's residual capacity is ceiling - flow forward and flow - floor backward.
   */
  private readonly floor: Record<SplitMeasure, Float64Array>;
  private readonly ceiling: Record<SplitMeasure, Float64Array>;
  /** Per cell: its component, or ABSENT for a released cell. */
  private readonly componentOf: Int32Array;
  private readonly components: Component[] = [];
  /** Per cell as an arc: tail and head node (relations by index; grounds after them, one per component). */
  private readonly tail: Int32Array;
  private readonly head: Int32Array;
  /** Per node, the arcs leaving it and entering it, and those entering it with a flow above 0 per measure. */
  private readonly leaving: ArcLists;
  private readonly entering: ArcLists;
  private readonly carrying: Record<SplitMeasure, ArcLists>;
  /** Per node and measure, the flow of the arcs entering it and leaving it (what can go backward). */
  private readonly carried: Record<SplitMeasure, { into: Float64Array; outOf: Float64Array; largestInto: Float64Array; largestOutOf: Float64Array }>;
  private readonly lpModels = new Map<string, LpModel>();
  private readonly hubFlows = new Map<string, { flow: number; limit: number }>();
  /** Search state, reused: a stamp per node marks it visited in the current search. */
  private readonly visited: Int32Array;
  /** Per sink and measure (built when first used): each node one arc before it, with that arc. */
  private readonly before = new Map<number, Map<number, number>>();
  private readonly parentArc: Int32Array;
  private stamp = 0;

  constructor(
    private readonly table: CohortTable,
    private readonly lpLimit: number,
  ) {
    const { cells, relations } = table;
    const n = cells.length;
    this.unknown = Uint8Array.from(cells, (c) => (isUnknown(c) ? 1 : 0));
    this.flows = { active: Float64Array.from(cells, (c) => c.active), inactive: Float64Array.from(cells, (c) => c.users - c.active) };
    this.working = { active: this.flows.active.slice(), inactive: this.flows.inactive.slice() };
    const limit = (m: SplitMeasure, side: 'floor' | 'ceiling') =>
      Float64Array.from(cells, (c, id) => {
        const value = this.flows[m][id]!;
        if (c.bounds === undefined) return side === 'floor' ? 0 : Number.POSITIVE_INFINITY;
        return side === 'floor' ? Math.max(0, value - c.bounds[m].down) : value + c.bounds[m].up;
      });
    this.floor = { active: limit('active', 'floor'), inactive: limit('inactive', 'floor') };
    this.ceiling = { active: limit('active', 'ceiling'), inactive: limit('inactive', 'ceiling') };
    // Each unknown cell's first two relations (with its sign: -1 as a total, +1 as a part), and how many.
    const rel1 = new Int32Array(n).fill(ABSENT);
    const rel2 = new Int32Array(n).fill(ABSENT);
    const sign1 = new Int8Array(n);
    const sign2 = new Int8Array(n);
    const relationCount = new Int32Array(n);
    const parent = Int32Array.from(relations, (_, r) => r);
    const find = (r: number): number => {
      while (parent[r] !== r) r = parent[r] = parent[parent[r]!]!;
      return r;
    };
    const touches = new Uint8Array(relations.length);
    relations.forEach((relation, r) => {
      const visit = (id: number, sign: 1 | -1) => {
        if (this.unknown[id] === 0) return;
        touches[r] = 1;
        const count = relationCount[id]!;
        relationCount[id] = count + 1;
        if (count === 0) {
          rel1[id] = r;
          sign1[id] = sign;
        } else {
          if (count === 1) {
            rel2[id] = r;
            sign2[id] = sign;
          }
          const a = find(rel1[id]!);
          const b = find(r);
          if (a !== b) parent[a] = b;
        }
      };
      visit(relation.total, -1);
      for (const p of relation.parts) visit(p, 1);
    });
    // Components: one per group of linked relations, and one per unknown cell in no relation.
    const componentOfRelation = new Int32Array(relations.length).fill(ABSENT);
    this.componentOf = new Int32Array(n).fill(ABSENT);
    relations.forEach((_, r) => {
      if (touches[r] === 0) return;
      const root = find(r);
      if (componentOfRelation[root] === ABSENT) {
        componentOfRelation[root] = this.components.length;
        this.components.push({ cells: [], relations: [], network: true });
      }
      componentOfRelation[r] = componentOfRelation[root]!;
      this.components[componentOfRelation[r]!]!.relations.push(r);
    });
    for (let id = 0; id < n; id++) {
      if (this.unknown[id] === 0) continue;
      let c: number;
      if (relationCount[id] === 0) {
        c = this.components.length;
        this.components.push({ cells: [], relations: [], network: true });
      } else c = componentOfRelation[rel1[id]!]!;
      this.componentOf[id] = c;
      this.components[c]!.cells.push(id);
      if (relationCount[id]! > 2) this.components[c]!.network = false;
    }
    // Signing: sigma per relation so that each two-relation cell has +1 in one (leaves it), -1 in the other.
    const sigma = new Int8Array(relations.length);
    const relationCells = new Map<number, number[]>();
    for (let id = 0; id < n; id++) {
      if (relationCount[id] !== 2) continue;
      for (const r of [rel1[id]!, rel2[id]!]) {
        let list = relationCells.get(r);
        if (list === undefined) relationCells.set(r, (list = []));
        list.push(id);
      }
    }
    for (const component of this.components) {
      if (!component.network) continue;
      for (const first of component.relations) {
        if (sigma[first] !== 0) continue;
        sigma[first] = 1;
        const queue = [first];
        while (queue.length > 0 && component.network) {
          const r = queue.pop()!;
          for (const id of relationCells.get(r) ?? []) {
            const [other, mine, theirs] = rel1[id] === r ? [rel2[id]!, sign1[id]!, sign2[id]!] : [rel1[id]!, sign2[id]!, sign1[id]!];
            const wanted = -sigma[r]! * mine * theirs;
            if (sigma[other] === 0) {
              sigma[other] = wanted;
              queue.push(other);
            } else if (sigma[other] !== wanted) component.network = false;
          }
        }
      }
    }
    // Arcs: a cell with coefficient +1 (after signing) leaves its relation's node, with -1 enters it.
    const groundOf = (c: number) => relations.length + c;
    const nodes = relations.length + this.components.length;
    this.tail = new Int32Array(n).fill(ABSENT);
    this.head = new Int32Array(n).fill(ABSENT);
    for (let id = 0; id < n; id++) {
      const c = this.componentOf[id]!;
      if (c === ABSENT || !this.components[c]!.network) continue;
      const ends: [number, number][] = [];
      if (relationCount[id]! >= 1) ends.push([rel1[id]!, sigma[rel1[id]!]! * sign1[id]!]);
      if (relationCount[id]! === 2) ends.push([rel2[id]!, sigma[rel2[id]!]! * sign2[id]!]);
      else ends.push([groundOf(c), ends.length === 0 ? 1 : -ends[0]![1]]);
      if (ends.length === 1) ends.push([groundOf(c), -1]);
      for (const [node, coefficient] of ends) {
        if (coefficient > 0) this.tail[id] = node;
        else this.head[id] = node;
      }
    }
    const arcs = Int32Array.from({ length: n }, (_, id) => id).filter((id) => this.tail[id] !== ABSENT);
    this.leaving = arcLists(nodes, arcs, this.tail);
    this.entering = arcLists(nodes, arcs, this.head);
    // Arcs usable backward (flow above 0) per measure: most cells of a big cross are empty, so a search
    // from a node of a big relation scans few of its arcs.
    // Largest first, so that a path carries as much as it can.
    const backward = (m: SplitMeasure, id: number) => this.flows[m][id]! - this.floor[m][id]!;
    const carrying = (m: SplitMeasure) => arcLists(nodes, arcs.filter((id) => backward(m, id) > 0).sort((a, b) => backward(m, b) - backward(m, a)), this.head);
    this.carrying = { active: carrying('active'), inactive: carrying('inactive') };
    const carried = (m: SplitMeasure) => {
      const into = new Float64Array(nodes);
      const outOf = new Float64Array(nodes);
      const largestInto = new Float64Array(nodes);
      const largestOutOf = new Float64Array(nodes);
      for (const arc of arcs) {
        const flow = backward(m, arc);
        into[this.head[arc]!]! += flow;
        outOf[this.tail[arc]!]! += flow;
        largestInto[this.head[arc]!] = Math.max(largestInto[this.head[arc]!]!, flow);
        largestOutOf[this.tail[arc]!] = Math.max(largestOutOf[this.tail[arc]!]!, flow);
      }
      return { into, outOf, largestInto, largestOutOf };
    };
    this.carried = { active: carried('active'), inactive: carried('inactive') };
    this.components.forEach((component, c) => {
      if (!component.network) return;
      // Any node gives a valid bound; one with many forward arcs (unlimited) reaches most nodes with most flow.
      component.hub = component.relations.reduce((best, r) => (this.leaving.count(r) > this.leaving.count(best) ? r : best), groundOf(c));
    });
    this.visited = new Int32Array(nodes);
    this.parentArc = new Int32Array(nodes);
  }

  /** The measure's true value of a cell. */
  private value(id: number, measure: SplitMeasure): number {
    return this.flows[measure][id]!;
  }

  /** How many unknown cells the largest component not solvable as a network has (0 if none). */
  largestLpComponent(): number {
    return Math.max(0, ...this.components.filter((c) => !c.network).map((c) => c.cells.length));
  }

  /**
   * How far one measure of an unknown cell moves: exactly while up + down < `cap`, else by at least `cap`
   * in all (up first; Infinity: exactly both ways). Throws
   * CohortTableUnverifiable when the cell's component is neither a network nor within the LP limit.
   */
  reach(id: number, measure: SplitMeasure, cap: number): Reach {
    const value = this.value(id, measure);
    const component = this.components[this.componentOf[id]!];
    if (component === undefined) return { value, up: 0, down: 0 };
    // How far the cell's own bounds let it move (Infinity and its value without).
    const room = { up: this.ceiling[measure][id]! - value, down: value - this.floor[measure][id]! };
    // A cell in no relation (a dimension of one cell and no organisation) is bound by nothing but its bounds.
    if (component.relations.length === 0) return { value, up: Math.min(room.up, cap), down: Math.min(room.down, cap) };
    if (!component.network) {
      if (component.cells.length > this.lpLimit) throw new CohortTableUnverifiable(component.cells.length, this.lpLimit);
      const model = this.lpModel(this.componentOf[id]!, measure);
      return { value, up: bound(model, id, 'maximize') - value, down: value - bound(model, id, 'minimize') };
    }
    // Min cuts obey a triangle inequality (a cut between h and t puts the hub on one side), so
    // maxflow(h -> t) >= min(maxflow(h -> hub), maxflow(hub -> t)), and leaving out e costs at most its flow.
    // Flows to and from the hub are found once per node: most cells of a big cross are shown wide this way.
    // A flow is also at most what can leave h or enter t (without e): when the hub's bound reaches that, it
    // is exact. Only the rest (narrow cells, mostly) is searched.
    const hub = component.hub!;
    const [h, t] = [this.head[id]!, this.tail[id]!];
    let up: number | undefined;
    if (cap < Number.POSITIVE_INFINITY) {
      const carried = this.carried[measure];
      // Each hub flow is found once, as far as the largest cell at its end can need. Leaving e out costs what
      // it carries backward (value - floor), at most its value.
      const own = room.down;
      const lower = Math.min(this.hubFlow(h, hub, measure, cap + carried.largestInto[h]!), this.hubFlow(hub, t, measure, cap + carried.largestOutOf[t]!)) - value;
      const upper = Math.min(this.leaving.count(h) > 0 ? Number.POSITIVE_INFINITY : carried.into[h]! - own, this.entering.count(t) > 0 ? Number.POSITIVE_INFINITY : carried.outOf[t]! - own);
      // The cell itself never rises above its ceiling, whatever the flows.
      const limit = Math.min(cap, room.up);
      if (lower >= limit) up = limit;
      else if (lower >= upper) up = Math.min(upper, room.up);
    }
    up ??= this.maxFlow(h, t, id, measure, Math.min(cap, room.up));
    const down = room.down === 0 || (up >= cap && cap < Number.POSITIVE_INFINITY) ? 0 : this.maxFlow(t, h, id, measure, cap === Number.POSITIVE_INFINITY ? room.down : Math.min(cap - up, room.down));
    return { value, up, down };
  }

  /**
   * The maximum flow from `source` to `sink` in the residual graph of the true values without arc `excluded`,
   * by augmenting paths found depth first, stopped at `limit`. The true values are never changed: the flows
   * of this search are kept aside.
   */
  private maxFlow(source: number, sink: number, excluded: number, measure: SplitMeasure, limit: number): number {
    const { tail, head, visited, parentArc, leaving } = this;
    const carrying = this.carrying[measure];
    const flow = this.working[measure];
    const floor = this.floor[measure];
    const ceiling = this.ceiling[measure];
    const changed: number[] = [];
    /** Arcs whose flow this search raised from 0, by head: usable backward from there. */
    let raised: Map<number, number[]> | undefined;
    // The nodes one residual arc before the sink, so a search stops a step early (an accelerator only: the
    // search also stops on reaching the sink itself); an arc is used only while it has capacity.
    const before = this.arcsBefore(sink, measure);
    const isTarget = (node: number) => {
      const arc = before.get(node);
      return arc !== undefined && arc !== excluded && (tail[arc] === node ? flow[arc]! < ceiling[arc]! : flow[arc]! > floor[arc]!);
    };
    let total = 0;
    try {
      while (total < limit) {
        const stamp = ++this.stamp;
        visited[source] = stamp;
        // Breadth first (shortest paths), stopping as soon as a node before the sink is reached.
        const queue = [source];
        let found = isTarget(source) ? source : ABSENT;
        const reach = (node: number, arc: number, next: number) => {
          if (arc === excluded || visited[next] === stamp) return false;
          visited[next] = stamp;
          parentArc[next] = arc;
          queue.push(next);
          if (next === sink || isTarget(next)) found = next;
          else if (leaving.start[next + 1]! - leaving.start[next]! <= LOOK_AHEAD) {
            // A small node (a department's row): one look over its forward arcs for a node before the sink.
            for (let i = leaving.start[next]!; i < leaving.start[next + 1]! && found === ABSENT; i++) {
              const ahead = head[leaving.arcs[i]!]!;
              if (leaving.arcs[i] === excluded || flow[leaving.arcs[i]!]! >= ceiling[leaving.arcs[i]!]! || visited[ahead] === stamp || !isTarget(ahead)) continue;
              visited[ahead] = stamp;
              parentArc[ahead] = leaving.arcs[i]!;
              found = ahead;
            }
          }
          return found !== ABSENT;
        };
        scan: for (let q = 0; q < queue.length && found === ABSENT; q++) {
          const node = queue[q]!;
          for (let i = leaving.start[node]!; i < leaving.start[node + 1]!; i++) {
            const arc = leaving.arcs[i]!;
            if (flow[arc]! < ceiling[arc]! && reach(node, arc, head[arc]!)) break scan;
          }
          for (let i = carrying.start[node]!; i < carrying.start[node + 1]!; i++) {
            const arc = carrying.arcs[i]!;
            if (flow[arc]! > floor[arc]! && reach(node, arc, tail[arc]!)) break scan;
          }
          for (const arc of raised?.get(node) ?? []) if (flow[arc]! > floor[arc]! && reach(node, arc, tail[arc]!)) break scan;
        }
        if (found === ABSENT) return total;
        // The path: source ... found (parent arcs), then found -> sink (its arc) unless found is the sink.
        const path: number[] = [];
        const from: number[] = [];
        if (found !== sink) {
          path.push(before.get(found)!);
          from.push(found);
        }
        for (let node = found; node !== source; ) {
          const arc = parentArc[node]!;
          node = tail[arc] === node ? head[arc]! : tail[arc]!;
          path.push(arc);
          from.push(node);
        }
        let push = limit - total;
        for (let i = 0; i < path.length; i++) {
          const arc = path[i]!;
          push = Math.min(push, tail[arc] !== from[i] ? flow[arc]! - floor[arc]! : ceiling[arc]! - flow[arc]!);
        }
        if (push === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
        for (let i = 0; i < path.length; i++) {
          const arc = path[i]!;
          changed.push(arc);
          if (tail[arc] !== from[i]) flow[arc]! -= push;
          else {
            if (flow[arc]! <= floor[arc]!) {
              raised ??= new Map();
              let list = raised.get(head[arc]!);
              if (list === undefined) raised.set(head[arc]!, (list = []));
              list.push(arc);
            }
            flow[arc]! += push;
          }
        }
        total += push;
      }
      return total;
    } finally {
      const original = this.flows[measure];
      for (const arc of changed) flow[arc] = original[arc]!;
    }
  }

  /** maxflow(from -> to) in the residual graph of the true values, up to `limit`, remembered. */
  private hubFlow(from: number, to: number, measure: SplitMeasure, limit: number): number {
    if (from === to) return Number.POSITIVE_INFINITY;
    const key = `${from} ${to} ${measure}`;
    const known = this.hubFlows.get(key);
    if (known !== undefined && (known.flow < known.limit || known.limit >= limit)) return known.flow;
    const flow = this.maxFlow(from, to, ABSENT, measure, limit);
    this.hubFlows.set(key, { flow, limit });
    return flow;
  }

  /**
   * The nodes with an arc into `sink` in the residual graph of the true values: forward arcs entering it, and
   * arcs leaving it that carry flow (backward). A forward arc is kept over a backward one (no limit).
   */
  private arcsBefore(sink: number, measure: SplitMeasure): Map<number, number> {
    const key = sink * 2 + (measure === 'active' ? 0 : 1);
    let out = this.before.get(key);
    if (out !== undefined) return out;
    out = new Map();
    const { leaving, entering } = this;
    for (let i = leaving.start[sink]!; i < leaving.start[sink + 1]!; i++) {
      const arc = leaving.arcs[i]!;
      if (this.value(arc, measure) > this.floor[measure][arc]!) out.set(this.head[arc]!, arc);
    }
    for (let i = entering.start[sink]!; i < entering.start[sink + 1]!; i++) {
      const arc = entering.arcs[i]!;
      if (this.value(arc, measure) < this.ceiling[measure][arc]!) out.set(this.tail[arc]!, arc);
    }
    this.before.set(key, out);
    return out;
  }

  private lpModel(component: number, measure: SplitMeasure): LpModel {
    const key = `${component} ${measure}`;
    let model = this.lpModels.get(key);
    if (model === undefined) this.lpModels.set(key, (model = lpModelOf(this.table, this.components[component]!, this.unknown, (id) => this.value(id, measure), this.floor[measure], this.ceiling[measure])));
    return model;
  }

  /** Each measure of a cell as an interval (exact: no cap), for attackerIntervals. */
  interval(id: number, measure: SplitMeasure): { min: number; max: number } {
    const { value, up, down } = this.reach(id, measure, Number.POSITIVE_INFINITY);
    return { min: value - down, max: value + up };
  }
}

/** Nodes with at most this many leaving arcs are looked over for a node before the sink when reached. */
const LOOK_AHEAD = 64;

/** Arcs grouped by a node of theirs, compressed: node n's are arcs[start[n] .. start[n + 1]). */
interface ArcLists {
  readonly start: Int32Array;
  readonly arcs: Int32Array;
  count(node: number): number;
}

function arcLists(nodes: number, arcs: Int32Array, nodeOf: Int32Array): ArcLists {
  const start = new Int32Array(nodes + 1);
  for (const arc of arcs) start[nodeOf[arc]! + 1]!++;
  for (let v = 0; v < nodes; v++) start[v + 1]! += start[v]!;
  const out = new Int32Array(arcs.length);
  const fill = start.slice(0, nodes);
  for (const arc of arcs) out[fill[nodeOf[arc]!]!++] = arc;
  return { start, arcs: out, count: (node) => start[node + 1]! - start[node]! };
}

type LpModel = { constraints: Record<string, { equal: number } | { min: number } | { max: number }>; variables: Record<string, Record<string, number>> };

/**
 * One component's LP for one measure: a variable per unknown cell (>= 0, and within its floor and ceiling), each
 * relation with its known rest.
 */
function lpModelOf(table: CohortTable, component: Component, unknown: Uint8Array, value: (id: number) => number, floor: Float64Array, ceiling: Float64Array): LpModel {
  const constraints: LpModel['constraints'] = {};
  const variables: Record<string, Record<string, number>> = {};
  for (const id of component.cells) {
    const variable: Record<string, number> = {};
    variables[`x${id}`] = variable;
    if (floor[id]! > 0) {
      variable[`floor${id}`] = 1;
      constraints[`floor${id}`] = { min: floor[id]! };
    }
    if (ceiling[id]! < Number.POSITIVE_INFINITY) {
      variable[`ceiling${id}`] = 1;
      constraints[`ceiling${id}`] = { max: ceiling[id]! };
    }
  }
  for (const r of component.relations) {
    const relation = table.relations[r]!;
    let known = 0;
    for (const [id, sign] of [[relation.total, -1] as const, ...relation.parts.map((p) => [p, 1] as const)]) {
      if (unknown[id] === 1) variables[`x${id}`]![`r${r}`] = sign;
      else known += sign * value(id);
    }
    constraints[`r${r}`] = { equal: -known };
  }
  return { constraints, variables };
}

function bound(model: LpModel, id: number, direction: 'minimize' | 'maximize'): number {
  const target = `x${id}`;
  const full: Model<string, string> = {
    direction,
    objective: 'target',
    constraints: model.constraints,
    variables: Object.fromEntries(Object.entries(model.variables).map(([name, c]): [string, Coefficients] => [name, name === target ? { ...c, target: 1 } : c])),
  };
  const solution = solve(full);
  if (solution.status === 'unbounded') return direction === 'maximize' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  if (solution.status !== 'optimal') throw new Error(`the attacker LP is ${solution.status}; the table is inconsistent`);
  return solution.result;
}

export { SPLIT as SPLIT_MEASURES };
