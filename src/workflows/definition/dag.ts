/**
 * The step graph: a step depends on the steps it `needs`. Orders are deterministic: topological, with
 * definition order among steps that could go in either order.
 */

/** Step name → the steps it needs, in definition order (a `Map` keeps that order). */
export type NeedsGraph = ReadonlyMap<string, readonly string[]>;

export interface Dag {
  /** Every step, topologically ordered (a step after all it needs; definition order among equals). */
  readonly order: readonly string[];
  has(step: string): boolean;
  /** The steps `step` needs directly, as written (duplicates dropped). */
  parents(step: string): string[];
  /** The steps that need `step` directly. */
  children(step: string): string[];
  /** Everything `step` needs, directly or transitively. */
  ancestors(step: string): string[];
  /** Everything that needs `step`, directly or transitively: what re-runs when `step` changes. */
  descendants(step: string): string[];
  /** Steps that need nothing: they start first. */
  roots(): string[];
  /** Steps nothing needs. */
  leaves(): string[];
  /** `from`, `to` and every step on a path from `from` to `to`: what a `back_to` re-runs. */
  between(from: string, to: string): string[];
}

/** Cycles in the graph, one per strongly connected group, each closed (`[a, b, a]`: a needs b needs a). */
export function findCycles(graph: NeedsGraph): string[][] {
  const cycles: string[][] = [];
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  let counter = 0;
  const components: string[][] = [];

  // Tarjan's algorithm, iterative so a long chain cannot overflow the call stack.
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    // Each frame keeps its node's known needs: recomputing them per visit made dense graphs cubic.
    const needsOf = (node: string) => (graph.get(node) ?? []).filter((n) => graph.has(n));
    const work: { node: string; next: number; needs: string[] }[] = [
      { node: start, next: 0, needs: needsOf(start) },
    ];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length) {
      const frame = work[work.length - 1]!;
      if (frame.next < frame.needs.length) {
        const need = frame.needs[frame.next++]!;
        if (!index.has(need)) {
          index.set(need, counter);
          low.set(need, counter++);
          stack.push(need);
          onStack.add(need);
          work.push({ node: need, next: 0, needs: needsOf(need) });
        } else if (onStack.has(need)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(need)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component);
      }
    }
  }

  const position = new Map([...graph.keys()].map((name, i) => [name, i]));
  for (const component of components) {
    const members = new Set(component);
    const first = component.reduce((a, b) => (position.get(a)! <= position.get(b)! ? a : b));
    const selfLoop = (graph.get(first) ?? []).includes(first);
    if (component.length === 1 && !selfLoop) continue;
    if (selfLoop) {
      cycles.push([first, first]);
      continue;
    }
    // Shortest walk from `first` back to itself inside the component (BFS along needs).
    const previous = new Map<string, string>();
    const queue = [first];
    let closing: string | undefined;
    for (let q = 0; q < queue.length && closing === undefined; q++) {
      const node = queue[q]!;
      for (const need of graph.get(node) ?? []) {
        if (!members.has(need)) continue;
        if (need === first) {
          closing = node;
          break;
        }
        if (!previous.has(need)) {
          previous.set(need, node);
          queue.push(need);
        }
      }
    }
    const path = [first];
    for (let node = closing; node !== undefined && node !== first; node = previous.get(node)) {
      path.splice(1, 0, node);
    }
    path.push(first);
    cycles.push(path);
  }
  return cycles.sort((a, b) => position.get(a[0]!)! - position.get(b[0]!)!);
}

/** Transitive needs of `step` (unknown needs ignored; safe on cyclic graphs). */
export function ancestorSet(graph: NeedsGraph, step: string): Set<string> {
  const seen = new Set<string>();
  const queue = [...(graph.get(step) ?? [])];
  while (queue.length) {
    const node = queue.pop()!;
    if (seen.has(node) || !graph.has(node)) continue;
    seen.add(node);
    queue.push(...(graph.get(node) ?? []));
  }
  return seen;
}

/** Builds the DAG. Throws when a need names no step or the graph has a cycle (`parseDefinition` reports both). */
export function buildDag(steps: Record<string, { needs?: readonly string[] }> | NeedsGraph): Dag {
  const graph: NeedsGraph =
    steps instanceof Map
      ? steps
      : new Map(
          Object.entries(steps as Record<string, { needs?: readonly string[] }>).map(([k, s]) => [
            k,
            s.needs ?? [],
          ]),
        );
  const names = [...graph.keys()];
  const parentsOf = new Map<string, string[]>();
  for (const [name, needs] of graph) {
    for (const need of needs) {
      if (!graph.has(need)) throw new Error(`step "${name}" needs "${need}", which is not a step`);
    }
    parentsOf.set(name, [...new Set(needs)]);
  }
  const cycles = findCycles(graph);
  if (cycles.length) throw new Error(`cycle ${cycles[0]!.join(' → ')}`);

  // Kahn's algorithm, always taking the earliest-defined ready step.
  const remaining = new Map(names.map((n) => [n, parentsOf.get(n)!.length]));
  const childrenOf = new Map<string, string[]>(names.map((n) => [n, []]));
  for (const name of names) for (const parent of parentsOf.get(name)!) childrenOf.get(parent)!.push(name);
  const position = new Map(names.map((n, i) => [n, i]));
  const ready = names.filter((n) => remaining.get(n) === 0); // kept sorted by definition order
  const order: string[] = [];
  while (ready.length) {
    const next = ready.shift()!;
    order.push(next);
    for (const child of childrenOf.get(next)!) {
      const left = remaining.get(child)! - 1;
      remaining.set(child, left);
      if (left > 0) continue;
      let at = ready.length;
      while (at > 0 && position.get(ready[at - 1]!)! > position.get(child)!) at--;
      ready.splice(at, 0, child);
    }
  }
  const rank = new Map(order.map((n, i) => [n, i]));
  const byOrder = (set: Iterable<string>) => [...set].sort((a, b) => rank.get(a)! - rank.get(b)!);
  for (const [name, children] of childrenOf) childrenOf.set(name, byOrder(children));

  const known = (step: string): string => {
    if (!graph.has(step)) throw new Error(`unknown step "${step}"`);
    return step;
  };
  const descendantSet = (step: string) => {
    const seen = new Set<string>();
    const queue = [...childrenOf.get(step)!];
    while (queue.length) {
      const node = queue.pop()!;
      if (seen.has(node)) continue;
      seen.add(node);
      queue.push(...childrenOf.get(node)!);
    }
    return seen;
  };

  return {
    order,
    has: (step) => graph.has(step),
    parents: (step) => [...parentsOf.get(known(step))!],
    children: (step) => [...childrenOf.get(known(step))!],
    ancestors: (step) => byOrder(ancestorSet(graph, known(step))),
    descendants: (step) => byOrder(descendantSet(known(step))),
    roots: () => order.filter((n) => parentsOf.get(n)!.length === 0),
    leaves: () => order.filter((n) => childrenOf.get(n)!.length === 0),
    between: (from, to) => {
      known(from);
      known(to);
      const up = ancestorSet(graph, to);
      if (from !== to && !up.has(from)) return [];
      const down = descendantSet(from);
      return byOrder(
        [from, ...[...down].filter((n) => up.has(n)), to].filter((n, i, a) => a.indexOf(n) === i),
      );
    },
  };
}
