/** The request log's routes and shapes, for the OpenAPI document. */
import { createRoute, z } from '@hono/zod-openapi';
import { SURFACE_NAMES } from '../../../request-log/index.ts';
import { ErrorSchema } from '../../schemas.ts';
import { DEFAULT_LIMIT, MAX_LIMIT, MAX_SPAN_DAYS } from './query.ts';

const Filters = {
  team: z.string().optional().openapi({
    description: "Master key: one team's requests. A team key sees only its own team (another is a 404)",
  }),
  key: z.string().optional().openapi({ description: "A key's id (static:<name> for a config key) or name" }),
  model: z.string().optional().openapi({ description: 'The model asked for, or one that answered' }),
  status: z
    .string()
    .optional()
    .openapi({ description: 'Status classes and codes, comma-separated: 2xx, 4xx,5xx, 429' }),
  surface: z
    .string()
    .optional()
    .openapi({ description: `Comma-separated, of: ${SURFACE_NAMES.join(', ')}` }),
  tag: z.string().optional().openapi({ description: 'A tag: name, or name:value' }),
  q: z
    .string()
    .optional()
    .openapi({ description: 'Case-insensitive text in the request id, the models or the error' }),
};

const Summary = z
  .looseObject({
    object: z.literal('request'),
    id: z.string(),
    created_at: z.string(),
    surface: z.string(),
    path: z.string().nullable(),
    team: z.string(),
    key_id: z.string().nullable(),
    key_name: z.string().nullable(),
    model: z.string().nullable().openapi({ description: 'The model asked for' }),
    models: z.array(z.string()).openapi({ description: 'The models that answered' }),
    status: z.number(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    stream: z.boolean(),
    cache: z.enum(['hit', 'miss']).nullable(),
    tags: z.record(z.string(), z.string()).nullable(),
    usage: z.object({ input_tokens: z.number(), output_tokens: z.number() }),
    cost_usd: z.number(),
    latency_ms: z.number(),
    overhead_ms: z.number().nullable(),
  })
  .openapi('RequestSummary');

const RecordSchema = Summary.extend({
  attempts: z.array(
    z.object({
      model: z.string(),
      provider: z.string(),
      status: z.number(),
      error: z.string().optional(),
      latency_ms: z.number(),
    }),
  ),
  route: z.looseObject({}).nullable().openapi({ description: "`auto`'s decision, as quorum.route" }),
  panel: z
    .looseObject({ strategy: z.string(), candidates: z.array(z.looseObject({ model: z.string() })) })
    .nullable()
    .openapi({ description: "A fan-out's candidates, agreement, selection and judge" }),
  review: z.looseObject({}).nullable(),
  content: z
    .looseObject({ prompt: z.unknown(), answer: z.string().nullable() })
    .nullable()
    .openapi({ description: 'Only while logging.content is on' }),
}).openapi('RequestRecord');

const errors = {
  400: { description: 'Invalid query', content: { 'application/json': { schema: ErrorSchema } } },
  401: { description: 'Missing or invalid key', content: { 'application/json': { schema: ErrorSchema } } },
  404: {
    description: 'Unknown request or team',
    content: { 'application/json': { schema: ErrorSchema } },
  },
};

export const listRoute = createRoute({
  method: 'get',
  path: '/v1/requests',
  summary: `Recent proxied requests, newest first, paged by cursor (the caller's team; every team's for the master key)`,
  security: [{ bearer: [] }],
  request: {
    query: z.object({
      ...Filters,
      from: z
        .string()
        .optional()
        .openapi({ description: 'Inclusive; ISO 8601 or epoch ms. Default: `to` − 24 h' }),
      to: z.string().optional().openapi({ description: 'Exclusive; ISO 8601 or epoch ms. Default: now' }),
      limit: z
        .string()
        .optional()
        .openapi({ description: `1 to ${MAX_LIMIT} (default ${DEFAULT_LIMIT})` }),
      cursor: z.string().optional().openapi({ description: 'next_cursor of the previous page' }),
    }),
  },
  responses: {
    200: {
      description: `A page; \`to\` − \`from\` spans at most ${MAX_SPAN_DAYS} days`,
      content: {
        'application/json': {
          schema: z.object({
            object: z.literal('list'),
            data: z.array(Summary),
            has_more: z.boolean(),
            next_cursor: z.string().nullable(),
            from: z.string(),
            to: z.string(),
          }),
        },
      },
    },
    ...errors,
  },
});

export const streamRoute = createRoute({
  method: 'get',
  path: '/v1/requests/stream',
  summary: 'SSE live tail: each request that finishes from now on (event: request, data: the list item)',
  security: [{ bearer: [] }],
  request: { query: z.object(Filters) },
  responses: {
    200: { description: 'The event stream', content: { 'text/event-stream': { schema: z.string() } } },
    ...errors,
  },
});

export const getRoute = createRoute({
  method: 'get',
  path: '/v1/requests/{id}',
  summary: 'One request, whole: attempts, route decision, fan-out panel, and (with content logging) text',
  security: [{ bearer: [] }],
  request: { params: z.object({ id: z.string() }) },
  responses: {
    200: { description: 'The record', content: { 'application/json': { schema: RecordSchema } } },
    ...errors,
  },
});
