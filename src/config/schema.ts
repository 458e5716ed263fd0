import { z } from 'zod';
import { CAPABILITIES, CATEGORIES } from '../../routing/types.ts';
import { checkSampling, EnsembleMemberSchema, SamplingDefaults, STRATEGIES } from '../chat/index.ts';

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

// The `.describe()` texts below are what editors show (schemas/config.schema.json is generated from
// this file by `npm run schemas`): say what a field does for the person writing the file.

export const ProviderTypeSchema = z
  .enum(['openai', 'anthropic', 'gemini', 'demo'])
  .describe(
    'The API this provider speaks: openai (OpenAI or any OpenAI-compatible server), anthropic, gemini, or demo (the built-in deterministic provider).',
  );

export const ProviderSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-zA-Z0-9_.-]+$/, 'use letters, digits, _ . or -')
      .describe('How models refer to this provider (models[].provider). Letters, digits, _ . or -.'),
    type: ProviderTypeSchema,
    base_url: z
      .url()
      .optional()
      .describe(
        "Where the API is. openai: the URL ending in /v1; anthropic and gemini: the server root (http://host:port). Default: the provider's official endpoint.",
      ),
    api_key: z
      .string()
      .optional()
      .describe('The upstream API key. Keep it in the environment: api_key: ${OPENAI_API_KEY}.'),
    timeout_ms: positiveInt.default(60_000).describe('Deadline of one upstream call, in milliseconds.'),
    max_retries: numeric(z.number().int().min(0).max(10))
      .default(1)
      .describe(
        'Retries on the same provider after a 429, 5xx or timeout (honouring retry-after), before the fallbacks are tried. 0 to 10.',
      ),
    limits: z
      .strictObject({
        rpm: positiveInt.optional().describe('Calls started per minute; more wait in a queue.'),
        tpm: positiveInt.optional().describe('Tokens per minute (accepted, not enforced by the queue).'),
        concurrency: positiveInt.optional().describe('Calls in flight at once; more wait in a queue.'),
      })
      .optional()
      .describe(
        "Outbound limits: calls beyond them queue; a call that would wait past the request's deadline fails at once with 429 rate_limit_exceeded (or falls back to another provider).",
      ),
    responses: z
      .boolean()
      .optional()
      .describe(
        "openai only: whether the server also serves OpenAI's Responses API (`{base_url}/responses`). Then POST /v1/responses for this provider's models is passed through raw (built-in tools, reasoning items and every other Responses feature reach it); otherwise it is translated to chat completions. Default: true for OpenAI's own API (base_url unset or on api.openai.com), false for any other OpenAI-compatible server.",
      ),
    /** Extra headers sent upstream (e.g. an organisation id). */
    headers: z
      .record(z.string(), z.string())
      .optional()
      .describe('Extra HTTP headers sent with every upstream call (e.g. an organisation id).'),
  })
  .describe('An upstream account: which API, where, and with which key.');

/** A model entry's fields, before the rule between them (the editor schema makes each optional). */
export const ModelFieldsSchema = z
  .strictObject({
    id: z
      .string()
      .min(1)
      .describe(
        'The name clients send as `model`. An id from the built-in catalog inherits every field this entry does not set. Several entries may share an id (one model on several providers): calls are balanced by weight.',
      ),
    provider: z
      .string()
      .min(1)
      .describe('The providers[].id that serves it (a catalog model: the provider of its type).'),
    upstream: z.string().min(1).optional().describe('The model name sent upstream. Default: id.'),
    context_window: positiveInt.describe('Tokens of context (prompt plus output) the model accepts.'),
    max_output_tokens: positiveInt
      .optional()
      .describe(
        'The most output tokens one call may produce (used when a request sets no max_tokens). Required, except for embedding models.',
      ),
    price: z
      .strictObject({
        input: nonNegative.describe('USD per 1M input tokens.'),
        output: nonNegative.describe('USD per 1M output tokens.'),
        cached_input: nonNegative.optional().describe('USD per 1M cached input tokens. Default: input.'),
      })
      .describe('USD per 1M tokens; every answer is priced exactly from it.'),
    capabilities: z
      .array(z.enum(CAPABILITIES as [string, ...string[]]))
      .default([])
      .describe(
        'What the model supports; the router excludes a model lacking what a request needs. `embeddings` makes it an embedding model: it serves POST /v1/embeddings only (price.input per 1M input tokens, price.output 0).',
      ),
    quality: z
      .partialRecord(z.enum(CATEGORIES as [string, ...string[]]), score)
      .default({})
      .describe(
        'Expected quality per task category, 0 to 1, as the router scores it; a missing category uses general (0.5 without one).',
      ),
    aliases: z.array(z.string().min(1)).default([]).describe('Other names clients may send for this model.'),
    weight: numeric(z.number().positive())
      .default(1)
      .describe('Load-balancing weight among entries that share this id.'),
    default_max_output_tokens: positiveInt
      .optional()
      .describe(
        "Output tokens a caller with a budget is held on, and capped at upstream, when its request sets no max_tokens (overrides budget.default_max_output_tokens and the team's; at most max_output_tokens).",
      ),
  })
  .describe('A model clients may call, with its price and capabilities.');

