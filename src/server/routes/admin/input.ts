/** Body and query validation, and store-error mapping, shared by the admin routes. */
import type { Context } from 'hono';
import type { z } from 'zod';
import { formatPath } from '../../../config/format-path.ts';
import { GatewayError } from '../../../errors/index.ts';
import { StoreError } from '../../../store/index.ts';
import { readBody } from '../../body.ts';

/** The first problem as a 400 whose param is its path; an unknown field is named, not its parent. */
function invalid(error: z.ZodError, what: string): GatewayError {
  const issue = error.issues[0]!;
  const path = [...issue.path];
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    path.push(issue.keys[0]!);
    message = `unknown ${what === 'query' ? 'query parameter' : 'field'}`;
  }
  const param = path.length ? formatPath(path) : null;
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem(s))` : '';
  return new GatewayError('invalid_body', `${param ?? what}: ${message}${more}`, { param });
}

/** A JSON body against a schema (413 past `maxBytes`, 400 for malformed JSON or a schema violation). */
export async function readAdminJson<S extends z.ZodType>(c: Context, schema: S, maxBytes: number) {
  const raw = await readBody(c, maxBytes);
  let data: unknown;
  try {
    data = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new GatewayError('invalid_body', `The body is not valid JSON: ${(err as Error).message}`, {
      param: null,
    });
  }
  const result = schema.safeParse(data);
  if (!result.success) throw invalid(result.error, 'body');
  return result.data as z.infer<S>;
}

/** The query string against a schema. */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  const result = schema.safeParse(c.req.query());
  if (!result.success) throw invalid(result.error, 'query');
  return result.data;
}

/** Runs a store call, mapping its errors: invalid/conflict → 400 invalid_body, not_found → 404. */
export async function fromStore<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;
    const kind = err.code === 'not_found' ? 'not_found' : 'invalid_body';
    throw new GatewayError(kind, err.message, { param: err.param });
  }
}
