import { z } from 'zod';
import { CAPABILITIES, CATEGORIES } from '../../routing/types.ts';

/**
 * A number that may arrive as a string: `${VAR:-8080}` interpolates to text, and only the schema knows
 * the field wants a number.
 */
const numeric = <T extends z.ZodType>(schema: T) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v),
    schema,
  );

const positiveInt = numeric(z.number().int().positive());
const nonNegative = numeric(z.number().nonnegative());
const score = numeric(z.number().min(0).max(1));

export const ProviderTypeSchema = z.enum(['openai', 'anthropic', 'gemini', 'demo']);

export const ProviderSchema = z.strictObject({
  id: z.string().regex(/^[a-zA-Z0-9_.-]+$/, 'use letters, digits, _ . or -'),
  type: ProviderTypeSchema,
  base_url: z.url().optional(),
  api_key: z.string().optional(),
  timeout_ms: positiveInt.default(60_000),
  max_retries: numeric(z.number().int().min(0).max(10)).default(1),
  limits: z
    .strictObject({
      rpm: positiveInt.optional(),
      tpm: positiveInt.optional(),
      concurrency: positiveInt.optional(),
    })
    .optional(),
  /** Extra headers sent upstream (e.g. an organisation id). */
  headers: z.record(z.string(), z.string()).optional(),
});

export const ModelSchema = z.strictObject({
  id: z.string().min(1),
  provider: z.string().min(1),
  upstream: z.string().min(1).optional(),
  context_window: positiveInt,
  max_output_tokens: positiveInt,
  price: z.strictObject({
    input: nonNegative,
    output: nonNegative,
    cached_input: nonNegative.optional(),
  }),
  capabilities: z.array(z.enum(CAPABILITIES as [string, ...string[]])).default([]),
  quality: z.partialRecord(z.enum(CATEGORIES as [string, ...string[]]), score).default({}),
  aliases: z.array(z.string().min(1)).default([]),
  weight: numeric(z.number().positive()).default(1),
});

export const EnsembleSchema = z.looseObject({
  strategy: z.enum(['consensus', 'best_of_n', 'ensemble', 'review']),
  models: z.array(z.string()).min(1),
  judge: z.string().optional(),
  quorum: positiveInt.optional(),
  timeout_ms: positiveInt.optional(),
});

export const TeamSchema = z.strictObject({
  // Starts with a letter or digit, as through the admin API: `@master` stays the master key's own.
  id: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_.:@-]*$/,
      'use letters, digits and _ . : @ - (starting with a letter or digit)',
    ),
  budget: z
    .strictObject({
      limit_usd: nonNegative,
      period: z.enum(['daily', 'weekly', 'monthly', 'total']).default('monthly'),
      soft_limit_usd: nonNegative.optional(),
    })
    .optional(),
  limits: z.strictObject({ rpm: positiveInt.optional(), tpm: positiveInt.optional() }).optional(),
  models: z.array(z.string()).optional(),
});

export const KeySchema = z.strictObject({
  key: z.string().min(8, 'keys must be at least 8 characters'),
  team: z.string().min(1),
  name: z.string().optional(),
});

export const ConfigSchema = z.strictObject({
  server: z
    .strictObject({
      max_body_bytes: positiveInt.default(10 * 1024 * 1024),
      request_timeout_ms: positiveInt.default(120_000),
      /** How long a client may take to send its request headers (slow-header connections). */
      headers_timeout_ms: positiveInt.default(10_000),
      /** How long a client may take to send its whole request, headers and body. */
      body_timeout_ms: positiveInt.default(30_000),
      /** How long an idle keep-alive connection is kept open. */
      keep_alive_timeout_ms: positiveInt.default(5_000),
      /** Deepest nesting of arrays/objects accepted in a JSON or YAML body. */
      max_json_depth: positiveInt.default(64),
      /** Browser origins allowed to call the API cross-origin (`*` for any); none by default. */
      cors: z.strictObject({ origins: z.array(z.string().min(1)).default([]) }).prefault({}),
      /**
       * Host names accepted in the `Host` header when no keys are configured (open mode); loopback
       * names are always accepted. Stops DNS-rebinding pages from reading an open gateway.
       */
      allowed_hosts: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  /** GET /metrics: behind a bearer key, and/or on a listener of its own instead of the main port. */
  metrics: z
    .strictObject({
      key: z.string().min(8, 'metrics keys must be at least 8 characters').optional(),
      port: numeric(z.number().int().min(1).max(65535)).optional(),
    })
    .prefault({}),
  providers: z.array(ProviderSchema).optional(),
  models: z.array(z.looseObject({ id: z.string().min(1) })).optional(),
  routing: z
    .strictObject({
      policy: z.enum(['cost', 'balanced', 'quality', 'latency']).default('balanced'),
      fallbacks: z.record(z.string(), z.array(z.string())).default({}),
    })
    .prefault({}),
  /** Exact-match response cache (requests with temperature 0 or `quorum.cache: true`). */
  cache: z
    .strictObject({
      enabled: z.boolean().default(true),
      ttl_ms: positiveInt.default(300_000),
      max_entries: positiveInt.default(1_000),
      /** Total size bound over cached answers (approximate, from their JSON length). */
      max_bytes: positiveInt.default(64 * 1024 * 1024),
    })
    .prefault({}),
  /** Budgets and rate limits: what to do when QUORUM_REDIS_URL is set but Redis does not answer. */
  limits: z.strictObject({ redis_fail_mode: z.enum(['closed', 'open']).default('closed') }).prefault({}),
  ensembles: z.record(z.string(), EnsembleSchema).default({}),
  teams: z.array(TeamSchema).default([]),
  keys: z.array(KeySchema).default([]),
});

export type ProviderType = z.infer<typeof ProviderTypeSchema>;
export type ProviderConfig = z.infer<typeof ProviderSchema>;
export type EnsembleConfig = z.infer<typeof EnsembleSchema>;
export type TeamConfig = z.infer<typeof TeamSchema>;
export type KeyConfig = z.infer<typeof KeySchema>;
export type RawConfig = z.infer<typeof ConfigSchema>;
