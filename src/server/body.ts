/**
 * Reading request bodies: the raw bytes under `server.max_body_bytes`, JSON bounded in depth by
 * `server.max_json_depth`, then a zod schema, with the first problem's JSON path as the error's `param`.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import { formatPath } from '../config/format-path.ts';
import { GatewayError } from '../errors/index.ts';
import { nodeIncoming } from './env.ts';
import { nestingDepthExceeds } from './nesting.ts';
import { requestHeader } from './request-header.ts';

/** The depth used when a caller passes only a byte limit (the config default). */
export const DEFAULT_MAX_JSON_DEPTH = 64;

/** The server settings a body reader obeys; a bare number is `max_body_bytes` with the default depth. */
export type BodyLimits = number | { max_body_bytes: number; max_json_depth?: number };

function tooLarge(max: number): GatewayError {
  return new GatewayError(
    'body_too_large',
    `The request body is larger than ${max} bytes (server.max_body_bytes).`,
  );
}

/**
 * The raw body, refused with 413 as soon as it passes `max` bytes (declared or counted). On Node it is
 * read straight from the socket, skipping the web-stream Request a generic reader would build.
 */
export function readBody(c: Context, max: number): Promise<Buffer> {
  const declared = requestHeader(c, 'content-length');
  if (declared !== undefined && Number(declared) > max) return Promise.reject(tooLarge(max));
  const incoming = nodeIncoming(c);
  if (!incoming) {
    return c.req.arrayBuffer().then((buf) => {
      if (buf.byteLength > max) throw tooLarge(max);
      return Buffer.from(buf);
    });
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        // Keep draining (so the 413 can be answered on this connection) but stop keeping the bytes.
        incoming.off('data', onData);
        incoming.resume();
        reject(tooLarge(max));
      } else chunks.push(chunk);
    };
    incoming.on('data', onData);
    incoming.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    incoming.once('error', reject);
  });
}

/**
 * The first problem as a 400 whose `param` is its JSON path; an unknown field is named itself rather than
 * its parent object.
 */
export function validationError(error: z.ZodError, what: 'body' | 'query' = 'body'): GatewayError {
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

/**
 * A 400 when a parsed body nests deeper than `maxDepth`; `param` is the path to where it gets too deep
 * (its first steps), or null when that is the body itself.
 */
export function checkNesting(data: unknown, maxDepth: number): void {
  const problem = nestingDepthExceeds(data, maxDepth);
  if (!problem) return;
  const param = problem.path.length ? formatPath(problem.path) : null;
  throw new GatewayError(
    'invalid_body',
    `The body is nested deeper than ${maxDepth} levels${param ? ` (at ${param})` : ''}; the limit is the server.max_json_depth setting.`,
    { param },
  );
}

/**
 * Reads and validates a JSON body (its content type was checked by the browser guards before any route).
 * Parsing here rather than in a validator middleware puts the JSON path of the first problem in `param`.
 * The depth check comes before the schema: validation itself recurses.
 */
export async function readJson<S extends z.ZodType>(
  c: Context,
  schema: S,
  limits: BodyLimits,
): Promise<z.infer<S>> {
  return (await readJsonText(c, schema, limits)).data;
}

/**
 * readJson, also giving the body's text as it arrived: for a surface that passes the client's bytes
 * on (the Anthropic Messages passthrough).
 */
export async function readJsonText<S extends z.ZodType>(
  c: Context,
  schema: S,
  limits: BodyLimits,
): Promise<{ text: string; data: z.infer<S> }> {
  const maxBytes = typeof limits === 'number' ? limits : limits.max_body_bytes;
  const maxDepth =
    typeof limits === 'number' ? DEFAULT_MAX_JSON_DEPTH : (limits.max_json_depth ?? DEFAULT_MAX_JSON_DEPTH);
  const text = (await readBody(c, maxBytes)).toString('utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new GatewayError('invalid_body', `The body is not valid JSON: ${(err as Error).message}`, {
      param: null,
    });
  }
  checkNesting(data, maxDepth);
  const result = schema.safeParse(data);
  if (result.success) return { text, data: result.data };
  throw validationError(result.error);
}

/** The query string against a schema. */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  const result = schema.safeParse(c.req.query());
  if (!result.success) throw validationError(result.error, 'query');
  return result.data;
}
