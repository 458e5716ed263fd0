/**
 * `GET /admin/spend`: spend from the ledger grouped by any combination of team, key, model, day, hour,
 * end user, tag, surface, workflow run and step, with a filter for each; paged by cursor; as JSON, or
 * as CSV (`format=csv`, or `Accept: text/csv`).
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { accepts } from 'hono/accepts';
import { spendCsv } from '../../../store/index.ts';
import type { AppEnv } from '../../env.ts';
import { decodeCursor, encodeCursor } from '../../paging.ts';
import type { AdminContext } from './deps.ts';
import { fromStore, readQuery } from './input.ts';
import { adminErrors, SpendPageSchema, SpendQuerySchema } from './schemas.ts';

const route = createRoute({
  method: 'get',
  path: '/admin/spend',
  summary:
    'Requests, tokens and USD from the ledger, grouped by any of team, key, model, day, hour, user, tag, surface, run, step',
  security: [{ bearer: [] }],
  request: { query: SpendQuerySchema },
  responses: {
    200: {
      description:
        'One row per group, in group order (each dimension ascending, nulls last); the next page by next_cursor. CSV: the rows alone, the next cursor in the x-quorum-next-cursor header',
      content: {
        'application/json': { schema: SpendPageSchema },
        'text/csv': { schema: { type: 'string' } },
      },
    },
    ...adminErrors,
  },
});

export function registerAdminSpend(app: OpenAPIHono<AppEnv>, { store }: AdminContext) {
  app.openAPIRegistry.registerPath(route);
  app.get(route.getRoutingPath(), async (c) => {
    const { cursor, limit, format, ...query } = readQuery(c, SpendQuerySchema);
    const csv =
      format === 'csv' ||
      (format === undefined &&
        accepts(c, {
          header: 'Accept',
          supports: ['application/json', 'text/csv'],
          default: 'application/json',
        }) === 'text/csv');
    const after = decodeCursor(cursor);
    const page = await fromStore(() =>
      store.spend.page(
        { ...query, ...(limit !== undefined ? { limit: Number(limit) } : {}), ...(after ? { after } : {}) },
        { totals: !csv },
      ),
    );
    const next = page.next ? encodeCursor(page.next) : null;
    if (csv) {
      const headers: Record<string, string> = { 'content-type': 'text/csv; charset=utf-8' };
      if (next) {
        const url = new URL(c.req.url);
        url.searchParams.set('cursor', next);
        headers['x-quorum-next-cursor'] = next;
        headers.link = `<${url.pathname}${url.search}>; rel="next"`;
      }
      // Every page starts with the header line: each is a CSV document of its own.
      return c.body(spendCsv(page.group_by, page.rows), 200, headers);
    }
    return c.json({
      object: 'list' as const,
      group_by: page.group_by,
      data: page.rows,
      totals: page.totals,
      has_more: next !== null,
      next_cursor: next,
    });
  });
}
