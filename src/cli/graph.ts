import { readFileSync } from 'node:fs';
import { parseDefinition, toDot, toMermaid } from '../workflows/definition/index.ts';
import { parse } from './args.ts';

export const GRAPH_HELP = `quorum graph — draw a workflow's DAG

Usage: quorum graph <workflow.yaml|json> [--format mermaid|dot]

Validates the definition the way POST /v1/workflows does (one line per problem, with its path, exit 2)
and prints the graph: Mermaid by default (paste into a Markdown file), or Graphviz DOT:

  quorum graph examples/workflows/hometown-distance.yaml
  quorum graph examples/workflows/draft-review-revise.yaml --format dot | dot -Tpng > graph.png
`;

/** Reads and validates a workflow file; problems are printed and null returned. */
export function readWorkflowFile(path: string) {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    process.stderr.write(
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`,
    );
    return null;
  }
  const parsed = parseDefinition(text, /\.json$/i.test(path) ? 'json' : 'yaml');
  if (!parsed.ok) {
    for (const p of parsed.problems) process.stderr.write(`${p.path}: ${p.message}\n`);
    return null;
  }
  return parsed;
}

export function graphCommand(argv: string[]): number {
  const { values, positionals } = parse(argv, { format: { type: 'string' } });
  if (values.help) {
    process.stdout.write(GRAPH_HELP);
    return 0;
  }
  const format = values.format ?? 'mermaid';
  if (!positionals[0] || (format !== 'mermaid' && format !== 'dot')) {
    process.stderr.write('usage: quorum graph <workflow.yaml> [--format mermaid|dot] (see --help)\n');
    return 2;
  }
  const parsed = readWorkflowFile(positionals[0]);
  if (!parsed) return 2;
  process.stdout.write(`${format === 'dot' ? toDot(parsed.definition) : toMermaid(parsed.definition)}\n`);
  return 0;
}
