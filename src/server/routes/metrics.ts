/**
 * GET /metrics, Prometheus text. It shows every team's spend, so it is not public: with `metrics.key`
 * it needs that key (or the master key) as a bearer token; without one it answers loopback peers only,
 * which is where a local Prometheus or a sidecar scrapes from. With `metrics.port` it is served on a
 * listener of its own (see `createMetricsApp`) that the operator exposes to the scraper alone.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { GatewayError } from '../../errors/index.ts';
import { type Logger, metrics } from '../../telemetry/index.ts';
import { hostGuard } from '../browser-guards.ts';
import { type AppEnv, nodeIncoming } from '../env.ts';
import { notFound, onError } from '../errors.ts';
import { isLoopbackAddress } from '../loopback.ts';
import { ErrorSchema } from '../schemas.ts';

const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  summary: 'Prometheus metrics: requests, upstream calls, spend, tokens, refusals, soft-limit crossings',
  description:
    'Needs `Authorization: Bearer <metrics.key>` (or the master key) when `metrics.key` is set; otherwise answers loopback peers only.',
  responses: {
    200: {
      description: 'Prometheus text exposition format',
      content: { 'text/plain': { schema: { type: 'string' } } },
    },
    401: {
      description: 'Missing or wrong metrics key',
      content: { 'application/json': { schema: ErrorSchema } },
    },
    403: { description: 'Not a loopback peer', content: { 'application/json': { schema: ErrorSchema } } },
  },
});

export interface MetricsAccess {
  /** `metrics.key`: required as a bearer token when set. */
  key?: string | undefined;
  /** QUORUM_MASTER_KEY, accepted wherever the metrics key is. */
  masterKey?: string | undefined;
  /** A listener of its own (`metrics.port`) without a key: whoever reaches the port may read. */
  dedicatedListener?: boolean;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

function metricsAccess(access: MetricsAccess): MiddlewareHandler<AppEnv> {
  const accepted = [access.key, access.key ? access.masterKey : undefined]
    .filter((k): k is string => !!k)
    .map(digest);
  return async (c, next) => {
    if (accepted.length) {
      const token = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization')?.trim() ?? '')?.[1]?.trim();
      const presented = token ? digest(token) : null;
      if (!presented || !accepted.some((k) => timingSafeEqual(k, presented))) {
        throw new GatewayError(
          'invalid_api_key',
          'GET /metrics needs `Authorization: Bearer <metrics.key>`.',
        );
      }
    } else if (!access.dedicatedListener) {
      const peer = nodeIncoming(c)?.socket.remoteAddress;
      if (!isLoopbackAddress(peer)) {
        throw new GatewayError(
          'metrics_not_allowed',
          'GET /metrics answers only local clients; set metrics.key to let a remote scraper in with that key, or metrics.port to serve it on a port of its own.',
        );
      }
    }
    await next();
  };
}

export function registerMetrics(app: OpenAPIHono<AppEnv>, access: MetricsAccess = {}) {
  app.openAPIRegistry.registerPath(metricsRoute);
  app.get(metricsRoute.path, metricsAccess(access), async (c) =>
    c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
  );
}

/** The app behind `metrics.port`: /metrics and nothing else. */
export function createMetricsApp(options: {
  logger: Logger;
  key?: string | undefined;
  masterKey?: string | undefined;
  /** Open mode: the same `Host` rule as the main port. */
  open: boolean;
  allowedHosts: readonly string[];
}): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  app.use('*', hostGuard(options.open, options.allowedHosts));
  registerMetrics(app, { key: options.key, masterKey: options.masterKey, dedicatedListener: true });
  app.onError(onError(options.logger));
  app.notFound(notFound);
  return app;
}