export const ModelSchema = ModelFieldsSchema.superRefine((model, ctx) => {
  // An embedding model writes no tokens; every other model needs its output bound (holds, routing).
  if (model.max_output_tokens === undefined && !model.capabilities.includes('embeddings')) {
    ctx.addIssue({
      code: 'custom',
      path: ['max_output_tokens'],
      message: 'required (only an embedding model, with capabilities: [embeddings], may leave it out)',
    });
  }
  if (
    model.default_max_output_tokens !== undefined &&
    model.max_output_tokens !== undefined &&
    model.default_max_output_tokens > model.max_output_tokens
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['default_max_output_tokens'],
      message: `${model.default_max_output_tokens} is more than max_output_tokens (${model.max_output_tokens})`,
    });
  }
});

export const EnsembleSchema = z
  .looseObject({
    strategy: z
      .enum(STRATEGIES)
      .describe(
        'consensus: majority vote over the answers; best_of_n: the judge scores each answer; ensemble: the judge synthesises the answers (mixture of agents); fusion: the judge analyses the answers (agreements, contradictions, partial coverage, unique insights, gaps) and the synthesizer writes the final answer from that analysis; review: the first model drafts, the others review and it revises.',
      ),
    models: z
      .array(EnsembleMemberSchema)
      .min(1)
      .describe(
        'The candidate models, in order (a model may repeat). An entry may be a self-ensemble: {model, samples, temperature | temperatures}. review: the author first.',
      ),
    ...SamplingDefaults,
    judge: z
      .string()
      .optional()
      .describe(
        'consensus: breaks ties among free-form answers; best_of_n: scores the candidates (required); ensemble: writes the synthesis (required); fusion: writes the analysis (required).',
      ),
    synthesizer: z
      .string()
      .optional()
      .describe('fusion: writes the final answer from the candidates and the analysis. Default: the judge.'),
    quorum: positiveInt
      .optional()
      .describe('Answer as soon as this many candidates are in; the rest are aborted. Default: all.'),
    timeout_ms: positiveInt
      .optional()
      .describe('Deadline of the whole fan-out, in ms, when shorter than server.request_timeout_ms.'),
  })
  .superRefine(checkSampling)
  .describe(
    'An ensemble preset, called by its name as a model. Also read: layers (ensemble: proposer rounds, 1-4) and rounds (review: at most this many rounds).',
  );

/** Percent thresholds of a budget; each fires one alert per period (src/alerts). */
export const AlertThresholdsSchema = z
  .array(numeric(z.number().gt(0).max(100)))
  .max(10)
  .transform((list) => [...new Set(list)].sort((a, b) => a - b))
  .describe(
    'Percent of limit_usd (above 0, at most 100) at which to alert, e.g. [50, 80, 95]: each fires once per period when spend reaches it, as a log line, a metric, a record (GET /admin/alerts) and a signed webhook (alerts.webhooks).',
  );

