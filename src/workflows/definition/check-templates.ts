import { didYouMean, listNames, type Problem } from './problems.ts';
import { INPUT_TYPES } from './schema.ts';
import { extractReferences } from './template.ts';

/** What a template may read, as the definition (even a broken one) declares it. */
export interface TemplateScope {
  /** Declared inputs: name → declared type (when valid). */
  inputs: ReadonlyMap<string, string | undefined>;
  /** Every step: name → what its output is. */
  steps: ReadonlyMap<string, { output: unknown; type: unknown; schema: unknown }>;
  /** The step whose template this is (undefined for run outputs, which may read any step). */
  reader?: string;
  /** The steps `reader` needs, directly or transitively. */
  readable?: ReadonlySet<string>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a field path against a step's JSON Schema where the schema is explicit about it: a property
 * it does not list (and no `additionalProperties`/`patternProperties` allow), an index into a non-array.
 */
function schemaPathProblem(schema: unknown, path: readonly string[]): string | undefined {
  let node = schema;
  const seen: string[] = [];
  for (const segment of path) {
    if (!isObject(node)) return undefined;
    const type = node.type;
    if (type === 'array' || (node.items !== undefined && type === undefined)) {
      if (!/^\d+$/.test(segment)) {
        return `output${seen.map((s) => `.${s}`).join('')} is an array; read items by index`;
      }
      node = Array.isArray(node.prefixItems) ? (node.prefixItems[Number(segment)] ?? node.items) : node.items;
    } else if (isObject(node.properties)) {
      if (!Object.hasOwn(node.properties, segment)) {
        if (node.additionalProperties !== undefined && node.additionalProperties !== false) return undefined;
        if (node.patternProperties !== undefined) return undefined;
        const where = seen.length ? `output.${seen.join('.')}` : 'output';
        return (
          `its schema gives ${where} no field "${segment}"${didYouMean(segment, Object.keys(node.properties))}` +
          ` (fields: ${Object.keys(node.properties).join(', ') || 'none'})`
        );
      }
      node = node.properties[segment];
    } else {
      return undefined;
    }
    seen.push(segment);
  }
  return undefined;
}

/** Problems with one template field (`path` is where the template is, e.g. `steps.distance.prompt`). */
export function checkTemplate(text: string, path: string, scope: TemplateScope): Problem[] {
  const problems: Problem[] = [];
  const add = (message: string) => problems.push({ path, message });
  const { references, errors } = extractReferences(text);
  for (const error of errors) add(error.message);
  for (const ref of references) {
    if (ref.kind === 'feedback') continue;
    if (ref.kind === 'input') {
      if (!scope.inputs.has(ref.name)) {
        add(
          `${ref.raw}: unknown input "${ref.name}"${didYouMean(ref.name, scope.inputs.keys())}; ` +
            `declare it under inputs (declared: ${listNames(scope.inputs.keys())})`,
        );
        continue;
      }
      const type = scope.inputs.get(ref.name);
      const structured = type === 'object' || type === 'array' || !INPUT_TYPES.includes(type as never);
      if (ref.path.length && !structured) {
        add(
          `${ref.raw}: input "${ref.name}" is a ${type}, so it has no fields; write {{ inputs.${ref.name} }}`,
        );
      }
      continue;
    }
    const target = scope.steps.get(ref.step);
    if (!target) {
      add(
        `${ref.raw}: unknown step "${ref.step}"${didYouMean(ref.step, scope.steps.keys())} ` +
          `(steps: ${listNames(scope.steps.keys())})`,
      );
      continue;
    }
    if (scope.reader !== undefined) {
      if (ref.step === scope.reader) {
        add(
          `${ref.raw}: a step cannot read its own output; use {{ feedback }} for the critique of its last attempt`,
        );
        continue;
      }
      if (!scope.readable?.has(ref.step)) {
        add(
          `${ref.raw}: "${scope.reader}" does not need "${ref.step}", so its output may not exist yet; ` +
            `add "${ref.step}" to steps.${scope.reader}.needs`,
        );
        continue;
      }
    }
    if (ref.path.length) {
      if (target.type === 'approval') continue;
      if (target.output !== 'json') {
        add(
          `${ref.raw}: steps.${ref.step} has text output, so it has no fields; ` +
            `set output: json on "${ref.step}" (with a schema) or write {{ steps.${ref.step}.output }}`,
        );
        continue;
      }
      const problem = schemaPathProblem(target.schema, ref.path);
      if (problem) add(`${ref.raw}: ${problem}`);
    }
  }
  return problems;
}
