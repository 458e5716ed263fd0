/**
 * The audit log through the admin API: GET /admin/audit (newest first, a page at a time), and
 * `recordAction`, which every admin route that changes something calls once the change is made.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../../env.ts';
import { cursorOf, pageLimit, readCursor } from '../../paging.ts';
import type { AdminContext } from './deps.ts';
import { fromStore, readQuery } from './input.ts';
import { adminErrors } from './schemas.ts';

const PAGE = 50;
const MAX_PAGE = 200;

const AuditQuery = z.strictObject({
  limit: z
    .string()
    .optional()
    .openapi({ description: `1 to ${MAX_PAGE} (default ${PAGE})` }),
  cursor: z.string().optional().openapi({ description: 'next_cursor of the previous page' }),
  action: z.string().min(1).max(100).optional().openapi({ description: 'e.g. key.create' }),
  target: z.string().min(1).max(300).optional().openapi({ description: 'e.g. team:research' }),
});

const AuditEntrySchema = z
  .object({
    id: z.string(),
    object: z.literal('audit_entry'),
    created_at: z.string(),
    actor: z.string().openapi({ description: 'master_key, or cli:<os user> for the quorum CLI' }),
    action: z.string().openapi({
      description: 'team.create, team.update, team.delete, key.create, key.revoke, alerts.test',
    }),
    target: z.string().nullable().openapi({ description: 'team:<id>, key:<id>, webhook:<name>' }),
    details: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: 'The change; never a secret' }),
    request_id: z.string().nullable(),
  })
  .openapi('AuditEntry');

const route = createRoute({
  method: 'get',
  path: '/admin/audit',
  summary: 'Admin actions, newest first: who did what, when, to what (never a secret)',
  security: [{ bearer: [] }],
  request: { query: AuditQuery },
  responses: {
    200: {
      description: 'A page of entries',
      content: {
        'application/json': {
          schema: z.object({
            object: z.literal('list'),
            data: z.array(AuditEntrySchema),
            has_more: z.boolean(),
            next_cursor: z.string().nullable(),
          }),
        },
      },
    },
    ...adminErrors,
  },
});

/** Records an admin action by the caller of `c`, once the change is made. */
export function recordAction(
  c: Context<AppEnv>,
  deps: AdminContext,
  action: string,
  target: string | null,
  details?: Record<string, unknown>,
): Promise<void> {
  return deps.audit.record({
    actor: c.get('adminActor') ?? 'master_key',
    action,
    target,
    details,
    requestId: c.get('requestId'),
  });
}

export function registerAdminAudit(app: OpenAPIHono<AppEnv>, deps: AdminContext) {
  app.openAPIRegistry.registerPath(route);
  app.get(route.getRoutingPath(), async (c) => {
    const q = readQuery(c, AuditQuery);
    const limit = pageLimit(q.limit, PAGE, MAX_PAGE);
    const before = readCursor(q.cursor);
    const rows = await fromStore(() =>
      deps.audit.list({ limit: limit + 1, action: q.action, target: q.target, before }),
    );
    const page = rows.slice(0, limit);
    const more = rows.length > limit;
    const last = page.at(-1);
    return c.json({
      object: 'list' as const,
      data: page,
      has_more: more,
      next_cursor: more && last ? cursorOf({ created_at: Date.parse(last.created_at), id: last.id }) : null,
    });
  });
}