/** Where alerts are delivered, and how hard to try. */
export const AlertsSchema = z
  .strictObject({
    webhooks: z
      .array(
        z.strictObject({
          url: z
            .url({ protocol: /^https?$/ })
            .describe('Where alerts are POSTed (JSON). Keep a URL that holds a token in the environment.'),
          secret: z
            .string()
            .min(16, 'webhook secrets must be at least 16 characters')
            .describe(
              'The HMAC-SHA256 key of the x-quorum-signature header (at least 16 characters). Keep it in the environment: secret: ${QUORUM_ALERT_SECRET}.',
            ),
          name: z
            .string()
            .regex(
              /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
              'use letters, digits and _ . - (starting with a letter or digit)',
            )
            .max(100)
            .optional()
            .describe(
              "How lists, logs and metrics name it (the URL never appears, as it may hold a token). Default: the URL's host.",
            ),
        }),
      )
      .default([])
      .describe('Webhooks every alert is sent to, each signed with its own secret.'),
    max_attempts: numeric(z.number().int().min(1).max(50))
      .default(12)
      .describe('Tries per webhook and alert before it is marked failed (the first try included).'),
    backoff_ms: positiveInt
      .default(10_000)
      .describe(
        'Wait before the first retry, in ms; each later retry waits twice as long as the one before.',
      ),
    max_backoff_ms: positiveInt.default(3_600_000).describe('The longest wait between two tries, in ms.'),
    timeout_ms: positiveInt
      .default(10_000)
      .describe('How long one try may take (connect, send, answer) before it counts as failed, in ms.'),
    poll_ms: positiveInt
      .default(2_000)
      .describe(
        'How often the background loop looks for alerts to record and deliveries that are due (other instances sharing the database included), in ms.',
      ),
  })
  .prefault({})
  .describe(
    "Budget alerts (each budget's alerts thresholds and soft limit): recorded in the database once per period and threshold, logged, counted, and POSTed to these webhooks off the request path, retried with exponential backoff.",
  );

/**
 * The output allowance of a request without max_tokens, for a caller with a budget, and the smallest
 * output cap a short budget may clamp a request to before refusing it (src/gateway/budget/output-cap.ts).
 * Kept as one small object: the top-level `budget` section is it with defaults, a team's budget takes
 * its fields as overrides.
 */
const outputCapFields = {
  default_max_output_tokens: positiveInt.describe(
    'Output tokens a request without max_tokens (or max_completion_tokens) is held on and capped at upstream, when its caller has a budget. Without a budget nothing is capped. Default 4096.',
  ),
  min_output_tokens: positiveInt.describe(
    "When the remaining budget cannot pay for a request's output cap, the cap is lowered to what it can pay for, but never below this many tokens: below it the request is refused (429 budget_exceeded). Default 256.",
  ),
};

export const BudgetDefaultsSchema = z
  .strictObject({
    default_max_output_tokens: outputCapFields.default_max_output_tokens.default(4096),
    min_output_tokens: outputCapFields.min_output_tokens.default(256),
  })
  .refine((b) => b.min_output_tokens <= b.default_max_output_tokens, {
    path: ['min_output_tokens'],
    message: 'must not be more than default_max_output_tokens',
  })
  .prefault({})
  .describe(
    "Output caps for callers with a budget: the allowance a request without max_tokens is held on (and capped at), and the floor a short budget may lower a request's cap to before refusing it. A team's budget and a model entry may override the allowance.",
  );

export const BudgetWindowSchema = z
  .strictObject({
    limit_usd: nonNegative.describe(
      'USD the scope may spend per period. A request whose worst-case cost would pass it is refused (429 budget_exceeded).',
    ),
    period: z
      .enum(['daily', 'weekly', 'monthly', 'total'])
      .default('monthly')
      .describe('When spend starts again from zero (UTC); total never resets.'),
    soft_limit_usd: nonNegative
      .optional()
      .describe(
        'Crossing it logs a warning once per period, counts a metric and sends a soft_limit alert to the webhooks (alerts.webhooks); it never refuses.',
      ),
    alerts: AlertThresholdsSchema.optional(),
  })
  .describe('One budget window: a limit per period (UTC calendar resets; total never resets).');

/** Several windows of one scope; each must cover a request. */
export const BudgetWindowsSchema = z.array(BudgetWindowSchema).max(8).optional();

const ScopeRatesSchema = z
  .strictObject({
    rpm: positiveInt.optional().describe('Requests per minute (sliding window).'),
    tpm: positiveInt.optional().describe('Tokens per minute (sliding window, estimated then corrected).'),
  })
  .optional();

/** A scope's budgets and rate limits (an end user's, a tag's). */
export const ScopeLimitsSchema = z.strictObject({
  budget: BudgetWindowSchema.optional().describe('One budget window.'),
  budgets: BudgetWindowsSchema.describe('Several budget windows; a request must fit in each.'),
  limits: ScopeRatesSchema.describe('Rate limits; past them 429 rate_limit_exceeded with retry-after.'),
});

