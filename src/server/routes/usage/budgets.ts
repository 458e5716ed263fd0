/**
 * `GET /v1/usage/budgets`: a gauge per team — spent, reserved, remaining, soft limit and reset time of
 * the current period. The master key sees every team that has a budget (config file and API alike); a
 * team key its own team, when it has one.
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Gateway } from '../../../gateway/index.ts';
import type { BudgetPolicy } from '../../../limits/types.ts';
import type { Store, TeamBudget } from '../../../store/index.ts';
import type { AppEnv } from '../../env.ts';
import { errorResponses } from '../../schemas.ts';
import { fromStore } from '../admin/input.ts';
import { budgetBody } from '../budget.ts';
import { UsageBudgetsSchema } from './schemas.ts';

const route = createRoute({
  method: 'get',
  path: '/v1/usage/budgets',
  summary: "Budget gauges: every team's with a budget for the master key, the caller's own for a team key",
  security: [{ bearer: [] }],
  responses: {
    200: {
      description: 'One entry per team with a budget, by team id',
      content: { 'application/json': { schema: UsageBudgetsSchema } },
    },
    401: errorResponses[401],
  },
});

const policyOf = (team: string, b: TeamBudget): BudgetPolicy => ({
  team,
  limitUsd: b.limit_usd,
  period: b.period,
  ...(b.soft_limit_usd !== undefined ? { softLimitUsd: b.soft_limit_usd } : {}),
});

/** Every team's budget: the store's, overridden by the config file's (the source of truth for its ids). */
async function everyBudget(gateway: Gateway, store: Store): Promise<BudgetPolicy[]> {
  const policies = new Map<string, BudgetPolicy>();
  for (const t of await fromStore(() => store.teams.list())) {
    if (t.budget) policies.set(t.id, policyOf(t.id, t.budget));
  }
  for (const t of gateway.config.teams) {
    const first = t.budget ?? t.budgets?.[0];
    if (first) policies.set(t.id, policyOf(t.id, first));
    else policies.delete(t.id);
  }
  return [...policies.values()].sort((a, b) => (a.team < b.team ? -1 : a.team > b.team ? 1 : 0));
}

export function registerUsageBudgets(app: OpenAPIHono<AppEnv>, gateway: Gateway, store: Store) {
  app.openAPIRegistry.registerPath(route);
  app.get(route.getRoutingPath(), async (c) => {
    const caller = c.get('caller');
    const policies = caller.operator
      ? await everyBudget(gateway, store)
      : caller.budget
        ? [caller.budget]
        : [];
    const data = await Promise.all(policies.map((p) => budgetBody(gateway, p.team, p)));
    return c.json({ object: 'list' as const, data });
  });
}
