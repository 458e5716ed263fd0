import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { budgetWindows, type Gateway, unavailable } from '../../gateway/index.ts';
import { scopedWindow } from '../../limits/scopes.ts';
import type { BudgetPolicy } from '../../limits/types.ts';
import type { AppEnv } from '../env.ts';
import { errorResponses } from '../schemas.ts';

export const BudgetSchema = z
  .object({
    team: z.string(),
    period: z.enum(['daily', 'weekly', 'monthly', 'total']).nullable(),
    limit_usd: z.number().nullable(),
    soft_limit_usd: z
      .number()
      .nullable()
      .openapi({ description: 'Crossing it logs and sets soft_limit_reached; it never refuses' }),
    spent_usd: z.number(),
    reserved_usd: z.number(),
    remaining_usd: z.number().nullable(),
    resets_at: z.string().nullable(),
    soft_limit_reached: z.boolean(),
    scopes: z
      .array(
        z.object({
          scope: z.string().openapi({ description: '`team`, `key`, `user` or `tag:<selector>`' }),
          id: z.string(),
          period: z.enum(['daily', 'weekly', 'monthly', 'total']),
          limit_usd: z.number(),
          spent_usd: z.number(),
          reserved_usd: z.number(),
          remaining_usd: z.number(),
          resets_at: z.string().nullable(),
          soft_limit_usd: z.number().nullable(),
          soft_limit_reached: z.boolean(),
        }),
      )
      .optional()
      .openapi({
        description:
          "With scoped budgets: every window of the team, of the calling key, of the team's tags, and of the end user named by ?user=",
      }),
  })
  .openapi('Budget');

export const budgetRoute = createRoute({
  method: 'get',
  path: '/v1/budget',
  summary: "The calling key's team budget: spent, reserved and remaining in the current period",
  security: [{ bearer: [] }],
  request: { query: z.object({ user: z.string().min(1).max(256).optional() }) },
  responses: {
    200: {
      description: 'The budget; limit_usd null when the team has none',
      content: { 'application/json': { schema: BudgetSchema } },
    },
    401: errorResponses[401],
  },
});

export type BudgetBody = z.infer<typeof BudgetSchema>;

/** A team's budget as the API shows it: the current period from the limits backend. */
export async function budgetBody(
  gw: Gateway,
  team: string,
  policy: BudgetPolicy | null,
): Promise<BudgetBody> {
  if (!policy) {
    return {
      team,
      period: null,
      limit_usd: null,
      soft_limit_usd: null,
      spent_usd: 0,
      reserved_usd: 0,
      remaining_usd: null,
      resets_at: null,
      soft_limit_reached: false,
    };
  }
  const st = await unavailable(() => gw.limits.budget.status(policy));
  return {
    team: st.team,
    period: st.period,
    limit_usd: st.limitUsd,
    soft_limit_usd: policy.softLimitUsd ?? null,
    spent_usd: st.spentUsd,
    reserved_usd: st.reservedUsd,
    remaining_usd: st.remainingUsd,
    resets_at: st.resetsAt,
    soft_limit_reached: st.softLimitReached,
  };
}

export function registerBudget(app: OpenAPIHono<AppEnv>, gw: Gateway) {
  app.openAPIRegistry.registerPath(budgetRoute);
  app.get(budgetRoute.path, async (c) => {
    const caller = c.get('caller');
    const body = await budgetBody(gw, caller.team, caller.budget);
    if (!caller.scopes) return c.json(body);
    const user = c.req.query('user');
    const windows = budgetWindows(caller, { endUser: user ?? null }, gw.limits.overrides);
    // Every tag budget of the team, whether or not this request names the tag.
    for (const [selector, rule] of caller.scopes.tags) {
      for (const w of rule.windows)
        windows.push(scopedWindow({ kind: 'tag', team: caller.team, id: selector }, w));
    }
    const scopes = await Promise.all(
      windows.map(async (w) => {
        const st = await unavailable(() => gw.limits.budget.status(w.policy));
        return {
          scope: w.label,
          id: w.scope.id,
          period: w.policy.period,
          limit_usd: st.limitUsd,
          spent_usd: st.spentUsd,
          reserved_usd: st.reservedUsd,
          remaining_usd: st.remainingUsd,
          resets_at: st.resetsAt,
          soft_limit_usd: w.policy.softLimitUsd ?? null,
          soft_limit_reached: st.softLimitReached,
        };
      }),
    );
    return c.json({ ...body, scopes });
  });
}
