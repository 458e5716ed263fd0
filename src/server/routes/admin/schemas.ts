/** Request and response shapes of the admin API, for validation and the OpenAPI document. */
import { z } from '@hono/zod-openapi';
import { SPEND_DIMENSIONS, SPEND_LIMIT } from '../../../store/index.ts';
import { ErrorSchema } from '../../schemas.ts';

const PERIODS = ['daily', 'weekly', 'monthly', 'total'] as const;

/**
 * Ranges every admin value is checked against before anything is written: past them, money and rate
 * arithmetic loses precision or overflows (and a stored row could no longer be read back or shown).
 */
export const ADMIN_LIMITS = {
  /** USD: a billion is far above any real budget, and keeps nano-dollar sums exact. */
  maxUsd: 1_000_000_000,
  /** Requests or tokens per minute. */
  maxPerMinute: 1_000_000_000,
  /** Entries in a team's model allow-list. */
  maxModels: 1_000,
  /** Characters in a name (team id, key name, model name). */
  maxName: 200,
} as const;

const usd = z
  .number()
  .nonnegative()
  .max(ADMIN_LIMITS.maxUsd, `at most ${ADMIN_LIMITS.maxUsd.toLocaleString('en-US')} USD`);
const perMinute = z
  .number()
  .int()
  .positive()
  .max(ADMIN_LIMITS.maxPerMinute, `at most ${ADMIN_LIMITS.maxPerMinute.toLocaleString('en-US')} per minute`);

const LimitsSchema = z
  .strictObject({ rpm: perMinute.optional(), tpm: perMinute.optional() })
  .openapi('AdminLimits', { description: 'Requests and tokens per minute' });

const alertThresholds = z.array(z.number().gt(0).max(100)).max(10).openapi({
  description:
    'Percents of limit_usd (above 0, at most 100) that each alert once per period, e.g. [50, 80, 95]',
});

export const BudgetSchema = z.strictObject({
  limit_usd: usd,
  period: z.enum(PERIODS).default('monthly'),
  soft_limit_usd: usd
    .optional()
    .openapi({ description: 'Crossing it logs, counts and alerts once per period; it never refuses' }),
  alerts: alertThresholds.optional(),
});

const BudgetsSchema = z.array(BudgetSchema).max(8).openapi({
  description: 'More budget windows of the team, e.g. a daily and a monthly one; a request must fit in each',
});

const ScopeSettingsSchema = z
  .strictObject({
    budget: BudgetSchema.optional(),
    budgets: z.array(BudgetSchema).max(8).optional(),
    limits: LimitsSchema.optional(),
  })
  .openapi('AdminScopeSettings', { description: 'Budget windows and rate limits of a scope' });

const TagScopesSchema = z
  .record(
    z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^"\\]+$/, 'a tag selector cannot contain " or \\'),
    ScopeSettingsSchema,
  )
  .refine((tags) => Object.keys(tags).length <= 100, 'at most 100 tag selectors')
  .openapi({
    description: 'By selector: `<name>:<value>` (that value) or `<name>` (any value, one shared counter)',
  });

const ModelsSchema = z
  .array(z.string().min(1).max(ADMIN_LIMITS.maxName))
  .max(ADMIN_LIMITS.maxModels)
  .openapi({ description: 'Allow-list of models, aliases and presets; absent = all' });

export const CreateTeamSchema = z
  .strictObject({
    id: z
      .string()
      .max(200)
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9_.:@-]*$/,
        'use letters, digits and _ . : @ - (starting with a letter or digit)',
      ),
    budget: BudgetSchema.optional(),
    budgets: BudgetsSchema.optional(),
    end_users: ScopeSettingsSchema.optional().openapi({
      description: "Each end user's own windows and rate limits (the body's `user`), created on first sight",
    }),
    tags: TagScopesSchema.optional(),
    limits: LimitsSchema.optional(),
    models: ModelsSchema.optional(),
  })
  .openapi('AdminTeamCreate');

/** JSON merge patch: absent = unchanged, null = removed, objects merge field by field. */
export const PatchTeamSchema = z
  .strictObject({
    budget: z
      .strictObject({
        limit_usd: usd.optional(),
        period: z.enum(PERIODS).optional(),
        soft_limit_usd: usd.nullable().optional(),
        alerts: alertThresholds.nullable().optional(),
      })
      .nullable()
      .optional(),
    limits: z
      .strictObject({ rpm: perMinute.nullable().optional(), tpm: perMinute.nullable().optional() })
      .nullable()
      .optional(),
    models: ModelsSchema.nullable().optional(),
    budgets: BudgetsSchema.nullable().optional().openapi({ description: 'Replaced whole; null removes' }),
    end_users: ScopeSettingsSchema.nullable()
      .optional()
      .openapi({ description: 'Replaced whole; null removes' }),
    tags: TagScopesSchema.nullable().optional().openapi({ description: 'Replaced whole; null removes' }),
  })
  .openapi('AdminTeamPatch');

export const TeamSchema = z
  .object({
    id: z.string(),
    budget: z
      .object({
        limit_usd: z.number(),
        period: z.enum(PERIODS),
        soft_limit_usd: z.number().optional(),
        alerts: z.array(z.number()).optional(),
      })
      .optional(),
    limits: z.object({ rpm: z.number().optional(), tpm: z.number().optional() }).optional(),
    models: z.array(z.string()).optional(),
    budgets: z.array(z.any()).optional(),
    end_users: z.any().optional(),
    tags: z.record(z.string(), z.any()).optional(),
    source: z
      .enum(['config', 'api'])
      .openapi({ description: 'config: defined in the config file, read-only through this API' }),
    created_at: z.string().nullable(),
    updated_at: z.string().nullable(),
    spent_usd: z.number().optional().openapi({ description: 'Current budget period; teams with a budget' }),
    reserved_usd: z.number().optional(),
    remaining_usd: z.number().optional(),
    resets_at: z.string().nullable().optional(),
    soft_limit_reached: z.boolean().optional(),
  })
  .openapi('AdminTeam');

