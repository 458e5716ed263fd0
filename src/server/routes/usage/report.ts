/**
 * `GET /v1/usage`: spend, requests and tokens over time and by team, key, model, end user, surface,
 * workflow run or tag, from the ledger.
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Store } from '../../../store/index.ts';
import { readQuery } from '../../body.ts';
import type { AppEnv } from '../../env.ts';
import { ErrorSchema, errorResponses } from '../../schemas.ts';
import { fromStore } from '../admin/input.ts';
import { UsageQuerySchema, UsageSchema } from './schemas.ts';
import { teamScope } from './scope.ts';

const route = createRoute({
  method: 'get',
  path: '/v1/usage',
  summary:
    "Usage per day or hour, by team, key, model or tag: the caller's team (every team for the master key)",
  security: [{ bearer: [] }],
  request: { query: UsageQuerySchema },
  responses: {
    200: {
      description: 'Totals, the top groups by cost (plus one "other") and the series per bucket and group',
      content: { 'application/json': { schema: UsageSchema } },
    },
    400: errorResponses[400],
    401: errorResponses[401],
    404: {
      description: 'A team key naming another team in `team`',
      content: { 'application/json': { schema: ErrorSchema } },
    },
  },
});

export function registerUsageReport(app: OpenAPIHono<AppEnv>, store: Store) {
  app.openAPIRegistry.registerPath(route);
  app.get(route.getRoutingPath(), async (c) => {
    const q = readQuery(c, UsageQuerySchema);
    const team = teamScope(c.get('caller'), q.team);
    const report = await fromStore(() =>
      store.usage.report({
        ...(q.from !== undefined ? { from: q.from } : {}),
        ...(q.to !== undefined ? { to: q.to } : {}),
        bucket: q.bucket,
        ...(q.group_by !== undefined ? { group_by: q.group_by } : {}),
        ...(team !== undefined ? { team } : {}),
        ...(q.key !== undefined ? { key: q.key } : {}),
        ...(q.model !== undefined ? { model: q.model } : {}),
        ...(q.user !== undefined ? { user: q.user } : {}),
        ...(q.surface !== undefined ? { surface: q.surface } : {}),
        ...(q.run !== undefined ? { run: q.run } : {}),
        ...(q.step !== undefined ? { step: q.step } : {}),
        ...(q.tag !== undefined ? { tag: q.tag } : {}),
        ...(q.limit !== undefined ? { limit: Number(q.limit) } : {}),
      }),
    );
    return c.json({
      object: 'usage' as const,
      from: report.from,
      to: report.to,
      bucket: report.bucket,
      group_by: report.group_by,
      limit: report.limit,
      filters: {
        team: team ?? null,
        key: q.key ?? null,
        model: q.model ?? null,
        user: q.user ?? null,
        surface: q.surface ?? null,
        run: q.run ?? null,
        step: q.step ?? null,
        tag: q.tag ?? null,
      },
      buckets: report.buckets,
      totals: report.totals,
      groups: report.groups,
      series: report.series,
    });
  });
}
