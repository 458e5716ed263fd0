/** Spend from the ledger, grouped by day, model, key or team, with filters. */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.ts';
import type { AdminContext } from './deps.ts';
import { fromStore, readQuery } from './input.ts';
import { adminErrors, listOf, SpendQuerySchema, SpendRowSchema } from './schemas.ts';

const route = createRoute({
  method: 'get',
  path: '/admin/spend',
  summary: 'Requests, tokens and USD per day, model, key or team, from the ledger',
  security: [{ bearer: [] }],
  request: { query: SpendQuerySchema },
  responses: {
    200: {
      description: 'One row per group, in group order (days chronologically; keyless calls last)',
      content: { 'application/json': { schema: listOf(SpendRowSchema) } },
    },
    ...adminErrors,
  },
});

export function registerAdminSpend(app: OpenAPIHono<AppEnv>, { store }: AdminContext) {
  app.openAPIRegistry.registerPath(route);
  app.get(route.getRoutingPath(), async (c) => {
    const query = readQuery(c, SpendQuerySchema);
    const rows = await fromStore(() => store.ledger.spendReport(query));
    return c.json({ object: 'list' as const, data: rows });
  });
}
