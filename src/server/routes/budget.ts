import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { type Gateway, unavailable } from '../../gateway/index.ts';
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
  })
  .openapi('Budget');

export const budgetRoute = createRoute({
  method: 'get',
  path: '/v1/budget',
  summary: "The calling key's team budget: spent, reserved and remaining in the current period",
  security: [{ bearer: [] }],
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
    return c.json(await budgetBody(gw, caller.team, caller.budget));
  });
}
