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
