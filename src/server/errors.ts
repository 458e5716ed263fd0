/**
 * How any failure becomes an HTTP answer: GatewayErrors as they are; Hono's own exceptions in our
 * terms; a database that is down or busy as a 503 a client may retry (recognised here once, whatever
 * route or middleware met it); anything else as a logged 500 that reveals nothing.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { anthropicError, GatewayError, toGatewayError } from '../errors/index.ts';
import { isInvalidValue, isStoreUnavailable, StoreError, unavailableReason } from '../store/errors.ts';
import type { Logger } from '../telemetry/index.ts';
import { EngineError } from '../workflows/engine/errors.ts';

/** Seconds a client is told to wait before retrying while the store is down. */
const STORE_RETRY_AFTER_S = 5;

export function storeUnavailable(detail: string, cause?: unknown): GatewayError {
  return new GatewayError(
    'store_unavailable',
    `The gateway's database is unavailable: ${detail}. Retry later.`,
    {
      headers: { 'retry-after': String(STORE_RETRY_AFTER_S) },
      cause,
    },
  );
}

/** The Anthropic Messages surface: its errors, every one, take Anthropic's shape. */
const ANTHROPIC_SURFACE = /^\/v1\/messages(?:\/|$)/;

/**
 * The JSON error response for any GatewayError, with its extra headers: Anthropic's shape on the
 * Messages surface, OpenAI's everywhere else.
 */
export function errorResponse(c: Context, err: GatewayError): Response {
  // The request log records which error the client got.
  c.set('failure' as never, err as never);
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
  if (ANTHROPIC_SURFACE.test(c.req.path)) {
    const { status, body } = anthropicError(err, c.get('requestId' as never));
    return c.json(body, status as 400);
  }
  return c.json(err.toBody(), err.status as 400);
}

/** Hono's own exceptions (a malformed request line or header, …) in our terms. */
function fromHono(err: HTTPException): GatewayError {
  if (err.status < 500)
    return new GatewayError('invalid_body', err.message || 'Malformed request.', { param: null });
  return new GatewayError('internal_error', 'The gateway hit an internal error; it has been logged.', {
    cause: err,
  });
}

/**
 * A failure the database reported — down, or refusing a value the request sent: what wraps it (an
 * internal error, an engine error) does not matter.
 */
function fromStore(err: Error): GatewayError | null {
  if (err instanceof GatewayError && err.kind !== 'internal_error') return null;
  if (isInvalidValue(err)) {
    return new GatewayError(
      'invalid_body',
      'A value in the request cannot be stored (a NUL character, or a number or date out of range).',
      { param: null, cause: err },
    );
  }
  if (!isStoreUnavailable(err)) return null;
  return storeUnavailable(`it does not answer (${unavailableReason(err)})`, err);
}

/** The store's and the workflow engine's own codes, in the API's terms. */
const DOMAIN_KIND = { invalid: 'invalid_body', not_found: 'not_found', conflict: 'conflict' } as const;

/**
 * The one map from domain failures to the error table: a StoreError or an EngineError by its code, a
 * database that is down or refuses a value; null for anything else. Routes that want a more specific
 * message catch the result; everything else reaches `onError`, which applies it.
 */
export function domainError(err: unknown): GatewayError | null {
  if (err instanceof StoreError)
    return new GatewayError(DOMAIN_KIND[err.code], err.message, { param: err.param });
  if (err instanceof EngineError) {
    if (err.code !== 'invalid') return new GatewayError(DOMAIN_KIND[err.code], err.message);
    const problems = err.problems.map((p) => `${p.path}: ${p.message}`).join('\n');
    return new GatewayError('invalid_body', problems ? `${err.message}\n${problems}` : err.message, {
      param: err.problems[0]?.path ?? null,
    });
  }
  return err instanceof Error ? fromStore(err) : null;
}

export function onError(logger: Logger) {
  return (err: Error, c: Context): Response => {
    const storeErr = domainError(err);
    if (storeErr) {
      if (storeErr.kind === 'store_unavailable') {
        logger.warn({ err, req_id: c.get('requestId' as never) }, 'store unavailable');
      }
      return errorResponse(c, storeErr);
    }
    const gwErr = err instanceof HTTPException ? fromHono(err) : toGatewayError(err);
    if (gwErr.status >= 500 && gwErr.kind === 'internal_error') {
      logger.error({ err, req_id: c.get('requestId' as never) }, 'unhandled error');
    }
    return errorResponse(c, gwErr);
  };
}

export function notFound(c: Context): Response {
  return errorResponse(
    c,
    new GatewayError(
      'not_found',
      `Unknown route ${c.req.method} ${c.req.path}. See GET /openapi.json for the API.`,
    ),
  );
}
