/** API keys: created (shown once, stored hashed), listed without secrets, revoked. */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { GatewayError } from '../../../errors/index.ts';
import type { KeyInfo } from '../../../store/index.ts';
import { toEpochMs } from '../../../store/time.ts';
import type { AppEnv } from '../../env.ts';
import type { AdminDeps } from './deps.ts';
import { fromStore, readJson, readQuery } from './input.ts';
import {
  adminErrors,
  CreatedKeySchema,
  CreateKeySchema,
  IdParams,
  KeySchema,
  listOf,
  notFoundError,
} from './schemas.ts';
import { configTeam, mirrorConfigTeam } from './team-view.ts';

const ListQuery = z.strictObject({ team: z.string().min(1).optional() });

const routes = {
  create: createRoute({
    method: 'post',
    path: '/admin/keys',
    summary: 'Create an API key for a team; the key is in this response only',
    security: [{ bearer: [] }],
    request: { body: { required: true, content: { 'application/json': { schema: CreateKeySchema } } } },
    responses: {
      201: {
        description: 'The key and its record',
        content: { 'application/json': { schema: CreatedKeySchema } },
      },
      ...adminErrors,
      ...notFoundError,
    },
  }),
  list: createRoute({
    method: 'get',
    path: '/admin/keys',
    summary: 'Keys (of one team with ?team=), revoked and expired included; never the secrets',
    security: [{ bearer: [] }],
    request: { query: ListQuery },
    responses: {
      200: {
        description: 'The keys, oldest first',
        content: { 'application/json': { schema: listOf(KeySchema) } },
      },
      ...adminErrors,
      ...notFoundError,
    },
  }),
  revoke: createRoute({
    method: 'delete',
    path: '/admin/keys/{id}',
    summary: 'Revoke a key; it is refused from the next request on',
    security: [{ bearer: [] }],
    request: { params: IdParams },
    responses: {
      200: { description: 'The revoked key', content: { 'application/json': { schema: KeySchema } } },
      ...adminErrors,
      ...notFoundError,
    },
  }),
};

type KeyView = KeyInfo & { status: 'active' | 'revoked' | 'expired' };

function view(key: KeyInfo, now: number): KeyView {
  const expired = key.expires_at !== null && Date.parse(key.expires_at) <= now;
  const { id, team, name, prefix, ...rest } = key;
  return {
    id,
    team,
    name,
    prefix,
    status: key.revoked_at ? 'revoked' : expired ? 'expired' : 'active',
    ...rest,
  };
}

const noTeam = (team: string) =>
  new GatewayError('not_found', `No team "${team}". Create it with POST /admin/teams.`, { param: 'team' });

export function registerAdminKeys(app: OpenAPIHono<AppEnv>, deps: AdminDeps) {
  const { gateway, store } = deps;
  const now = deps.now ?? Date.now;
  for (const route of Object.values(routes)) app.openAPIRegistry.registerPath(route);

  app.post(routes.create.getRoutingPath(), async (c) => {
    const input = await readJson(c, CreateKeySchema, gateway.config.server);
    if (input.expires_at !== undefined && input.expires_at !== null) {
      const at = await fromStore(async () => toEpochMs(input.expires_at!, 'expires_at'));
      if (at <= now()) {
        throw new GatewayError('invalid_body', 'expires_at: must be in the future', { param: 'expires_at' });
      }
    }
    // A config team reaches the store at gateway start-up; mirror it now if this process has not.
    const cfg = configTeam(gateway, input.team);
    if (cfg && !(await store.teams.get(cfg.id))) await mirrorConfigTeam(store, cfg);
    const created = await fromStore(() => store.keys.create(input)).catch((err: unknown) => {
      throw err instanceof GatewayError && err.kind === 'not_found' ? noTeam(input.team) : err;
    });
    return c.json(view(created, now()), 201);
  });

  app.get(routes.list.getRoutingPath(), async (c) => {
    const { team } = readQuery(c, ListQuery);
    if (team !== undefined && !configTeam(gateway, team) && !(await store.teams.get(team)))
      throw noTeam(team);
    const keys = await store.keys.list(team);
    const at = now();
    return c.json({ object: 'list' as const, data: keys.map((k) => view(k, at)) });
  });

  app.delete(routes.revoke.getRoutingPath(), async (c) => {
    const id = c.req.param('id');
    if (!(await store.keys.revoke(id))) {
      throw new GatewayError('not_found', `No key "${id}". GET /admin/keys lists them.`, { param: 'id' });
    }
    return c.json(view((await store.keys.get(id))!, now()));
  });
}