export const TeamSchema = z
  .strictObject({
    // Starts with a letter or digit, as through the admin API: `@master` stays the master key's own.
    id: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9_.:@-]*$/,
        'use letters, digits and _ . : @ - (starting with a letter or digit)',
      )
      .describe('The team id keys name. Letters, digits and _ . : @ -, starting with a letter or digit.'),
    budget: BudgetWindowSchema.extend({
      default_max_output_tokens: outputCapFields.default_max_output_tokens.optional(),
      min_output_tokens: outputCapFields.min_output_tokens.optional(),
    })
      .optional()
      .describe('The team budget. Without one (and without budgets) the team may spend without limit.'),
    budgets: BudgetWindowsSchema.describe(
      'Several team budgets at once, e.g. a daily and a monthly one: a request must fit in every one (with budget, if given too).',
    ),
    limits: z
      .strictObject({
        rpm: positiveInt.optional().describe('Requests per minute (sliding window).'),
        tpm: positiveInt.optional().describe('Tokens per minute (sliding window, estimated then corrected).'),
      })
      .optional()
      .describe('Rate limits of the whole team; past them 429 rate_limit_exceeded with retry-after.'),
    end_users: ScopeLimitsSchema.optional().describe(
      "Budgets and rate limits of each end user of the team (the body's `user`, or Anthropic's metadata.user_id), each on its own counter, created on first sight.",
    ),
    tags: z
      .record(
        z
          .string()
          .min(1)
          .max(200)
          .regex(/^[^"\\]+$/, 'a tag selector cannot contain " or \\'),
        ScopeLimitsSchema,
      )
      .optional()
      .describe(
        'Budgets and rate limits of tagged requests (quorum.tags), by selector: `<name>:<value>` (requests whose tag has that value) or `<name>` (every request carrying the tag, whatever its value; one shared counter).',
      ),
    models: z
      .array(z.string())
      .optional()
      .describe(
        'Allow-list: the model ids, aliases, ensemble presets and auto[:policy] names the team may use; everything a request could reach is checked. Absent: every model.',
      ),
  })
  .describe('A team: budget, rate limits and model allow-list. Keys belong to teams.');

export const KeySchema = z
  .strictObject({
    key: z
      .string()
      .min(8, 'keys must be at least 8 characters')
      .describe(
        'The bearer token clients send (at least 8 characters). Keep it in the environment: key: ${RESEARCH_KEY}.',
      ),
    team: z.string().min(1).describe('The teams[].id the key belongs to (or default, an unrestricted team).'),
    name: z
      .string()
      .optional()
      .describe('A label for logs and the ledger (spend by key shows it as static:<name>).'),
    budget: BudgetWindowSchema.optional().describe(
      "The key's own budget, inside its team's (a request must fit in both). Needs a name.",
    ),
    budgets: BudgetWindowsSchema.describe("The key's own budget windows, inside its team's. Needs a name."),
    limits: ScopeRatesSchema.describe("The key's own rate limits, inside its team's."),
  })
  .refine((k) => k.name !== undefined || (!k.budget && !k.budgets?.length), {
    message: 'a static key with a budget needs a name (its spend is counted under static:<name>)',
    path: ['budget'],
  })
  .describe('A static API key.');

/** What the router learns from outcomes (feedback, judges, votes, reviews, schema failures, corrections). */
export const LearningSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        'false: the router uses the catalog quality only; nothing is learnt and POST /v1/feedback is accepted but ignored.',
      ),
    min_observations: numeric(z.number().int().min(0))
      .default(20)
      .describe(
        "Observations of a model in a category (decayed count) before what was learnt moves the router; until then the catalog's quality is used.",
      ),
    half_life_days: numeric(z.number().positive())
      .default(30)
      .describe('An observation counts half as much after this many days, a quarter after twice as many.'),
    prior_strength: numeric(z.number().positive())
      .default(50)
      .describe(
        "How many observations the catalog's quality is worth: the learnt quality is (prior_strength × catalog + sum of scores) / (prior_strength + observations).",
      ),
    refresh_seconds: positiveInt
      .default(30)
      .describe(
        'How often each instance writes what it learnt to the database and reads what every instance learnt.',
      ),
    feedback_window_days: positiveInt
      .default(7)
      .describe('POST /v1/feedback accepts feedback on requests answered within this many days.'),
  })
  .prefault({})
  .describe(
    "Learning from outcomes: each model's quality per category, estimated from what happens after the router decides.",
  );

