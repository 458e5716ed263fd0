/**
 * Who the presented key is: its team and role, never the key itself. The dashboard asks this at sign-in
 * to know what to show; scripts use it to check which key they hold.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../env.ts';
import { errorResponses } from '../schemas.ts';

export const WhoamiSchema = z
  .object({
    object: z.literal('whoami'),
    role: z.enum(['master', 'team', 'open']).openapi({
      description:
        'master: QUORUM_MASTER_KEY (every team, the admin API); team: a team key; open: no keys configured (team default, every team)',
    }),
    team: z
      .string()
      .openapi({ description: "The team calls are charged to (`@master` for the master key's own calls)" }),
    key: z
      .object({
        id: z.string().nullable().openapi({ description: 'A stored key id; null for a config-file key' }),
        name: z.string().nullable(),
      })
      .nullable()
      .openapi({ description: 'The key (never its value); null for the master key and open mode' }),
    admin: z.boolean().openapi({ description: 'The admin API (/admin/*) answers this key' }),
  })
  .openapi('Whoami');

const route = createRoute({
  method: 'get',
  path: '/v1/whoami',
  summary: "The calling key's role and team (never the key itself)",
  security: [{ bearer: [] }],
  responses: {
    200: { description: 'Who the key is', content: { 'application/json': { schema: WhoamiSchema } } },
    401: errorResponses[401],
  },
});

export function registerWhoami(app: OpenAPIHono<AppEnv>, deps: { open: boolean; admin: boolean }) {
  app.openAPIRegistry.registerPath(route);
  app.get(route.path, (c) => {
    const caller = c.get('caller');
    const role = deps.open ? 'open' : caller.operator ? 'master' : 'team';
    return c.json({
      object: 'whoami' as const,
      role,
      team: caller.team,
      key: role === 'team' ? { id: caller.keyId, name: caller.keyName } : null,
      admin: role === 'master' && deps.admin,
    });
  });
}
