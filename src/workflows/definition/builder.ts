import type { StepDefinitionInput, WorkflowDefinitionInput } from './schema.ts';

/**
 * A small TypeScript builder for people who embed Quorum as a library. It only writes the definition
 * object (the same thing a YAML file holds); `parseDefinition` validates it.
 *
 * Wiring: each step or group needs what came just before it. `sequence` chains its parts in order;
 * `parallel` gives each part the same needs (what precedes the group) and is followed by all of them.
 * A step that states `needs` itself keeps exactly those.
 *
 * @example
 * ```ts
 * import { parallel, parseDefinition, step, workflow } from './src/workflows/definition/index.ts';
 *
 * const definition = workflow('hometown-distance', {
 *   inputs: { a: { type: 'string' }, b: { type: 'string' } },
 * })
 *   .parallel([
 *     step('town_a', { prompt: 'Home town of {{ inputs.a }}? Reply with the town only.' }),
 *     step('town_b', { prompt: 'Home town of {{ inputs.b }}? Reply with the town only.' }),
 *   ])
 *   .step('distance', { prompt: 'Distance in km between {{ steps.town_a.output }} and {{ steps.town_b.output }}?' })
 *   .step('check', { type: 'approval' })
 *   .output('km', '{{ steps.distance.output }}')
 *   .build();
 * // distance needs [town_a, town_b]; check needs [distance].
 * const parsed = parseDefinition(definition); // { ok: true, definition, dag }
 * ```
 */

/** A step's fields (everything but its name); `needs` is optional: the builder wires it. */
export type StepSpec = StepDefinitionInput;

export interface StepNode {
  kind: 'step';
  name: string;
  spec: StepSpec;
}

export interface GroupNode {
  kind: 'parallel' | 'sequence';
  nodes: readonly FlowNode[];
}

export type FlowNode = StepNode | GroupNode;

/** One step. */
export function step(name: string, spec: StepSpec = {}): StepNode {
  return { kind: 'step', name, spec };
}

/** Steps (or groups) that run side by side: each needs what precedes the group. */
export function parallel(nodes: readonly FlowNode[]): GroupNode {
  return { kind: 'parallel', nodes };
}

/** Steps (or groups) in order: each needs the one before it. */
export function sequence(nodes: readonly FlowNode[]): GroupNode {
  return { kind: 'sequence', nodes };
}

/** Adds `node`'s steps to `steps`, wired after `before`; returns what a following node should need. */
function place(node: FlowNode, before: readonly string[], steps: Record<string, StepSpec>): string[] {
  if (node.kind === 'step') {
    if (Object.hasOwn(steps, node.name)) throw new Error(`step "${node.name}" is defined twice`);
    const needs = node.spec.needs ?? before;
    steps[node.name] = needs.length ? { ...node.spec, needs: [...needs] } : { ...node.spec };
    return [node.name];
  }
  if (node.kind === 'sequence') {
    let last = [...before];
    for (const child of node.nodes) last = place(child, last, steps);
    return last;
  }
  const after: string[] = [];
  for (const child of node.nodes) after.push(...place(child, before, steps));
  return node.nodes.length ? after : [...before];
}

export interface WorkflowOptions {
  description?: string;
  inputs?: WorkflowDefinitionInput['inputs'];
  outputs?: Record<string, string>;
  max_cost_usd?: number;
}

export class WorkflowBuilder {
  readonly #name: string;
  readonly #options: WorkflowOptions;
  readonly #nodes: FlowNode[] = [];
  readonly #outputs: Record<string, string> = {};

  constructor(name: string, options: WorkflowOptions = {}) {
    this.#name = name;
    this.#options = options;
  }

  /** Appends a step, a `parallel(…)` or a `sequence(…)`: it needs what was added before it. */
  add(node: FlowNode): this {
    this.#nodes.push(node);
    return this;
  }

  /** Appends one step. */
  step(name: string, spec: StepSpec = {}): this {
    return this.add(step(name, spec));
  }

  /** Appends steps that run side by side (nodes, or a map of name → spec). */
  parallel(nodes: readonly FlowNode[] | Record<string, StepSpec>): this {
    const list = Array.isArray(nodes)
      ? (nodes as readonly FlowNode[])
      : Object.entries(nodes as Record<string, StepSpec>).map(([name, spec]) => step(name, spec));
    return this.add(parallel(list));
  }

  /** Declares a run output (a template that may read any step). */
  output(name: string, template: string): this {
    this.#outputs[name] = template;
    return this;
  }

  /** The definition object, ready for `parseDefinition` (or `JSON.stringify`). */
  build(): WorkflowDefinitionInput {
    const steps: Record<string, StepSpec> = {};
    place(sequence(this.#nodes), [], steps);
    const outputs = { ...this.#options.outputs, ...this.#outputs };
    const { description, inputs, max_cost_usd } = this.#options;
    return {
      name: this.#name,
      ...(description !== undefined ? { description } : {}),
      inputs: inputs ?? {},
      steps,
      ...(Object.keys(outputs).length ? { outputs } : {}),
      ...(max_cost_usd !== undefined ? { max_cost_usd } : {}),
    };
  }
}

/** Starts a workflow definition; see the module's example. */
export function workflow(name: string, options: WorkflowOptions = {}): WorkflowBuilder {
  return new WorkflowBuilder(name, options);
}
