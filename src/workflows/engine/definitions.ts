import {
  type Dag,
  inputExpansionExceeds,
  renderValue,
  type SchemaCompiler,
  validateDefinition,
  type WorkflowDefinition,
} from '../definition/index.ts';
import type { RunRecord } from '../state.ts';
import { EngineError } from './errors.ts';

/** Parsed definitions kept (ids are immutable: a definition never changes under its id). */
const DEFINITIONS_KEPT = 500;

export interface Parsed {
  definition: WorkflowDefinition;
  dag: Dag;
}

/** Workflow definitions as the engine uses them: parsed once per id, and the byte bounds of templates. */
export class Definitions {
  readonly #cache = new Map<string, Parsed>();
  readonly #schemaCompiler: SchemaCompiler | undefined;
  readonly #get: (id: string) => Promise<{ id: string; definition: unknown } | null>;

  constructor(
    get: (id: string) => Promise<{ id: string; definition: unknown } | null>,
    schemaCompiler: SchemaCompiler | undefined,
  ) {
    this.#get = get;
    this.#schemaCompiler = schemaCompiler;
  }

  /** A run's definition, parsed once per id (a definition never changes under its id). */
  async of(workflowId: string): Promise<Parsed> {
    const known = this.#cache.get(workflowId);
    if (known) return known;
    const workflow = await this.#get(workflowId);
    if (!workflow) throw new EngineError('not_found', `workflow "${workflowId}" not found`);
    const parsed = this.parse(workflow.definition, workflow.id);
    if (this.#cache.size >= DEFINITIONS_KEPT) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(workflowId, parsed);
    return parsed;
  }

  parse(stored: unknown, workflowId: string): Parsed {
    const parsed = validateDefinition(
      stored,
      this.#schemaCompiler ? { schemaCompiler: this.#schemaCompiler } : {},
    );
    if (!parsed.ok) {
      throw new EngineError('invalid', `workflow "${workflowId}" no longer parses`, parsed.problems);
    }
    return parsed;
  }
}

/**
 * Refuses a run whose inputs are too large, or whose templates already expand past the bound from the
 * inputs alone (before any step has spent anything).
 */
export function checkExpansion(
  definition: WorkflowDefinition,
  inputs: Record<string, unknown>,
  max: number,
): void {
  if (Buffer.byteLength(JSON.stringify(inputs)) > max) {
    throw new EngineError('invalid', `the inputs are larger than ${max} bytes (server.max_body_bytes)`, [
      { path: 'inputs', message: `larger than ${max} bytes` },
    ]);
  }
  const fields: [string, string | undefined][] = [];
  for (const [name, step] of Object.entries(definition.steps)) {
    fields.push(
      [`steps.${name}.system`, step.system],
      [`steps.${name}.prompt`, step.prompt],
      [`steps.${name}.artifact`, step.artifact],
      [`steps.${name}.until.criteria`, step.until?.criteria],
    );
  }
  for (const [name, template] of Object.entries(definition.outputs ?? {})) {
    fields.push([`outputs.${name}`, template]);
  }
  const problems = fields.flatMap(([path, template]) => {
    const at = template === undefined ? undefined : inputExpansionExceeds(template, inputs, max);
    return at === undefined
      ? []
      : [{ path, message: `with these inputs it expands to more than ${max} bytes (at ${at})` }];
  });
  if (problems.length) {
    throw new EngineError(
      'invalid',
      `the inputs make templates larger than ${max} bytes (server.max_body_bytes)`,
      problems,
    );
  }
}

/** The run's outputs rendered from its steps, or why they cannot be. */
export function renderOutputs(
  definition: WorkflowDefinition,
  run: RunRecord,
  maxBytes: number,
): { ok: true; value: Record<string, unknown> } | { ok: false; error: string } {
  const value: Record<string, unknown> = {};
  try {
    for (const [name, template] of Object.entries(definition.outputs ?? {})) {
      value[name] = renderValue(template, { inputs: run.inputs, steps: run.steps }, { maxBytes });
    }
  } catch (err) {
    return { ok: false, error: `outputs: ${(err as Error).message}` };
  }
  return { ok: true, value };
}
