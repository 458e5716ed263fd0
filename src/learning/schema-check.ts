/**
 * Does an answer to a `response_format: json_schema` request hold to its schema? The workflows' Ajv
 * compiler (draft 2020-12) does the checking; compiled schemas are kept by their JSON text in a small
 * LRU, since each request brings its own schema object and apps send the same few again and again.
 */
import { LRUCache } from 'lru-cache';
import type { ChatRequest } from '../chat/index.ts';
import { builtinSchemaCompiler, type CompiledSchema } from '../workflows/definition/index.ts';

/** A schema the compiler refuses (an unknown keyword, say) cannot judge an answer: null. */
const compiled = new LRUCache<string, { validate: CompiledSchema | null }>({ max: 200 });

/** The request's JSON schema, or undefined when it asks for none. */
export function requestedSchema(
  request: Pick<ChatRequest, 'response_format'>,
): Record<string, unknown> | undefined {
  const format = request.response_format as { type?: string; json_schema?: { schema?: unknown } } | undefined;
  if (format?.type !== 'json_schema') return undefined;
  const schema = format.json_schema?.schema;
  return schema && typeof schema === 'object' && !Array.isArray(schema)
    ? (schema as Record<string, unknown>)
    : undefined;
}

/** False when the text is not JSON valid for the schema; null when the schema cannot be used. */
export function holdsToSchema(schema: Record<string, unknown>, text: string): boolean | null {
  const key = JSON.stringify(schema);
  let entry = compiled.get(key);
  if (!entry) {
    const result = builtinSchemaCompiler.compile(JSON.parse(key) as Record<string, unknown>);
    entry = { validate: result.ok ? result.validate : null };
    compiled.set(key, entry);
  }
  if (!entry.validate) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  return entry.validate(value).ok;
}
