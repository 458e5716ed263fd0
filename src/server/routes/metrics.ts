import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { metrics } from '../../telemetry/index.ts';
import type { AppEnv } from '../env.ts';

const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  summary: 'Prometheus metrics: requests, upstream calls, spend, tokens, refusals, soft-limit crossings',
  responses: {
    200: {
      description: 'Prometheus text exposition format',
      content: { 'text/plain': { schema: { type: 'string' } } },
    },
  },
});

export function registerMetrics(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerPath(metricsRoute);
  app.get(metricsRoute.path, async (c) =>
    c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
  );
}
