/**
 * Probes. /healthz: the process answers. /readyz: configuration loaded, not shutting down, and the store
 * answering a trivial query (asked at most once a second), so a load balancer stops sending traffic
 * that could only fail while the database is down, and resumes by itself once it is back.
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { GatewayError } from '../../errors/index.ts';
import type { Store } from '../../store/index.ts';
import type { AppEnv } from '../env.ts';
import { storeUnavailable } from '../errors.ts';
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
  summary: 'Readiness: configuration loaded and the store answering',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: StatusSchema } } },
    503: {
      description: 'Starting, shutting down, or the store does not answer',
      content: { 'application/json': { schema: ErrorSchema } },
    },
  },
});

export function registerHealth(
  app: OpenAPIHono<AppEnv>,
  isReady: () => boolean,
  store?: Pick<Store, 'engine' | 'probe'>,
) {
  app.openAPIRegistry.registerPath(healthz);
  app.openAPIRegistry.registerPath(readyz);
  app.get('/healthz', (c) => c.json({ status: 'ok' as const }));
  app.get('/readyz', async (c) => {
    if (!isReady()) throw new GatewayError('not_ready', 'Quorum is starting or shutting down.');
    const reason = store ? await store.probe() : null;
    if (reason) throw storeUnavailable(`the ${store!.engine} store does not answer (${reason})`);
    return c.json({ status: 'ok' as const });
  });
}
