/**
 * Budget alerts through the admin API: GET /admin/alerts (newest first, each with its deliveries'
 * state) and POST /admin/alerts/test (a sample alert sent now to the webhooks, to check a receiver).
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { alertFields } from '../../../alerts/index.ts';
import { GatewayError } from '../../../errors/index.ts';
import type { DeliveryRow, StoredAlert } from '../../../store/index.ts';
import { toIsoOrNull } from '../../../store/time.ts';
import type { AppEnv } from '../../env.ts';
import { cursorOf, pageLimit, readCursor } from '../../paging.ts';
import { recordAction } from './audit.ts';
import type { AdminContext } from './deps.ts';
import { fromStore, readJson, readQuery } from './input.ts';
import { adminErrors, notFoundError } from './schemas.ts';

const PAGE = 50;
const MAX_PAGE = 200;

const ListQuery = z.strictObject({
  limit: z
    .string()
    .optional()
    .openapi({ description: `1 to ${MAX_PAGE} (default ${PAGE})` }),
  cursor: z.string().optional().openapi({ description: 'next_cursor of the previous page' }),
  team: z.string().min(1).max(200).optional(),
});

const DeliverySchema = z.object({
  webhook: z.string().openapi({ description: "The webhook's name (never its URL)" }),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number(),
  last_attempt_at: z.string().nullable(),
  next_attempt_at: z.string().nullable().openapi({ description: 'When pending: the next try' }),
  last_http_status: z.number().nullable(),
  last_error: z.string().nullable(),
  delivered_at: z.string().nullable(),
});

const AlertSchema = z
  .object({
    id: z.string(),
    object: z.literal('alert'),
    type: z.enum(['budget.threshold', 'budget.soft_limit']),
    scope: z.string().openapi({ description: 'team, key, user or tag' }),
    scope_id: z.string(),
    team: z.string(),
    window: z.string().openapi({ description: 'daily, weekly, monthly or total' }),
    period: z.string().openapi({ description: '2026-11, 2026-W47, 2026-11-22 or total' }),
    threshold_percent: z.number().nullable(),
    limit_usd: z.number(),
    soft_limit_usd: z.number().nullable(),
    spent_usd: z.number().openapi({ description: 'Spend when the crossing was seen' }),
    created_at: z.string(),
    deliveries: z.array(DeliverySchema),
  })
  .openapi('Alert');

const TestBody = z.strictObject({
  webhook: z.string().min(1).max(100).optional().openapi({ description: 'One webhook by name; default all' }),
});

const TestResult = z
  .object({
    id: z.string(),
    object: z.literal('alert.test'),
    deliveries: z.array(
      z.object({
        webhook: z.string(),
        delivered: z.boolean(),
        http_status: z.number().nullable(),
        error: z.string().nullable(),
      }),
    ),
  })
  .openapi('AlertTest');

const routes = {
  list: createRoute({
    method: 'get',
    path: '/admin/alerts',
    summary: 'Budget alerts, newest first, with the state of each webhook delivery',
    security: [{ bearer: [] }],
    request: { query: ListQuery },
    responses: {
      200: {
        description: 'A page of alerts',
        content: {
          'application/json': {
            schema: z.object({
              object: z.literal('list'),
              data: z.array(AlertSchema),
              has_more: z.boolean(),
              next_cursor: z.string().nullable(),
            }),
          },
        },
      },
      ...adminErrors,
    },
  }),
  test: createRoute({
    method: 'post',
    path: '/admin/alerts/test',
    summary: 'Send a sample alert (type "test") to the webhooks now, once, and say how each answered',
    security: [{ bearer: [] }],
    request: { body: { required: false, content: { 'application/json': { schema: TestBody } } } },
    responses: {
      200: { description: 'Each webhook’s answer', content: { 'application/json': { schema: TestResult } } },
      ...adminErrors,
      ...notFoundError,
      409: {
        description: 'No webhook is configured (alerts.webhooks)',
        content: { 'application/json': { schema: z.object({ error: z.unknown() }) } },
      },
    },
  }),
};

const iso = (ms: number | null) => toIsoOrNull(ms);

function deliveryView(d: DeliveryRow) {
  return {
    webhook: d.webhook,
    status: d.status,
    attempts: d.attempts,
    last_attempt_at: iso(d.last_attempt_at),
    next_attempt_at: d.status === 'pending' ? iso(d.next_attempt_at) : null,
    last_http_status: d.last_http_status,
    last_error: d.last_error,
    delivered_at: iso(d.delivered_at),
  };
}

export function alertView(a: StoredAlert) {
  return {
    ...alertFields(a),
    created_at: new Date(a.created_at).toISOString(),
    deliveries: a.deliveries.map(deliveryView),
  };
}

export function registerAdminAlerts(app: OpenAPIHono<AppEnv>, deps: AdminContext) {
  const { store, alerts } = deps;
  for (const route of Object.values(routes)) app.openAPIRegistry.registerPath(route);

  app.get(routes.list.getRoutingPath(), async (c) => {
    const q = readQuery(c, ListQuery);
    const limit = pageLimit(q.limit, PAGE, MAX_PAGE);
    const before = readCursor(q.cursor);
    // What was noted before this call is in the page (if the database takes it; the list says if not).
    await alerts?.flush().catch(() => {});
    const rows = await fromStore(() => store.alerts.list({ limit: limit + 1, team: q.team, before }));
    const page = rows.slice(0, limit);
    const more = rows.length > limit;
    return c.json({
      object: 'list' as const,
      data: page.map(alertView),
      has_more: more,
      next_cursor: more ? cursorOf(page.at(-1)!) : null,
    });
  });

  app.post(routes.test.getRoutingPath(), async (c) => {
    const hasBody =
      c.req.header('transfer-encoding') !== undefined || Number(c.req.header('content-length') ?? 0) !== 0;
    const body = hasBody ? await readJson(c, TestBody, deps.gateway.config.server) : {};
    const names = alerts?.webhooks ?? [];
    if (!names.length) {
      throw new GatewayError(
        'conflict',
        'No webhook is configured: add alerts.webhooks (url and secret) to the configuration and restart.',
      );
    }
    if (body.webhook !== undefined && !names.includes(body.webhook)) {
      throw new GatewayError('not_found', `No webhook "${body.webhook}". Configured: ${names.join(', ')}.`, {
        param: 'webhook',
      });
    }
    const result = await alerts!.sendTest(body.webhook);
    await recordAction(c, deps, 'alerts.test', body.webhook ? `webhook:${body.webhook}` : null, {
      delivered: result.deliveries.filter((d) => d.delivered).map((d) => d.webhook),
      failed: result.deliveries.filter((d) => !d.delivered).map((d) => d.webhook),
    });
    return c.json({ object: 'alert.test' as const, ...result });
  });
}
