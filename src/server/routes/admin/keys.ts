/**
 * API keys: created (shown once, stored hashed), listed without secrets, revoked. The config file's
 * static keys are listed too (source: config, no id), never with their value.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { KeyConfig } from '../../../config/index.ts';
import { GatewayError } from '../../../errors/index.ts';
import type { KeyInfo } from '../../../store/index.ts';
import { toEpochMs } from '../../../store/time.ts';
import type { AppEnv } from '../../env.ts';
import { recordAction } from './audit.ts';
import type { AdminContext } from './deps.ts';
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

/** A key from the config file's `keys:`: it cannot be revoked here, only removed from that file. */
const StaticKeySchema = z
  .object({
    id: z.null(),
    team: z.string(),
    name: z.string().nullable(),
    source: z.literal('config'),
    status: z.literal('active'),
    ledger_key: z
      .string()
      .nullable()
      .openapi({ description: 'static:<name>, as the ledger and spend by key name it (null if unnamed)' }),
  })
  .openapi('AdminStaticKey');
const ListedKeySchema = z.union([KeySchema.extend({ source: z.literal('store') }), StaticKeySchema]);

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
    summary:
      "Keys (of one team with ?team=), revoked and expired included, then the config file's static keys; never the secrets",
    security: [{ bearer: [] }],
    request: { query: ListQuery },
    responses: {
      200: {
        description: 'The keys, oldest first',
        content: { 'application/json': { schema: listOf(ListedKeySchema) } },
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

/** A config-file key as listed: who it is for, never its value. */
export function staticKeyView(k: KeyConfig) {
  return {
    id: null,
    team: k.team,
    name: k.name ?? null,
    source: 'config' as const,
    status: 'active' as const,
    // How the ledger (and so spend by key) names it; an unnamed static key is recorded without one.
    ledger_key: k.name ? `static:${k.name}` : null,
  };
}

/** The static key an id names (`static:<name>`), if any: the config file is where it is revoked. */
export function staticKeyNamed(keys: KeyConfig[], id: string): KeyConfig | undefined {
  const name = id.startsWith('static:') ? id.slice('static:'.length) : id;
  return keys.find((k) => k.name !== undefined && k.name === name);
}

/** A key for the audit log: whose it is and its settings; never the key, its hash or its prefix. */
export const keyDetails = (k: KeyInfo) => ({
  team: k.team,
  name: k.name,
  expires_at: k.expires_at,
  limits: k.limits ?? null,
  budgets: k.budgets ?? null,
});

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

export function registerAdminKeys(app: OpenAPIHono<AppEnv>, deps: AdminContext) {
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
    await recordAction(c, deps, 'key.create', `key:${created.id}`, keyDetails(created));
    return c.json(view(created, now()), 201);
  });

  app.get(routes.list.getRoutingPath(), async (c) => {
    const { team } = readQuery(c, ListQuery);
    if (team !== undefined && !configTeam(gateway, team) && !(await store.teams.get(team)))
      throw noTeam(team);
    const keys = await store.keys.list(team);
    const at = now();
    const statics = gateway.config.keys
      .filter((k) => team === undefined || k.team === team)
      .map(staticKeyView);
    return c.json({
      object: 'list' as const,
      data: [...keys.map((k) => ({ ...view(k, at), source: 'store' as const })), ...statics],
    });
  });

  app.delete(routes.revoke.getRoutingPath(), async (c) => {
    const id = c.req.param('id');
    if (!(await store.keys.revoke(id))) {
      const configured = staticKeyNamed(gateway.config.keys, id);
      if (configured) {
        throw new GatewayError(
          'conflict',
          `"${configured.name}" is a static key of the config file (keys:): remove it there and restart the gateway to revoke it.`,
          { param: 'id' },
        );
      }
      throw new GatewayError('not_found', `No key "${id}". GET /admin/keys lists them.`, { param: 'id' });
    }
    const revoked = (await store.keys.get(id))!;
    await recordAction(c, deps, 'key.revoke', `key:${id}`, keyDetails(revoked));
    return c.json(view(revoked, now()));
  });
}
