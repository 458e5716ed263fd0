/**
 * Budget scopes over the admin API: every scope's windows with their spend (`GET /admin/budgets`), a
 * created key's own budgets (`PUT /admin/keys/{id}/budgets`), and overrides — a temporary raise of a
 * scope's limit with a reason and an expiry (`POST/GET/DELETE /admin/overrides`). Changes are audited.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { seedScope, type TeamScopeSettings } from '../../../boot/seed-scopes.ts';
import { GatewayError } from '../../../errors/index.ts';
import { unavailable } from '../../../gateway/index.ts';
import { periodStart } from '../../../limits/periods.ts';
import {
  type BudgetWindow,
  type ScopeKind,
  type ScopeRef,
  scopedWindow,
  scopeLabel,
  scopeSubject,
  windowsOf,
} from '../../../limits/scopes.ts';
import type { OverrideRow } from '../../../store/index.ts';
import { toEpochMs } from '../../../store/time.ts';
import type { AppEnv } from '../../env.ts';
import { recordAction } from './audit.ts';
import type { AdminContext } from './deps.ts';
import { fromStore, readJson, readQuery } from './input.ts';
import { ADMIN_LIMITS, adminErrors, BudgetSchema, IdParams, listOf, notFoundError } from './schemas.ts';
import { configTeam } from './team-view.ts';

const PERIODS = ['daily', 'weekly', 'monthly', 'total'] as const;
const SCOPES = ['team', 'key', 'user', 'tag'] as const;

const WindowSchema = z
  .object({
    scope: z
      .string()
      .openapi({ description: '`team`, `key`, `user` or `tag:<selector>`, as refusals name it' }),
    team: z.string(),
    id: z
      .string()
      .openapi({ description: 'The team id, key id (or static:<name>), end user, or tag selector' }),
    period: z.enum(PERIODS),
    period_key: z.string(),
    limit_usd: z.number().openapi({ description: 'In force now: an override’s raise included' }),
    configured_limit_usd: z.number(),
    spent_usd: z.number(),
    reserved_usd: z.number(),
    remaining_usd: z.number(),
    resets_at: z.string().nullable(),
    soft_limit_usd: z.number().nullable(),
  })
  .openapi('AdminBudgetWindow');

const ListQuery = z.strictObject({ team: z.string().min(1).max(ADMIN_LIMITS.maxName).optional() });

const KeyBudgetsSchema = z
  .strictObject({ budgets: z.array(BudgetSchema).max(8) })
  .openapi('AdminKeyBudgets', { description: 'The key’s own windows; [] removes them' });

const CreateOverrideSchema = z
  .strictObject({
    scope: z.enum(SCOPES),
    team: z.string().min(1).max(ADMIN_LIMITS.maxName),
    id: z.string().min(1).max(1000).optional().openapi({
      description: 'key: its id (or static:<name>); user: the end user; tag: the selector. Not for team',
    }),
    period: z
      .enum(PERIODS)
      .optional()
      .openapi({ description: 'The window raised; absent: every window of the scope' }),
    limit_usd: z
      .number()
      .positive()
      .max(ADMIN_LIMITS.maxUsd)
      .openapi({ description: 'The limit while the override lasts (never lowers the configured one)' }),
    expires_at: z
      .union([z.string().min(1), z.number()])
      .openapi({ description: 'ISO 8601 or epoch ms, in the future' }),
    reason: z.string().trim().min(1).max(1000),
  })
  .openapi('AdminOverrideCreate');

const OverrideSchema = z
  .object({
    id: z.string(),
    object: z.literal('budget_override'),
    scope: z.string(),
    team: z.string(),
    scope_id: z.string(),
    period: z.enum(PERIODS).nullable(),
    limit_usd: z.number(),
    reason: z.string(),
    created_at: z.string(),
    expires_at: z.string(),
    revoked_at: z.string().nullable(),
  })
  .openapi('AdminOverride');

const routes = {
  list: createRoute({
    method: 'get',
    path: '/admin/budgets',
    summary: "Every scope's budget windows (teams, keys, end users seen this period, tags) with spend",
    security: [{ bearer: [] }],
    request: { query: ListQuery },
    responses: {
      200: { description: 'The windows', content: { 'application/json': { schema: listOf(WindowSchema) } } },
      ...adminErrors,
    },
  }),
  keyBudgets: createRoute({
    method: 'put',
    path: '/admin/keys/{id}/budgets',
    summary: "Set a created key's own budget windows (inside its team's)",
    security: [{ bearer: [] }],
    request: {
      params: IdParams,
      body: { required: true, content: { 'application/json': { schema: KeyBudgetsSchema } } },
    },
    responses: {
      200: {
        description: 'The key’s windows',
        content: { 'application/json': { schema: listOf(WindowSchema) } },
      },
      ...adminErrors,
      ...notFoundError,
    },
  }),
  createOverride: createRoute({
    method: 'post',
    path: '/admin/overrides',
    summary: "Raise a scope's limit until an expiry, with a reason",
    security: [{ bearer: [] }],
    request: { body: { required: true, content: { 'application/json': { schema: CreateOverrideSchema } } } },
    responses: {
      201: { description: 'The override', content: { 'application/json': { schema: OverrideSchema } } },
      ...adminErrors,
    },
  }),
  listOverrides: createRoute({
    method: 'get',
    path: '/admin/overrides',
    summary: 'Overrides in force (not expired, not revoked), soonest expiry first',
    security: [{ bearer: [] }],
    responses: {
      200: {
        description: 'The overrides',
        content: { 'application/json': { schema: listOf(OverrideSchema) } },
      },
      ...adminErrors,
    },
  }),
  deleteOverride: createRoute({
    method: 'delete',
    path: '/admin/overrides/{id}',
    summary: 'End an override now',
    security: [{ bearer: [] }],
    request: { params: IdParams },
    responses: {
      200: { description: 'The ended override', content: { 'application/json': { schema: OverrideSchema } } },
      ...adminErrors,
      ...notFoundError,
    },
  }),
};

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function overrideView(row: OverrideRow) {
  return {
    id: row.id,
    object: 'budget_override' as const,
    scope: scopeLabel({ kind: row.scope, id: row.scope_id }),
    team: row.team_id,
    scope_id: row.scope_id,
    period: row.period,
    limit_usd: row.limit_usd,
    reason: row.reason,
    created_at: iso(row.created_at)!,
    expires_at: iso(row.expires_at)!,
    revoked_at: iso(row.revoked_at),
  };
}

/** The override's details for the audit log: what was raised, how far, why, until when. */
const overrideDetails = (row: OverrideRow) => {
  const { id: _id, object: _object, ...rest } = overrideView(row);
  return rest;
};

