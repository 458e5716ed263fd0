import { z } from '@hono/zod-openapi';

/** Response shapes, for the OpenAPI document. Requests are validated by the schemas in src/chat. */
export const ErrorSchema = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string(),
      param: z.string().nullable(),
      code: z.string().nullable(),
    }),
  })
  .openapi('Error');

const Attempt = z.object({
  model: z.string(),
  provider: z.string(),
  status: z.number(),
  error: z.string().optional(),
});

export const QuorumRecordSchema = z
  .looseObject({ request_id: z.string(), cost_usd: z.number(), attempts: z.array(Attempt) })
  .openapi('QuorumRecord');

export const UsageSchema = z.object({
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  total_tokens: z.number(),
  prompt_tokens_details: z.object({ cached_tokens: z.number() }),
  completion_tokens_details: z.object({ reasoning_tokens: z.number() }),
});

export const ChatCompletionSchema = z
  .object({
    id: z.string(),
    object: z.literal('chat.completion'),
    created: z.number(),
    model: z.string().openapi({ description: 'Catalog id of the model that answered' }),
    choices: z.array(
      z.object({
        index: z.number(),
        message: z.looseObject({ role: z.literal('assistant'), content: z.string().nullable() }),
        finish_reason: z.enum(['stop', 'length', 'tool_calls', 'content_filter']),
      }),
    ),
    usage: UsageSchema,
    quorum: QuorumRecordSchema,
  })
  .openapi('ChatCompletion');

export const EmbeddingListSchema = z
  .object({
    object: z.literal('list'),
    data: z.array(
      z.object({
        object: z.literal('embedding'),
        index: z.number().openapi({ description: "The input's position in `input`" }),
        embedding: z.union([z.array(z.number()), z.string()]).openapi({
          description: 'Floats, or with `encoding_format: "base64"` their little-endian float32 bytes',
        }),
      }),
    ),
    model: z.string().openapi({ description: 'Catalog id of the model that answered' }),
    usage: z.object({ prompt_tokens: z.number(), total_tokens: z.number() }),
    quorum: QuorumRecordSchema,
  })
  .openapi('EmbeddingList');

export const ModelObjectSchema = z
  .object({
    id: z.string(),
    object: z.literal('model'),
    created: z.number(),
    owned_by: z.string(),
    quorum: z.looseObject({ kind: z.enum(['model', 'alias', 'router', 'preset']) }),
  })
  .openapi('Model');

export const ModelListSchema = z
  .object({ object: z.literal('list'), data: z.array(ModelObjectSchema) })
  .openapi('ModelList');

export const StatusSchema = z.object({ status: z.literal('ok') }).openapi('Status');

export const errorResponses = {
  400: { description: 'Invalid request', content: { 'application/json': { schema: ErrorSchema } } },
  401: {
    description: 'Missing or invalid API key',
    content: { 'application/json': { schema: ErrorSchema } },
  },
  403: {
    description: 'Model not allowed for the team',
    content: { 'application/json': { schema: ErrorSchema } },
  },
  404: { description: 'Unknown model', content: { 'application/json': { schema: ErrorSchema } } },
  413: { description: 'Body too large', content: { 'application/json': { schema: ErrorSchema } } },
  429: {
    description: 'Budget or rate limit exceeded',
    content: { 'application/json': { schema: ErrorSchema } },
  },
  502: {
    description: 'Every upstream attempt failed',
    content: { 'application/json': { schema: ErrorSchema } },
  },
  504: {
    description: 'The request ran out of time',
    content: { 'application/json': { schema: ErrorSchema } },
  },
} as const;

/** The Anthropic Messages surface's error body (its paths answer errors in this shape). */
export const AnthropicErrorSchema = z
  .object({
    type: z.literal('error'),
    error: z.object({
      type: z
        .string()
        .openapi({ description: 'invalid_request_error, authentication_error, permission_error, …' }),
      message: z.string(),
      details: z.object({
        error_code: z.string().openapi({ description: "Quorum's code, e.g. budget_exceeded" }),
      }),
    }),
    request_id: z.string(),
  })
  .openapi('AnthropicError');

export const AnthropicMessageSchema = z
  .looseObject({
    id: z.string(),
    type: z.literal('message'),
    role: z.literal('assistant'),
    model: z.string().openapi({ description: 'Catalog id of the model that answered' }),
    content: z.array(z.looseObject({ type: z.string() })),
    stop_reason: z.string().nullable(),
    stop_sequence: z.string().nullable(),
    usage: z.looseObject({
      input_tokens: z.number(),
      output_tokens: z.number(),
      cache_creation_input_tokens: z.number().nullish(),
      cache_read_input_tokens: z.number().nullish(),
    }),
  })
  .openapi('AnthropicMessage');

const anthropicError = (description: string) => ({
  description,
  content: { 'application/json': { schema: AnthropicErrorSchema } },
});

/** The Messages surface's error answers, in Anthropic's shape. */
export const anthropicErrorResponses = {
  400: anthropicError(
    'invalid_request_error: malformed JSON, a missing or wrong field, a feature the model cannot take',
  ),
  401: anthropicError('authentication_error: missing or invalid API key'),
  403: anthropicError("permission_error: the model is outside the team's allow-list"),
  404: anthropicError('not_found_error: unknown model'),
  413: anthropicError('request_too_large: body over server.max_body_bytes'),
  429: anthropicError('rate_limit_error: budget (error_code budget_exceeded) or rate limit'),
  502: anthropicError('api_error: every upstream attempt failed'),
  504: anthropicError('timeout_error: the request ran out of time'),
  529: anthropicError('overloaded_error: every upstream attempt was refused as overloaded'),
} as const;
