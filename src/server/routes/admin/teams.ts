/** Teams: budget, rate limits and model allow-list. Config-file teams are listed but read-only here. */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { GatewayError } from '../../../errors/index.ts';
import { StoreError, type Team } from '../../../store/index.ts';
import type { AppEnv } from '../../env.ts';
import { recordAction } from './audit.ts';
import type { AdminContext } from './deps.ts';
import { fromStore, readJson } from './input.ts';
import {
  adminErrors,
  CreateTeamSchema,
  IdParams,
  listOf,
  notFoundError,
  PatchTeamSchema,
  TeamSchema,
} from './schemas.ts';
import { configTeam, listTeams, seedBudget, seedTeamScopes, teamView } from './team-view.ts';

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const body = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

const routes = {
  create: createRoute({
    method: 'post',
    path: '/admin/teams',
    summary: 'Create a team with an optional budget, rate limits and model allow-list',
    security: [{ bearer: [] }],
    request: { body: body(CreateTeamSchema) },
    responses: { 201: json(TeamSchema, 'The team'), ...adminErrors },
  }),
  list: createRoute({
    method: 'get',
    path: '/admin/teams',
    summary: "Every team (the config file's and the API's), with current-period spend",
    security: [{ bearer: [] }],
    responses: { 200: json(listOf(TeamSchema), 'The teams, by id'), ...adminErrors },
  }),
  get: createRoute({
    method: 'get',
    path: '/admin/teams/{id}',
    summary: 'One team, with spent and reserved USD in its current budget period',
    security: [{ bearer: [] }],
    request: { params: IdParams },
    responses: { 200: json(TeamSchema, 'The team'), ...adminErrors, ...notFoundError },
  }),
  patch: createRoute({
    method: 'patch',
    path: '/admin/teams/{id}',
    summary: 'Change a team (JSON merge patch: null removes a setting); applies to new requests',
    security: [{ bearer: [] }],
    request: { params: IdParams, body: body(PatchTeamSchema) },
    responses: { 200: json(TeamSchema, 'The team as changed'), ...adminErrors, ...notFoundError },
  }),
  delete: createRoute({
    method: 'delete',
    path: '/admin/teams/{id}',
    summary: 'Delete a team that has no active keys (its spend history stays in the ledger)',
    security: [{ bearer: [] }],
    request: { params: IdParams },
    responses: {
      200: json(z.object({ id: z.string(), object: z.literal('team'), deleted: z.literal(true) }), 'Deleted'),
      ...adminErrors,
      ...notFoundError,
    },
  }),
};

/** A team's settings for the audit log (its budget, limits and allow-list; a team holds no secret). */
const settingsOf = (t: Team) => ({
  budget: t.budget ?? null,
  limits: t.limits ?? null,
  models: t.models ?? null,
  ...(t.budgets ? { budgets: t.budgets } : {}),
  ...(t.end_users ? { end_users: t.end_users } : {}),
  ...(t.tags ? { tags: t.tags } : {}),
});

const AUTO = /^auto(:(cost|quality|latency|balanced))?$/;

/** Allow-lists may name catalog models, aliases, presets and `auto`; anything else is a typo. */
function checkModels(deps: AdminContext, models: string[] | null | undefined) {
  models?.forEach((m, i) => {
    const known =
      deps.gateway.table.resolve(m).length > 0 ||
      Object.hasOwn(deps.gateway.config.ensembles, m) ||
      AUTO.test(m);
    if (!known) {
      throw new GatewayError('invalid_body', `models[${i}]: unknown model, alias or preset "${m}"`, {
        param: `models[${i}]`,
      });
    }
  });
}

function readOnly(deps: AdminContext, id: string): GatewayError {
  const file = deps.gateway.config.source ?? 'the config file';
  return new GatewayError(
    'conflict',
    `Team "${id}" is defined in ${file}; change or remove it there and restart the gateway.`,
    { param: 'id' },
  );
}

const missing = (id: string) =>
  new GatewayError('not_found', `No team "${id}". GET /admin/teams lists them.`, { param: 'id' });

export function registerAdminTeams(app: OpenAPIHono<AppEnv>, deps: AdminContext) {
  const { gateway, store } = deps;
  const bodyLimits = gateway.config.server;
  for (const route of Object.values(routes)) app.openAPIRegistry.registerPath(route);

  app.post(routes.create.getRoutingPath(), async (c) => {
    const input = await readJson(c, CreateTeamSchema, bodyLimits);
    if (configTeam(gateway, input.id)) throw readOnly(deps, input.id);
    checkModels(deps, input.models);
    const team = await fromStore(() => store.teams.create(input));
    await recordAction(c, deps, 'team.create', `team:${team.id}`, settingsOf(team));
    if (team.budget) await seedBudget(gateway, store, team.id, team.budget.period);
    await seedTeamScopes(gateway, store, team);
    return c.json(await teamView(gateway, team, team.id), 201);
  });

  app.get(routes.list.getRoutingPath(), async (c) =>
    c.json({ object: 'list' as const, data: await listTeams(gateway, store) }),
  );

  app.get(routes.get.getRoutingPath(), async (c) => {
    const id = c.req.param('id');
    const team = await store.teams.get(id);
    if (!team && !configTeam(gateway, id)) throw missing(id);
    return c.json(await teamView(gateway, team, id));
  });

  app.patch(routes.patch.getRoutingPath(), async (c) => {
    const id = c.req.param('id');
    if (configTeam(gateway, id)) throw readOnly(deps, id);
    const patch = await readJson(c, PatchTeamSchema, bodyLimits);
    checkModels(deps, patch.models);
    const before = await fromStore(() => store.teams.get(id));
    const team = await fromStore(() => store.teams.update(id, patch)).catch((err: unknown) => {
      throw err instanceof GatewayError && err.kind === 'not_found' ? missing(id) : err;
    });
    await recordAction(c, deps, 'team.update', `team:${id}`, {
      patch,
      before: before ? settingsOf(before) : null,
    });
    if (team.budget && patch.budget) await seedBudget(gateway, store, id, team.budget.period);
    if (patch.budgets || patch.tags || patch.end_users) await seedTeamScopes(gateway, store, team);
    return c.json(await teamView(gateway, team, id));
  });

  app.delete(routes.delete.getRoutingPath(), async (c) => {
    const id = c.req.param('id');
    if (configTeam(gateway, id)) throw readOnly(deps, id);
    let deleted: boolean;
    try {
      deleted = await store.teams.delete(id);
    } catch (err) {
      if (!(err instanceof StoreError && err.code === 'conflict')) throw err;
      throw new GatewayError(
        'conflict',
        `${err.message}. GET /admin/keys?team=${encodeURIComponent(id)} lists them; DELETE /admin/keys/{id} revokes one.`,
        { param: 'id' },
      );
    }
    if (!deleted) throw missing(id);
    await recordAction(c, deps, 'team.delete', `team:${id}`);
    return c.json({ id, object: 'team' as const, deleted: true as const });
  });
}
