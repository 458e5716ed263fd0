import { OpenAPIHono } from '@hono/zod-openapi';
import type { Alerts } from '../alerts/index.ts';
import type { Gateway } from '../gateway/index.ts';
import type { Learner } from '../learning/index.ts';
import type { RequestLog } from '../request-log/index.ts';
import type { Store } from '../store/index.ts';
import type { Logger } from '../telemetry/index.ts';
import type { Engine } from '../workflows/engine/index.ts';
import type { EventHub } from '../workflows/event-hub.ts';
import { KeyRing } from './auth.ts';
import { requestGuards } from './browser-guards.ts';
import type { AppEnv } from './env.ts';
import { notFound, onError } from './errors.ts';
import { authenticate, requestContext } from './middleware.ts';
import { registerAdmin } from './routes/admin/index.ts';
import { registerBudget } from './routes/budget.ts';
import { registerChat } from './routes/chat.ts';
import { registerConsensus } from './routes/consensus.ts';
import { registerEmbeddings } from './routes/embeddings.ts';
import { registerFeedback } from './routes/feedback.ts';
import {
  type Lifecycle,
  type ReadinessCheck,
  redisUnavailable,
  registerHealth,
  storeCheck,
} from './routes/health.ts';
import { registerMessages } from './routes/messages.ts';
import { registerMetrics } from './routes/metrics.ts';
import { registerModels } from './routes/models.ts';
import { registerRequests } from './routes/requests/index.ts';
import { registerResponses } from './routes/responses/index.ts';
import { registerReviews } from './routes/reviews.ts';
import { registerRoute } from './routes/route.ts';
import { registerUi } from './routes/ui.ts';
import { registerUsage } from './routes/usage/index.ts';
import { registerWhoami } from './routes/whoami.ts';
import { registerWorkflowDefinitions } from './routes/workflows/definitions.ts';
import { registerWorkflowRuns } from './routes/workflows/runs.ts';

export interface AppOptions {
  gateway: Gateway;
  logger: Logger;
  masterKey?: string;
  /** The store: keys made through the admin API, teams, the ledger. */
  store?: Store;
  /** The workflow engine and its live event hub (with a store). */
  workflows?: { engine: Engine; hub: EventHub };
  /** Where the process is in its life, for /readyz; defaults to always ready. */
  lifecycle?: () => Lifecycle;
  /** The request log (with a store): every proxied request recorded, and GET /v1/requests. */
  requestLog?: RequestLog;
  /** What the router learns from outcomes: POST /v1/feedback and the admin quality endpoints. */
  learning?: Learner;
  /** Budget alerts (with a store): GET /admin/alerts records what was noted first; the test endpoint sends. */
  alerts?: Alerts;
}

export function createApp(options: AppOptions) {
  const { gateway, logger } = options;
  const app = new OpenAPIHono<AppEnv>();
  const keys = new KeyRing(gateway.config, options.masterKey, options.store);

  const { server, metrics } = gateway.config;
  app.use('*', requestContext(logger));
  app.use(
    '*',
    requestGuards({ open: keys.open, allowedHosts: server.allowed_hosts, corsOrigins: server.cors.origins }),
  );
  const { requestLog } = options;
  app.use('/v1/*', authenticate(keys, requestLog));

  registerHealth(app, { lifecycle: options.lifecycle ?? (() => 'ready'), checks: readinessChecks(options) });
  registerChat(app, gateway);
  registerEmbeddings(app, gateway);
  registerResponses(app, { gateway, store: options.store, logger });
  registerMessages(app, gateway);
  registerModels(app, gateway);
  registerRoute(app, gateway);
  registerConsensus(app, gateway);
  registerReviews(app, gateway);
  registerBudget(app, gateway);
  registerFeedback(app, gateway, options.learning);
  registerWhoami(app, { open: keys.open, admin: Boolean(options.store && options.masterKey) });
  registerUi(app);
  // With a port of its own, /metrics is served there (cli/serve.ts) and not here.
  if (metrics.port === undefined) registerMetrics(app, { key: metrics.key, masterKey: options.masterKey });
  if (options.store) {
    registerAdmin(app, {
      gateway,
      store: options.store,
      masterKey: options.masterKey,
      learning: options.learning,
      alerts: options.alerts,
      logger,
    });
  }
  if (options.store && requestLog) registerRequests(app, { store: options.store, log: requestLog });
  if (options.store) registerWorkflowDefinitions(app, gateway, options.store);
  if (options.store) registerUsage(app, gateway, options.store);
  if (options.store && options.workflows) {
    registerWorkflowRuns(app, { gateway, store: options.store, ...options.workflows });
  }

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  app.get('/openapi.json', (c) =>
    c.json(
      app.getOpenAPI31Document({
        openapi: '3.1.0',
        info: {
          title: 'Quorum',
          version: '0.1.0',
          description: 'OpenAI-compatible multi-LLM routing and consensus gateway',
        },
      }),
    ),
  );

  app.onError(onError(logger));
  app.notFound(notFound);
  return { app, keys };
}

/** What /readyz asks: the store (with one), and Redis when the limits share it. */
function readinessChecks({ gateway, store }: AppOptions): Record<string, ReadinessCheck> {
  const checks: Record<string, ReadinessCheck> = {};
  if (store) checks.store = storeCheck(store.engine, store.probe);
  if (gateway.limits.kind === 'redis') {
    checks.redis = {
      probe: gateway.limits.probe,
      // Failing open, requests go on (metered per instance) while Redis is down: still ready.
      required: gateway.config.limits.redis_fail_mode === 'closed',
      unavailable: redisUnavailable,
    };
  }
  return checks;
}
