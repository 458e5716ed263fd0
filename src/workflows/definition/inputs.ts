import { didYouMean, type Problem } from './problems.ts';
import { hasInputType, type InputType, type WorkflowDefinition } from './schema.ts';

export interface ResolveInputsOptions {
  /**
   * Values arrive as text (a CLI's `--input n=3`): read numbers, `true`/`false` and JSON objects/arrays
   * from strings where the input's type asks for them.
   */
  fromText?: boolean;
}

function fromText(value: unknown, type: InputType): unknown {
  if (typeof value !== 'string' || type === 'string') return value;
  const text = value.trim();
  if (type === 'number') return text !== '' && Number.isFinite(Number(text)) ? Number(text) : value;
  if (type === 'boolean') return text === 'true' ? true : text === 'false' ? false : value;
  try {
    return JSON.parse(text);
  } catch {
    return value;
  }
}

/**
 * A run's inputs checked against the definition: unknown names, missing required inputs (those without
 * a `default`) and wrong types are problems (`inputs.a: …`); defaults fill in what was not given.
 */
export function resolveInputs(
  definition: Pick<WorkflowDefinition, 'inputs'>,
  given: unknown,
  options: ResolveInputsOptions = {},
): { ok: true; inputs: Record<string, unknown> } | { ok: false; problems: Problem[] } {
  if (given !== undefined && (typeof given !== 'object' || given === null || Array.isArray(given))) {
    return { ok: false, problems: [{ path: 'inputs', message: 'inputs is an object: input name → value' }] };
  }
  const values = (given ?? {}) as Record<string, unknown>;
  const declared = Object.keys(definition.inputs);
  const problems: Problem[] = [];
  const inputs: Record<string, unknown> = {};
  for (const name of Object.keys(values)) {
    if (!Object.hasOwn(definition.inputs, name)) {
      problems.push({
        path: `inputs.${name}`,
        message: `unknown input${didYouMean(name, declared)}; this workflow takes ${declared.join(', ') || 'no inputs'}`,
      });
    }
  }
  for (const [name, spec] of Object.entries(definition.inputs)) {
    let value = Object.hasOwn(values, name) ? values[name] : undefined;
    if (value === undefined) {
      if (spec.default === undefined) {
        problems.push({ path: `inputs.${name}`, message: `required: give a ${spec.type}` });
        continue;
      }
      value = structuredClone(spec.default);
    }
    if (options.fromText) value = fromText(value, spec.type);
    if (!hasInputType(value, spec.type)) {
      problems.push({ path: `inputs.${name}`, message: `expected a ${spec.type}` });
      continue;
    }
    inputs[name] = value;
  }
  return problems.length ? { ok: false, problems } : { ok: true, inputs };
}
