/**
 * The DAG drawn, for `GET /v1/workflows/:id/graph?format=mermaid|dot` and `quorum graph`. Nodes are
 * labelled with the step name and type (approval, ensemble and review steps get their own shapes);
 * edges follow `needs` (from the needed step to the step that needs it); `back_to` is a dashed edge
 * back to its target and `until` a dashed self-loop with its bound.
 */

/** What drawing needs from a step (a validated definition, or a builder's output). */
export interface GraphStep {
  type?: string;
  needs?: readonly string[];
  output?: string;
  strategy?: string;
  until?: { min_score?: number; max_iterations: number };
  back_to?: { step: string; max_loops: number };
}

export interface GraphDefinition {
  name: string;
  steps: Record<string, GraphStep>;
}

function kind(step: GraphStep): string {
  const type = step.type ?? 'llm';
  if (type === 'ensemble') return `ensemble: ${step.strategy ?? 'consensus'}`;
  if (type === 'llm' && step.output === 'json') return 'llm · json';
  return type;
}

function untilLabel(until: NonNullable<GraphStep['until']>): string {
  return `until score ≥ ${until.min_score ?? 8}, max ${until.max_iterations}×`;
}

function backToLabel(backTo: NonNullable<GraphStep['back_to']>): string {
  return `back_to, max ${backTo.max_loops}×`;
}

interface Edge {
  from: string;
  to: string;
  kind: 'needs' | 'back_to' | 'until';
  label?: string;
}

function edgesOf(definition: GraphDefinition): Edge[] {
  const edges: Edge[] = [];
  for (const [name, step] of Object.entries(definition.steps)) {
    for (const need of new Set(step.needs ?? [])) edges.push({ from: need, to: name, kind: 'needs' });
  }
  for (const [name, step] of Object.entries(definition.steps)) {
    if (step.until) edges.push({ from: name, to: name, kind: 'until', label: untilLabel(step.until) });
    if (step.back_to) {
      edges.push({ from: name, to: step.back_to.step, kind: 'back_to', label: backToLabel(step.back_to) });
    }
  }
  return edges;
}

const MERMAID_RESERVED = new Set([
  'end',
  'graph',
  'flowchart',
  'subgraph',
  'style',
  'class',
  'classdef',
  'click',
  'linkstyle',
  'direction',
  'default',
]);

/** Mermaid node ids: the step name when it is safe as one, else a sanitised, unique `step_…`. */
function mermaidIds(names: readonly string[]): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const name of names) {
    let id =
      /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !MERMAID_RESERVED.has(name.toLowerCase())
        ? name
        : `step_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
    while (used.has(id) || (id !== name && names.includes(id))) id = `${id}_`;
    used.add(id);
    ids.set(name, id);
  }
  return ids;
}

const mermaidText = (text: string) => text.replaceAll('"', '#quot;').replaceAll('|', '#124;');

/** A Mermaid flowchart (top to bottom). */
export function toMermaid(definition: GraphDefinition): string {
  const names = Object.keys(definition.steps);
  const ids = mermaidIds(names);
  const lines = ['flowchart TD'];
  for (const name of names) {
    const step = definition.steps[name]!;
    const label = `"${mermaidText(name)}<br/>${mermaidText(kind(step))}"`;
    const id = ids.get(name)!;
    const type = step.type ?? 'llm';
    if (type === 'approval') lines.push(`  ${id}{{${label}}}`);
    else if (type === 'ensemble') lines.push(`  ${id}[[${label}]]`);
    else if (type === 'review') lines.push(`  ${id}([${label}])`);
    else lines.push(`  ${id}[${label}]`);
  }
  for (const edge of edgesOf(definition)) {
    const from = ids.get(edge.from);
    const to = ids.get(edge.to);
    if (!from || !to) continue;
    if (edge.kind === 'needs') lines.push(`  ${from} --> ${to}`);
    else lines.push(`  ${from} -.->|${mermaidText(edge.label ?? edge.kind)}| ${to}`);
  }
  return `${lines.join('\n')}\n`;
}

const dotString = (text: string) => `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;

/** A Graphviz digraph. */
export function toDot(definition: GraphDefinition): string {
  const lines = [
    `digraph ${dotString(definition.name)} {`,
    '  rankdir=TB;',
    '  node [shape=box, style=rounded, fontname="Helvetica"];',
    '  edge [fontname="Helvetica", fontsize=10];',
  ];
  const names = Object.keys(definition.steps);
  for (const name of names) {
    const step = definition.steps[name]!;
    const attributes = [`label=${dotString(`${name}\n${kind(step)}`).replaceAll('\n', '\\n')}`];
    const type = step.type ?? 'llm';
    if (type === 'approval') attributes.push('shape=hexagon', 'style=solid');
    else if (type === 'ensemble') attributes.push('peripheries=2');
    else if (type === 'review') attributes.push('shape=note', 'style=solid');
    lines.push(`  ${dotString(name)} [${attributes.join(', ')}];`);
  }
  for (const edge of edgesOf(definition)) {
    if (!Object.hasOwn(definition.steps, edge.from) || !Object.hasOwn(definition.steps, edge.to)) continue;
    const head = `  ${dotString(edge.from)} -> ${dotString(edge.to)}`;
    if (edge.kind === 'needs') lines.push(`${head};`);
    else {
      const extra = edge.kind === 'back_to' ? ', constraint=false' : '';
      lines.push(`${head} [style=dashed, label=${dotString(edge.label ?? edge.kind)}${extra}];`);
    }
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
