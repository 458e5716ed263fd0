/**
 * Did an answer to a `response_format: json_schema` request break its schema? Only what is certain and
 * cheap is checked — the answer is JSON; `type`, `required`, `enum`/`const` of scalars, `properties`,
 * `additionalProperties: false` and `items`, recursively — within a fixed budget of checks. The schema
 * is the client's: a full validator would compile it (seconds for a large one) and run its `pattern`s
 * (a catastrophic one blocks the event loop for everyone), so patterns, formats, `$ref` and the
 * combinators are not evaluated. A violation found is a violation; nothing found is not proof of one.
 */
import type { ChatRequest } from '../chat/index.ts';

/** Schema nodes checked against values, at most, per answer. */
const BUDGET = 2_000;
const MAX_DEPTH = 32;

/** The request's JSON schema, or undefined when it asks for none. */
export function requestedSchema(
  request: Pick<ChatRequest, 'response_format'>,
): Record<string, unknown> | undefined {
  const format = request.response_format as { type?: string; json_schema?: { schema?: unknown } } | undefined;
  if (format?.type !== 'json_schema') return undefined;
  const schema = format.json_schema?.schema;
  return isObject(schema) ? schema : undefined;
}

/** True when the text is not JSON, or its value certainly breaks the schema. */
export function breaksSchema(schema: Record<string, unknown>, text: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return true;
  }
  return violates(schema, value, 0, { left: BUDGET });
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function hasType(type: string, value: unknown): boolean {
  switch (type) {
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number';
    case 'integer':
      return Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    default:
      return true; // a type this check does not know cannot be broken
  }
}

const scalar = (x: unknown) => x === null || (typeof x !== 'object' && typeof x !== 'function');

function violates(schema: unknown, value: unknown, depth: number, budget: { left: number }): boolean {
  if (--budget.left < 0 || depth > MAX_DEPTH) return false;
  if (schema === false) return true;
  if (!isObject(schema)) return false;
  const { type } = schema;
  if (typeof type === 'string' && !hasType(type, value)) return true;
  if (Array.isArray(type) && type.length && !type.some((t) => typeof t !== 'string' || hasType(t, value))) {
    return true;
  }
  if (scalar(value)) {
    if ('const' in schema && scalar(schema.const) && schema.const !== value) return true;
    const options = schema.enum;
    if (Array.isArray(options) && options.length && options.every(scalar) && !options.includes(value)) {
      return true;
    }
    return false;
  }
  if (Array.isArray(value)) {
    if (!isObject(schema.items)) return false;
    for (const item of value) if (violates(schema.items, item, depth + 1, budget)) return true;
    return false;
  }
  const object = value as Record<string, unknown>;
  if (Array.isArray(schema.required)) {
    for (const key of schema.required)
      if (typeof key === 'string' && !Object.hasOwn(object, key)) return true;
  }
  const properties = isObject(schema.properties) ? schema.properties : undefined;
  if (properties) {
    for (const key of Object.keys(properties)) {
      if (Object.hasOwn(object, key) && violates(properties[key], object[key], depth + 1, budget))
        return true;
    }
  }
  if (schema.additionalProperties === false && !isObject(schema.patternProperties)) {
    for (const key of Object.keys(object)) if (!properties || !Object.hasOwn(properties, key)) return true;
  }
  return false;
}