export const ConfigSchema = z
  .strictObject({
    server: z
      .strictObject({
        max_body_bytes: positiveInt
          .default(10 * 1024 * 1024)
          .describe(
            'Largest request body, in bytes (413 body_too_large past it); also bounds what a workflow template may expand to.',
          ),
        request_timeout_ms: positiveInt
          .default(120_000)
          .describe(
            "Deadline of a request's whole upstream chain (retries and fallbacks), in ms; past it 504 upstream_timeout.",
          ),
        /** How long a client may take to send its request headers (slow-header connections). */
        headers_timeout_ms: positiveInt
          .default(10_000)
          .describe('How long a client may take to send its request headers, in ms.'),
        /** How long a client may take to send its whole request, headers and body. */
        body_timeout_ms: positiveInt
          .default(30_000)
          .describe('How long a client may take to send its whole request (headers and body), in ms.'),
        /** How long an idle keep-alive connection is kept open. */
        keep_alive_timeout_ms: positiveInt
          .default(5_000)
          .describe('How long an idle keep-alive connection is kept open, in ms.'),
        /**
         * SIGTERM: how long the gateway keeps accepting requests while /readyz already answers 503,
         * so a load balancer that polls it stops sending before the listener closes.
         */
        drain_delay_ms: numeric(z.number().int().min(0))
          .default(0)
          .describe(
            "After SIGTERM, how long requests are still accepted while /readyz answers 503, in ms, so a load balancer stops sending before the listener closes; set it to the balancer's health-check interval times its failure threshold (0: close at once; on Kubernetes a preStop sleep does this).",
          ),
        /** SIGTERM: how long in-flight requests may take to finish before their connections are cut. */
        drain_timeout_ms: positiveInt
          .default(30_000)
          .describe(
            'After SIGTERM and the drain delay, how long in-flight requests (streams included) may take to finish, in ms; connections still open then are cut.',
          ),
        /** Deepest nesting of arrays/objects accepted in a JSON or YAML body. */
        max_json_depth: positiveInt
          .default(64)
          .describe('Deepest nesting of arrays and objects accepted in a JSON or YAML body (400 past it).'),
        /** Browser origins allowed to call the API cross-origin (`*` for any); none by default. */
        cors: z
          .strictObject({
            origins: z
              .array(z.string().min(1))
              .default([])
              .describe('Origins such as https://app.example.com, or * for any.'),
          })
          .prefault({})
          .describe(
            'Browser origins allowed to call the API cross-origin; any other Origin is refused (403 origin_not_allowed). None by default.',
          ),
        /**
         * Host names accepted in the `Host` header when no keys are configured (open mode); loopback
         * names are always accepted. Stops DNS-rebinding pages from reading an open gateway.
         */
        allowed_hosts: z
          .array(z.string().min(1))
          .default([])
          .describe(
            'With no keys configured (open mode), the Host names answered besides loopback ones (403 host_not_allowed otherwise).',
          ),
      })
      .prefault({})
      .describe('Limits of the HTTP server.'),
    /** GET /metrics: behind a bearer key, and/or on a listener of its own instead of the main port. */
    metrics: z
      .strictObject({
        key: z
          .string()
          .min(8, 'metrics keys must be at least 8 characters')
          .optional()
          .describe('GET /metrics then needs Authorization: Bearer <this key> (or the master key).'),
        port: numeric(z.number().int().min(1).max(65535))
          .optional()
          .describe('Serve /metrics on this port (same host) instead of the main one.'),
      })
      .prefault({})
      .describe('Who may read GET /metrics (Prometheus). By default only loopback peers, on the main port.'),
    providers: z
      .array(ProviderSchema)
      .optional()
      .describe(
        'Upstream accounts. Absent or empty: one per OPENAI_API_KEY / ANTHROPIC_API_KEY / GEMINI_API_KEY found, else the demo provider.',
      ),
    models: z
      .array(z.looseObject({ id: z.string().min(1) }))
      .optional()
      .describe(
        "The models clients may call. Absent: every catalog model of each provider's type (the demo models for a demo provider).",
      ),
    routing: z
      .strictObject({
        policy: z
          .enum(['cost', 'balanced', 'quality', 'latency'])
          .default('balanced')
          .describe('How "model": "auto" chooses; auto:<policy> picks one per request.'),
        fallbacks: z
          .record(z.string(), z.array(z.string()))
          .default({})
          .describe(
            'Model name → the models to try, in order, when it fails (after its own retries). A request may send its own quorum.fallbacks.',
          ),
        learning: LearningSchema,
      })
      .prefault({})
      .describe('The router and fallback chains.'),
    /** Exact-match response cache (requests with temperature 0 or `quorum.cache: true`). */
    cache: z
      .strictObject({
        enabled: z.boolean().default(true).describe('false turns the cache off.'),
        ttl_ms: positiveInt.default(300_000).describe('How long an answer is kept, in ms.'),
        max_entries: positiveInt.default(1_000).describe('Answers kept at most (least recently used go).'),
        /** Total size bound over cached answers (approximate, from their JSON length). */
        max_bytes: positiveInt
          .default(64 * 1024 * 1024)
          .describe('Total size of the kept answers, in bytes (approximate, from their JSON length).'),
      })
      .prefault({})
      .describe(
        'Exact-match response cache, per team, for requests with temperature 0 or "quorum": {"cache": true}.',
      ),
    /** Budgets and rate limits: what to do when QUORUM_REDIS_URL is set but Redis does not answer. */
    limits: z
      .strictObject({
        redis_fail_mode: z
          .enum(['closed', 'open'])
          .default('closed')
          .describe(
            'closed: refuse requests with 503 limits_unavailable until Redis is back; open: each instance meters against its own memory meanwhile.',
          ),
      })
      .prefault({})
      .describe('Budgets and rate limits when QUORUM_REDIS_URL is set but Redis does not answer.'),
    alerts: AlertsSchema,
    budget: BudgetDefaultsSchema,
    /** Workflow steps when several instances share Postgres and Redis (steps run as shared jobs). */
    workflows: z
      .strictObject({
        lock_ms: numeric(z.number().int().min(1000))
          .default(10_000)
          .describe(
            "Several instances: how long a step's job lock lasts without renewal (renewed every half of it while the step runs). A step whose instance died is taken over by another within about 1.5 × this.",
          ),
        concurrency: numeric(z.number().int().min(0))
          .default(4)
          .describe(
            'Model steps this instance runs at once. 0 (several instances only): it runs none, and serves the API only.',
          ),
        queue_prefix: z
          .string()
          .regex(/^[A-Za-z0-9_:.-]{1,64}$/)
          .default('quorum')
          .describe(
            "Several instances: the prefix of the step queue's keys in Redis (installs sharing one Redis each use their own).",
          ),
      })
      .prefault({})
      .describe(
        'Workflow steps. With QUORUM_DATABASE_URL on Postgres and QUORUM_REDIS_URL set, steps run as jobs that every instance shares; otherwise in this process only (single instance).',
      ),
    /** The request log (GET /v1/requests): one row per proxied request, written off the request path. */
    logging: z
      .strictObject({
        requests: z
          .boolean()
          .default(true)
          .describe('Keep a record of every proxied request (GET /v1/requests). false: none is kept.'),
        retention_days: positiveInt
          .default(30)
          .describe('Request records older than this many days are deleted (checked hourly).'),
        content: z
          .boolean()
          .default(false)
          .describe(
            "Also keep each request's prompt and answer text (and a fan-out's candidate answers). Off: no prompt or answer text is stored or shown.",
          ),
        content_retention_days: positiveInt
          .default(7)
          .describe(
            'Prompt and answer text older than this many days is erased from the records (checked hourly).',
          ),
      })
      .prefault({})
      .describe(
        'The request log behind GET /v1/requests and the dashboard: what is kept, and for how long. Needs the database.',
      ),
    ensembles: z
      .record(z.string(), EnsembleSchema)
      .default({})
      .describe('Ensemble presets by name; a client calls one as its model ("model": "panel").'),
    teams: z.array(TeamSchema).default([]).describe('Teams with budgets, rate limits and allow-lists.'),
    keys: z
      .array(KeySchema)
      .default([])
      .describe('Static API keys. Keys made with the admin API live in the database instead.'),
  })
  .describe('Quorum gateway configuration (config/quorum.yaml, or the file QUORUM_CONFIG names).');

export type ProviderType = z.infer<typeof ProviderTypeSchema>;
export type ProviderConfig = z.infer<typeof ProviderSchema>;
export type EnsembleConfig = z.infer<typeof EnsembleSchema>;
export type TeamConfig = z.infer<typeof TeamSchema>;
export type KeyConfig = z.infer<typeof KeySchema>;
export type LearningConfig = z.infer<typeof LearningSchema>;
export type AlertsConfig = z.infer<typeof AlertsSchema>;
export type BudgetDefaultsConfig = z.infer<typeof BudgetDefaultsSchema>;
export type RawConfig = z.infer<typeof ConfigSchema>;
