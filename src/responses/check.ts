/**
 * Checking one part of a Responses request by its `type`, with refusals that name the field: a type
 * Quorum cannot translate is a 400 saying so and what it can take, never a dropped item.
 */
import type { z } from 'zod';
import { formatPath } from '../config/format-path.ts';
import { GatewayError } from '../errors/index.ts';

/** A 400 whose `param` is the JSON path, its message starting with it. */
export function invalid(param: string, message: string): GatewayError {
  return new GatewayError('invalid_body', `${param}: ${message}`, { param });
}

/** `value` against `schema`, the first problem reported at `path` + its own path. */
export function parseAt<S extends z.ZodType>(schema: S, value: unknown, path: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const inner = [...issue.path];
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    inner.push(issue.keys[0]!);
    message = 'unknown field';
  }
  const param = inner.length ? `${path}${formatPath(inner).replace(/^(?!\[)/, '.')}` : path;
  throw invalid(param, message);
}

/** The `type` of an object (or `fallback` when it has none), refused unless `known` lists it. */
export function typeOf(
  value: unknown,
  path: string,
  known: readonly string[],
  what: string,
  fallback?: string,
): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(path, `expected an object`);
  }
  const type = (value as { type?: unknown }).type ?? fallback;
  if (typeof type !== 'string') throw invalid(`${path}.type`, `expected a string`);
  if (!known.includes(type)) {
    throw invalid(
      `${path}.type`,
      `${what} of type \`${type}\` cannot be translated by Quorum; it takes ${known.map((k) => `\`${k}\``).join(', ')}`,
    );
  }
  return type;
}
