import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { GatewayError } from '../../errors/index.ts';
import type { AppEnv } from '../env.ts';
import { ErrorSchema, StatusSchema } from '../schemas.ts';

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  summary: 'Liveness: the process is up',
  responses: { 200: { description: 'Alive', content: { 'application/json': { schema: StatusSchema } } } },
});

const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  summary: 'Readiness: configuration loaded and store open',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: StatusSchema } } },
    503: {
      description: 'Starting or shutting down',
      content: { 'application/json': { schema: ErrorSchema } },
    },
  },
});

export function registerHealth(app: OpenAPIHono<AppEnv>, isReady: () => boolean) {
  app.openAPIRegistry.registerPath(healthz);
  app.openAPIRegistry.registerPath(readyz);
  app.get('/healthz', (c) => c.json({ status: 'ok' as const }));
  app.get('/readyz', (c) => {
    if (!isReady()) throw new GatewayError('not_ready', 'Quorum is starting or shutting down.');
    return c.json({ status: 'ok' as const });
  });
}
