import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { GatewayError } from '../errors/index.ts';
import { type RequestEnd, type RequestLog, surfaceOf } from '../request-log/index.ts';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_QUORUM_REQUEST_ID,
  ATTR_QUORUM_TEAM,
  ATTR_URL_PATH,
  failSpan,
  type Logger,
  metrics,
  NOOP_SPAN,
  type Span,
  SpanKind,
  tracer,
  tracing,
} from '../telemetry/index.ts';
import type { KeyRing } from './auth.ts';
import type { AnsweredHeaders, AppEnv, StreamEnd } from './env.ts';
import { requestHeader } from './request-header.ts';
import { newRequestId } from './request-id.ts';

/**
 * The x-quorum-* values of the response the client gets, when its handler gave them (json-answer.ts);
 * undefined once Hono has re-wrapped that response (to merge CORS headers in) or an error replaced it.
 */
function answeredHere(c: Context<AppEnv>): AnsweredHeaders | undefined {
  const answered = c.get('answered');
  return answered?.response === c.res ? answered : undefined;
}

/** How a request ended, for its record in the request log. */
function endOf(
  res: Response,
  status: number,
  info: StreamEnd,
  error: GatewayError | undefined,
  answered: AnsweredHeaders | undefined,
): RequestEnd {
  const failure = info.failure ?? error;
  const overhead = answered ? answered.overheadMs : res.headers.get('x-quorum-overhead-ms');
  return {
    status,
    models: answered ? answered.model : res.headers.get('x-quorum-model'),
    overheadMs: overhead === null ? null : Number(overhead),
    cache: answered ? answered.cache : res.headers.get('x-quorum-cache'),
    failure: failure && { status: failure.status, code: failure.code, message: failure.message },
    cancelled: info.cancelled === true,
    endedAt: performance.now(),
  };
}

const SERVER_SPAN = { kind: SpanKind.SERVER };

/**
 * Request id, the server span and the access log line. Streams end their span and log line when the
 * stream ends, through `deferEnd`.
 */
export function requestContext(logger: Logger): MiddlewareHandler<AppEnv> {
  return (c, next) => {
    const startedAt = performance.now();
    const requestId = newRequestId();
    c.set('requestId', requestId);
    c.set('startedAt', startedAt);
    const handle = async (span: Span) => {
      // Attributes only for a span that records (a sampler may drop it): keys computed from constants
      // make V8 build the object on its slow path.
      if (span.isRecording()) {
        span.setAttributes({
          [ATTR_HTTP_REQUEST_METHOD]: c.req.method,
          [ATTR_URL_PATH]: c.req.path,
          [ATTR_QUORUM_REQUEST_ID]: requestId,
        });
      }
      let deferred = false;
      const end = (info: StreamEnd = {}) => {
        const status = c.res.status;
        const failed = status >= 500 || Boolean(info.error);
        const route = routePath(c);
        const team = c.get('caller')?.team;
        if (span.isRecording()) {
          span.updateName(`${c.req.method} ${route}`);
          span.setAttribute(ATTR_HTTP_ROUTE, route);
          span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
          if (team) span.setAttribute(ATTR_QUORUM_TEAM, team);
          if (failed) failSpan(span, info.error ?? String(status));
        }
        span.end();
        metrics.requests.inc([route, String(status)]);
        metrics.requestSeconds.observe([route], (performance.now() - startedAt) / 1000);
        // The access log line only when it is written (a quiet level skips building it).
        if (logger.isLevelEnabled(failed ? 'warn' : 'info')) {
          const line = {
            req_id: requestId,
            method: c.req.method,
            path: c.req.path,
            status,
            team,
            model: c.res.headers.get('x-quorum-model') ?? undefined,
            cost_usd: c.res.headers.has('x-quorum-cost-usd')
              ? Number(c.res.headers.get('x-quorum-cost-usd'))
              : undefined,
            ms: Math.round((performance.now() - startedAt) * 1000) / 1000,
            ...(info.error ? { stream_error: info.error } : {}),
            ...(info.cancelled ? { client_gone: true } : {}),
          };
          if (failed) logger.warn(line, 'request failed');
          else logger.info(line, 'request');
        }
        c.get('draft')?.finish(endOf(c.res, status, info, c.get('failure'), answeredHere(c)));
      };
      c.set('deferEnd', () => {
        deferred = true;
        return end;
      });
      try {
        await next();
      } finally {
        // A response that carries its headers in a plain object has the id already (json-answer.ts).
        if (!answeredHere(c)) c.res.headers.set('x-quorum-request-id', requestId);
        if (!deferred) end();
      }
    };
    return tracing()
      ? tracer.startActiveSpan(`${c.req.method} ${c.req.path}`, SERVER_SPAN, handle)
      : handle(NOOP_SPAN);
  };
}

/** The caller, from its key; and, with a request log, the record a proxied request starts. */
export function authenticate(keys: KeyRing, log: RequestLog | undefined): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const caller = await keys.authenticate(requestHeader(c, 'authorization'), requestHeader(c, 'x-api-key'));
    c.set('caller', caller);
    const surface = log && c.req.method === 'POST' ? surfaceOf(c.req.path) : undefined;
    if (surface) c.set('draft', log!.begin(c.get('requestId'), surface, caller, c.get('startedAt')));
    await next();
  };
}
