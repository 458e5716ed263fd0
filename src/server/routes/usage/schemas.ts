/** Query and answer shapes of `GET /v1/usage` and `GET /v1/usage/budgets`, for validation and /openapi.json. */
import { z } from '@hono/zod-openapi';
import { DEFAULT_BUCKETS, GROUP_LIMIT, MAX_SPAN_MS } from '../../../store/index.ts';
import { BudgetSchema } from '../budget.ts';

const DAY_MS = 86_400_000;
const filter = z.string().min(1).max(1000);

export const UsageQuerySchema = z.strictObject({
  from: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .openapi({
      description: `Inclusive; ISO 8601 or epoch ms. Default: ${DEFAULT_BUCKETS.day} days (bucket=day) or ${DEFAULT_BUCKETS.hour} hours (bucket=hour) of buckets ending with \`to\`'s`,
    }),
  to: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .openapi({ description: 'Exclusive (a bare date includes that whole UTC day); default now' }),
  bucket: z
    .enum(['day', 'hour'])
    .default('day')
    .openapi({
      description: `UTC days (span at most ${MAX_SPAN_MS.day / DAY_MS} days) or hours (at most ${MAX_SPAN_MS.hour / DAY_MS} days)`,
    }),
  group_by: z
    .string()
    .min(1)
    .max(204)
    .optional()
    .openapi({ description: 'none (default), team, key, model, user, surface, run or tag:<name>' }),
  team: filter.optional().openapi({ description: 'Master key only; a team key is always its own team' }),
  key: filter.optional().openapi({ description: 'A key id (key_…) or static:<name>' }),
  model: filter.optional(),
  user: filter.optional().openapi({ description: 'The end user (`user` of the request)' }),
  surface: filter.optional().openapi({ description: 'chat.completions, consensus, …, or workflow' }),
  run: filter.optional().openapi({ description: 'A workflow run id' }),
  step: filter.optional().openapi({ description: 'A workflow step name' }),
  tag: filter
    .optional()
    .openapi({ description: '<name>:<value>: requests whose tag <name> is <value>; <name>: that have it' }),
  limit: z
    .string()
    .regex(/^[0-9]{1,3}$/, `expected an integer from 1 to ${GROUP_LIMIT.max}`)
    .optional()
    .openapi({
      description: `Groups shown on their own, 1 to ${GROUP_LIMIT.max} (default ${GROUP_LIMIT.default}); the rest are one "other" group`,
    }),
});

const figures = {
  requests: z.number().openapi({ description: 'Distinct requests (a fan-out is one request)' }),
  calls: z.number().openapi({ description: 'Upstream calls (ledger rows)' }),
  input_tokens: z.number(),
  output_tokens: z.number(),
  cached_tokens: z.number().openapi({ description: 'Input tokens served from the prompt cache' }),
  cost_nanos: z.number().openapi({ description: 'Integer nano-dollars (1e-9 USD): sums exactly' }),
  cost_usd: z.number(),
};

const group = {
  group: z.string().nullable().openapi({
    description:
      'Team, key id, model, end user, surface, run or tag value; null: none (no key, no such tag…), or other',
  }),
  other: z.boolean().openapi({ description: 'The sum of every group past `limit`' }),
};

export const UsageSchema = z
  .object({
    object: z.literal('usage'),
    from: z.string(),
    to: z.string(),
    bucket: z.enum(['day', 'hour']),
    group_by: z.string(),
    limit: z.number(),
    filters: z.object({
      team: z.string().nullable().openapi({ description: "A team key's own team, always" }),
      key: z.string().nullable(),
      model: z.string().nullable(),
      user: z.string().nullable(),
      surface: z.string().nullable(),
      run: z.string().nullable(),
      step: z.string().nullable(),
      tag: z.string().nullable(),
    }),
    buckets: z
      .array(z.string())
      .openapi({ description: 'Every bucket start of the range, with usage or not' }),
    totals: z.object(figures),
    groups: z.array(z.object({ ...group, ...figures })),
    series: z.array(z.object({ start: z.string(), ...group, ...figures })).openapi({
      description: 'One point per bucket and group with usage, by bucket and then in the order of groups',
    }),
  })
  .openapi('Usage');

export const UsageBudgetsSchema = z
  .object({ object: z.literal('list'), data: z.array(BudgetSchema) })
  .openapi('UsageBudgets');
