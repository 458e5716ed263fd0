import type { Context } from 'hono';
import type { z } from 'zod';
import { formatPath } from '../config/format-path.ts';
import { GatewayError } from '../errors/index.ts';

/**
 * Reads and validates a JSON body. Parsing here (not in a validator middleware) lets a plain
 * `curl -d` without a content type work, and puts the JSON path of the first problem in `param`.
 */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const text = await c.req.text();
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new GatewayError('invalid_body', `The body is not valid JSON: ${(err as Error).message}`, {
      param: null,
    });
  }
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const param = issue.path.length ? formatPath(issue.path) : null;
  const more =
    result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more problem(s))` : '';
  throw new GatewayError('invalid_body', `${param ?? 'body'}: ${issue.message}${more}`, { param });
}
