import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { GatewayError, toGatewayError } from '../errors/index.ts';
import type { Logger } from '../telemetry/index.ts';

/** The JSON error response for any GatewayError, with its extra headers. */
export function errorResponse(c: Context, err: GatewayError): Response {
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
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

export function onError(logger: Logger) {
  return (err: Error, c: Context): Response => {
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