export function registerAdminBudgets(app: OpenAPIHono<AppEnv>, deps: AdminContext) {
  const { gateway, store } = deps;
  const now = deps.now ?? Date.now;
  for (const route of Object.values(routes)) app.openAPIRegistry.registerPath(route);

  /** Each window of a scope as listed: the limit in force (override included) and its spend. */
  async function windowViews(scope: ScopeRef, windows: readonly BudgetWindow[]) {
    const overrides = gateway.limits.overrides;
    const subject = scopeSubject(scope);
    return Promise.all(
      windows.map(async (w) => {
        const raised = overrides?.limitFor(subject, w.period);
        const bound = scopedWindow(
          scope,
          w,
          raised !== undefined ? Math.max(raised, w.limitUsd) : w.limitUsd,
        );
        const st = await unavailable(() => gateway.limits.budget.status(bound.policy));
        return {
          scope: bound.label,
          team: scope.team,
          id: scope.id,
          period: w.period,
          period_key: st.periodKey,
          limit_usd: st.limitUsd,
          configured_limit_usd: w.limitUsd,
          spent_usd: st.spentUsd,
          reserved_usd: st.reservedUsd,
          remaining_usd: st.remainingUsd,
          resets_at: st.resetsAt,
          soft_limit_usd: w.softLimitUsd ?? null,
        };
      }),
    );
  }

  app.get(routes.list.getRoutingPath(), async (c) => {
    const { team: only } = readQuery(c, ListQuery);
    const wanted = (team: string) => only === undefined || only === team;
    const out: Awaited<ReturnType<typeof windowViews>> = [];
    const config = gateway.config;
    const configured = new Set(config.teams.map((t) => t.id));
    const teams: TeamScopeSettings[] = [
      ...(await fromStore(() => store.teams.list())).filter((t) => !configured.has(t.id)),
      ...config.teams,
    ];
    for (const t of teams) {
      if (!wanted(t.id)) continue;
      const team = t.id;
      out.push(...(await windowViews({ kind: 'team', team, id: team }, windowsOf(t))));
      const userWindows = t.end_users ? windowsOf(t.end_users) : [];
      if (userWindows.length) {
        const since = Math.min(...userWindows.map((w) => periodStart(w.period, now())));
        for (const user of await fromStore(() => store.ledger.endUsersSince(team, since))) {
          out.push(...(await windowViews({ kind: 'user', team, id: user }, userWindows)));
        }
      }
      for (const [selector, rule] of Object.entries(t.tags ?? {})) {
        out.push(...(await windowViews({ kind: 'tag', team, id: selector }, windowsOf(rule))));
      }
    }
    for (const k of config.keys) {
      if (!k.name || !wanted(k.team)) continue;
      out.push(...(await windowViews({ kind: 'key', team: k.team, id: `static:${k.name}` }, windowsOf(k))));
    }
    for (const k of await fromStore(() => store.keys.list(only))) {
      if (!k.budgets?.length || k.revoked_at) continue;
      out.push(
        ...(await windowViews({ kind: 'key', team: k.team, id: k.id }, windowsOf({ budgets: k.budgets }))),
      );
    }
    return c.json({ object: 'list' as const, data: out });
  });

  app.put(routes.keyBudgets.getRoutingPath(), async (c) => {
    const id = c.req.param('id');
    const { budgets } = await readJson(c, KeyBudgetsSchema, gateway.config.server);
    const before = await fromStore(() => store.keys.get(id));
    if (!before) {
      const isStatic = id.startsWith('static:');
      throw new GatewayError(
        isStatic ? 'conflict' : 'not_found',
        isStatic
          ? `"${id}" is a static key of the config file: set its budget there (keys[].budgets).`
          : `No key "${id}". GET /admin/keys lists them.`,
        { param: 'id' },
      );
    }
    await fromStore(() => store.keys.setBudgets(id, budgets));
    const scope: ScopeRef = { kind: 'key', team: before.team, id };
    const windows = windowsOf({ budgets });
    // A window new to this key counts what the key already spent in its period (the ledger's figure).
    await unavailable(() => fromStore(() => seedScope(store, gateway.limits, scope, windows, now())));
    await recordAction(c, deps, 'key.budgets', `key:${id}`, {
      team: before.team,
      before: before.budgets ?? [],
      budgets,
    });
    return c.json({ object: 'list' as const, data: await windowViews(scope, windows) });
  });

  app.post(routes.createOverride.getRoutingPath(), async (c) => {
    const input = await readJson(c, CreateOverrideSchema, gateway.config.server);
    const expiresAt = await fromStore(async () => toEpochMs(input.expires_at, 'expires_at'));
    if (expiresAt <= now()) {
      throw new GatewayError('invalid_body', 'expires_at: must be in the future', { param: 'expires_at' });
    }
    const kind: ScopeKind = input.scope;
    if (kind !== 'team' && input.id === undefined) {
      throw new GatewayError('invalid_body', `id: required for a ${kind} override`, { param: 'id' });
    }
    if (!configTeam(gateway, input.team) && !(await fromStore(() => store.teams.get(input.team)))) {
      throw new GatewayError('invalid_body', `team: no team "${input.team}"`, { param: 'team' });
    }
    const scope: ScopeRef = { kind, team: input.team, id: kind === 'team' ? input.team : input.id! };
    const row = await fromStore(() =>
      store.overrides.create({
        subject: scopeSubject(scope),
        scope: kind,
        team_id: scope.team,
        scope_id: scope.id,
        period: input.period ?? null,
        limit_usd: input.limit_usd,
        reason: input.reason,
        expires_at: expiresAt,
      }),
    );
    await gateway.limits.overrides?.reload?.();
    await recordAction(c, deps, 'budget_override.create', `budget_override:${row.id}`, overrideDetails(row));
    return c.json(overrideView(row), 201);
  });

  app.get(routes.listOverrides.getRoutingPath(), async (c) => {
    const rows = await fromStore(() => store.overrides.live(now()));
    return c.json({ object: 'list' as const, data: rows.map(overrideView) });
  });

  app.delete(routes.deleteOverride.getRoutingPath(), async (c) => {
    const id = c.req.param('id');
    if (!(await fromStore(() => store.overrides.revoke(id)))) {
      throw new GatewayError('not_found', `No override "${id}". GET /admin/overrides lists them.`, {
        param: 'id',
      });
    }
    const row = (await fromStore(() => store.overrides.get(id)))!;
    await gateway.limits.overrides?.reload?.();
    await recordAction(c, deps, 'budget_override.delete', `budget_override:${id}`, overrideDetails(row));
    return c.json(overrideView(row));
  });
}