export const CreateKeySchema = z
  .strictObject({
    team: z.string().min(1).max(ADMIN_LIMITS.maxName),
    name: z.string().min(1).max(ADMIN_LIMITS.maxName),
    expires_at: z
      .union([z.string().max(64), z.number()])
      .nullable()
      .optional()
      .openapi({
        description:
          'ISO 8601 (a bare date is UTC midnight) or epoch ms, in the future and before the year 10000; absent = never',
      }),
    limits: LimitsSchema.optional(),
    budgets: z.array(BudgetSchema).max(8).optional().openapi({
      description: "The key's own budget windows, inside its team's (a request must fit in both)",
    }),
  })
  .openapi('AdminKeyCreate');

export const KeySchema = z
  .object({
    id: z.string(),
    team: z.string(),
    name: z.string(),
    prefix: z.string().openapi({ description: 'The first characters of the key, to recognise it' }),
    status: z.enum(['active', 'revoked', 'expired']),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
    limits: z.object({ rpm: z.number().optional(), tpm: z.number().optional() }).optional(),
    budgets: z
      .array(
        z.object({
          limit_usd: z.number(),
          period: z.enum(PERIODS),
          soft_limit_usd: z.number().optional(),
          alerts: z.array(z.number()).optional(),
        }),
      )
      .optional()
      .openapi({ description: "The key's own budget windows (PUT /admin/keys/{id}/budgets)" }),
  })
  .openapi('AdminKey');

export const CreatedKeySchema = KeySchema.extend({
  key: z.string().openapi({ description: 'The key itself: shown this once, stored only as a hash' }),
}).openapi('AdminCreatedKey');

const spendFilter = (description?: string) => {
  const f = z.string().min(1).max(1000).optional();
  return description ? f.openapi({ description }) : f;
};

export const SpendQuerySchema = z.strictObject({
  group_by: z
    .string()
    .min(1)
    .max(1000)
    .default('day')
    .openapi({
      description: `One or more of ${SPEND_DIMENSIONS.join(', ')} or tag:<name>, comma-separated (e.g. team,model,day); default day`,
    }),
  team: spendFilter(),
  key: spendFilter('A key id (key_…), or static:<name> for a key of the config file'),
  model: spendFilter(),
  user: spendFilter('The end user (`user` of the request; `metadata.user_id` on /v1/messages)'),
  tag: spendFilter('<name> (requests that have the tag) or <name>:<value>'),
  surface: spendFilter('chat.completions, consensus, reviews, responses, messages, embeddings or workflow'),
  run: spendFilter('A workflow run id'),
  step: spendFilter('A workflow step name'),
  from: spendFilter('Inclusive; ISO 8601 or epoch ms'),
  to: spendFilter('Exclusive; a bare date includes that whole day'),
  limit: z
    .string()
    .regex(/^[0-9]{1,6}$/, `expected an integer from 1 to ${SPEND_LIMIT.max}`)
    .optional()
    .openapi({ description: `Rows per page, 1 to ${SPEND_LIMIT.max} (default ${SPEND_LIMIT.default})` }),
  cursor: z
    .string()
    .min(1)
    .max(10_000)
    .optional()
    .openapi({ description: 'next_cursor of the previous page' }),
  format: z
    .enum(['json', 'csv'])
    .optional()
    .openapi({ description: 'json (default; or csv when the Accept header asks for text/csv first)' }),
});

const figures = {
  requests: z.number().openapi({ description: 'Distinct requests (a fan-out is one request)' }),
  calls: z.number().openapi({ description: 'Upstream calls (a fan-out request makes several)' }),
  input_tokens: z.number(),
  output_tokens: z.number(),
  cached_tokens: z.number().openapi({ description: 'Input tokens served from the prompt cache' }),
  cost_nanos: z.number().openapi({ description: 'Integer nano-dollars (1e-9 USD): sums exactly' }),
  cost_usd: z.number(),
};

export const SpendRowSchema = z
  .object({
    group: z.string().nullable().openapi({
      description:
        'One dimension: its value (YYYY-MM-DD for day, ISO hour, name:value for tag); null: none (no key, user, tag…). Several: the values joined by |',
    }),
    ...figures,
  })
  .catchall(z.string().nullable())
  .openapi('SpendRow', {
    description:
      'Also one field per dimension, named as in group_by (team, model, day, tag:project…), and key_name beside key',
  });

export const SpendPageSchema = z
  .object({
    object: z.literal('list'),
    group_by: z.array(z.string()),
    data: z.array(SpendRowSchema),
    totals: z.object(figures).nullable().openapi({
      description:
        "Every selected call's figures, each request once whatever its tags: on the first page (null on the pages after it)",
    }),
    has_more: z.boolean(),
    next_cursor: z.string().nullable(),
  })
  .openapi('SpendPage');

export const IdParams = z.object({ id: z.string().min(1) });

export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({ object: z.literal('list'), data: z.array(item) });

const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorSchema } },
});

export const adminErrors = {
  400: error('Invalid request; `param` names the field'),
  401: error('Missing or wrong master key, or no QUORUM_MASTER_KEY configured'),
  403: error('A team key on the admin API (admin_only)'),
} as const;

export const notFoundError = { 404: error('No such team or key') } as const;
