/**
 * The `response_format` a JSON step sends upstream. With a `schema` and models that support JSON output,
 * the schema itself goes (`json_schema`), so the provider constrains the reply instead of the step
 * repairing it afterwards; `strict: true` only when the schema is within what strict structured outputs
 * accept, since a provider refuses a strict schema outside that subset. Otherwise `json_object`. Either
 * way the engine still validates the reply against the schema.
 */
import type { ChatRequest } from '../chat/index.ts';

type ResponseFormat = NonNullable<ChatRequest['response_format']>;

/** A `json_schema.name` providers accept: 1-64 letters, digits, `_` or `-`. */
export function schemaName(step: string): string {
  const name = step.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  return name || 'output';
}

export function jsonSchemaFormat(step: string, schema: Record<string, unknown>): ResponseFormat {
  return {
    type: 'json_schema',
    json_schema: {
      name: schemaName(step),
      schema,
      ...(strictCompatible(schema) && { strict: true }),
    },
  };
}

export const JSON_OBJECT: ResponseFormat = { type: 'json_object' };

/** Keywords strict structured outputs accept; any other keyword makes the schema non-strict. */
const STRICT_KEYWORDS = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'anyOf',
  'description',
  'title',
  '$defs',
  '$ref',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minItems',
  'maxItems',
]);
const MAX_DEPTH = 10;
const MAX_PROPERTIES = 5000;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Whether strict mode accepts the schema: an object at the root; every object closed
 * (`additionalProperties: false`) with every property required; only the keywords above; at most 10
 * levels deep and 5,000 properties.
 */
export function strictCompatible(schema: Record<string, unknown>): boolean {
  if (schema.type !== 'object' || 'anyOf' in schema) return false;
  let properties = 0;
  const walk = (node: unknown, depth: number): boolean => {
    if (!isObject(node) || depth > MAX_DEPTH) return false;
    for (const key of Object.keys(node)) if (!STRICT_KEYWORDS.has(key)) return false;
    const types = Array.isArray(node.type) ? node.type : [node.type];
    if (types.includes('object') || 'properties' in node) {
      if (node.additionalProperties !== false) return false;
      const props = isObject(node.properties) ? node.properties : {};
      const keys = Object.keys(props);
      properties += keys.length;
      const required = Array.isArray(node.required) ? node.required : [];
      if (properties > MAX_PROPERTIES || !keys.every((k) => required.includes(k))) return false;
      if (!keys.every((k) => walk(props[k], depth + 1))) return false;
    }
    if ('items' in node && !walk(node.items, depth + 1)) return false;
    if ('anyOf' in node && !(Array.isArray(node.anyOf) && node.anyOf.every((s) => walk(s, depth + 1))))
      return false;
    if ('$defs' in node) {
      if (!isObject(node.$defs)) return false;
      if (!Object.values(node.$defs).every((s) => walk(s, depth + 1))) return false;
    }
    return true;
  };
  return walk(schema, 1);
}
