/**
 * Probes. /healthz: the process answers (liveness; never asks anything else, so a database outage
 * does not get every instance restarted). /readyz: started, not draining, and the services a request
 * needs answering — the store, and Redis when budgets and rate limits are shared through it and fail
 * closed. Each dependency is asked at most once a second however many probes arrive (a load balancer
 * hammering /readyz costs one query a second), and the body names which one is down:
 * `{"status":"unavailable","checks":{"store":"ok","redis":"down"},"error":{…}}`.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { GatewayError } from '../../errors/index.ts';
import type { StoreProbe } from '../../store/index.ts';
import type { AppEnv } from '../env.ts';
import { storeUnavailable } from '../errors.ts';
import { ErrorSchema, StatusSchema } from '../schemas.ts';

/** Where the process is in its life: /readyz answers 503 unless `ready`. */
export type Lifecycle = 'starting' | 'ready' | 'draining';

/** A dependency /readyz asks about. */
export interface ReadinessCheck {
  probe: StoreProbe;
  /** Its outage makes the instance not ready (false: reported as `down` only, e.g. Redis failing open). */
  required: boolean;
  /** What to say when it is down, given the probe's reason. */
  unavailable: (reason: string) => GatewayError;
}

export interface HealthOptions {
  lifecycle: () => Lifecycle;
  /** By name, as the body's `checks` shows them: `store`, `redis`. */
  checks: Record<string, ReadinessCheck>;
}

/** Seconds a client is told to wait while Redis is down (as a request refused for it is). */
const REDIS_RETRY_AFTER_S = 1;

/** The shared budgets and rate limits do not answer. */
export function redisUnavailable(reason: string): GatewayError {
  return new GatewayError(
    'limits_unavailable',
    `Redis (shared budgets and rate limits) does not answer (${reason}). Retry later.`,
    { headers: { 'retry-after': String(REDIS_RETRY_AFTER_S) } },
  );
}

/** The store's check, worded as every other store outage is. */
export function storeCheck(engine: string, probe: StoreProbe): ReadinessCheck {
  return {
    probe,
    required: true,
    unavailable: (reason) => storeUnavailable(`the ${engine} store does not answer (${reason})`),
  };
}

const CheckStates = z.record(z.string(), z.enum(['ok', 'down'])).openapi({
  description: 'Each dependency asked: `store`, and `redis` when QUORUM_REDIS_URL is set',
  example: { store: 'ok', redis: 'down' },
});

const ReadySchema = StatusSchema.extend({
  status: z.enum(['ok', 'degraded']).openapi({
    description: '`degraded`: a dependency that is not required (Redis failing open) is down',
  }),
  checks: CheckStates,
}).openapi('Readiness');

const NotReadySchema = ErrorSchema.extend({
  status: z.enum(['starting', 'draining', 'unavailable']),
  checks: CheckStates.optional(),
}).openapi('NotReady');

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  summary: 'Liveness: the process is up',
  responses: { 200: { description: 'Alive', content: { 'application/json': { schema: StatusSchema } } } },
});

const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  summary: 'Readiness: started, not draining, and the store and Redis answering',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: ReadySchema } } },
    503: {
      description:
        'Starting, draining after SIGTERM, or the store or Redis does not answer (named in `checks` and the error)',
      content: { 'application/json': { schema: NotReadySchema } },
    },
  },
});

export function registerHealth(app: OpenAPIHono<AppEnv>, options: HealthOptions) {
  app.openAPIRegistry.registerPath(healthz);
  app.openAPIRegistry.registerPath(readyz);
  app.get('/healthz', (c) => c.json({ status: 'ok' as const }));
  app.get('/readyz', async (c) => {
    const state = options.lifecycle();
    if (state !== 'ready') {
      const err = new GatewayError(
        'not_ready',
        state === 'draining'
          ? 'Quorum is shutting down: it finishes the requests it has and takes no new ones.'
          : 'Quorum is starting.',
      );
      return c.json({ status: state, ...err.toBody() }, 503);
    }
    const names = Object.keys(options.checks);
    const reasons = await Promise.all(names.map((name) => options.checks[name]!.probe()));
    const checks: Record<string, 'ok' | 'down'> = {};
    const failures: GatewayError[] = [];
    names.forEach((name, i) => {
      const reason = reasons[i];
      checks[name] = reason === null ? 'ok' : 'down';
      const check = options.checks[name]!;
      if (reason !== null && reason !== undefined && check.required) failures.push(check.unavailable(reason));
    });
    if (!failures.length) {
      return c.json({ status: Object.values(checks).includes('down') ? 'degraded' : 'ok', checks } as const);
    }
    // The first failure's code (the store before Redis); the message names every one.
    const first = failures[0]!;
    const err = new GatewayError(first.kind, failures.map((f) => f.message).join(' '), {
      ...(first.headers ? { headers: first.headers } : {}),
    });
    for (const [k, v] of Object.entries(err.headers ?? {})) c.header(k, v);
    return c.json({ status: 'unavailable' as const, checks, ...err.toBody() }, 503);
  });
}
