/** The Responses API's paths and shapes in the OpenAPI document. */
import { createRoute, z } from '@hono/zod-openapi';
import { ResponseCreateSchema } from '../../../responses/index.ts';
import { ErrorSchema, errorResponses, QuorumRecordSchema } from '../../schemas.ts';

const ResponseObjectSchema = z
  .looseObject({
    id: z.string().openapi({ example: 'resp_67ccd3a9da748190baa7f1570fe91ac604becb25c45c1d41' }),
    object: z.literal('response'),
    created_at: z.number(),
    status: z.enum(['completed', 'incomplete', 'failed', 'in_progress']),
    model: z.string().openapi({ description: 'Catalog id of the model that answered' }),
    output: z.array(z.looseObject({ id: z.string(), type: z.enum(['message', 'function_call']) })),
    previous_response_id: z.string().nullable(),
    store: z.boolean(),
    usage: z
      .object({
        input_tokens: z.number(),
        input_tokens_details: z.object({ cached_tokens: z.number() }),
        output_tokens: z.number(),
        output_tokens_details: z.object({ reasoning_tokens: z.number() }),
        total_tokens: z.number(),
      })
      .nullable(),
    quorum: QuorumRecordSchema.optional(),
  })
  .openapi('Response');

const ItemListSchema = z
  .object({
    object: z.literal('list'),
    data: z.array(z.looseObject({ id: z.string(), type: z.string() })),
    first_id: z.string().nullable(),
    last_id: z.string().nullable(),
    has_more: z.boolean(),
  })
  .openapi('ResponseItemList');

const DeletedSchema = z
  .object({ id: z.string(), object: z.literal('response.deleted'), deleted: z.literal(true) })
  .openapi('ResponseDeleted');

const Params = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) });
const notFound = {
  404: {
    description: 'No such response for this team',
    content: { 'application/json': { schema: ErrorSchema } },
  },
};

export const responsesRoutes = [
  createRoute({
    method: 'post',
    path: '/v1/responses',
    summary:
      'OpenAI Responses API: create a response (JSON, or SSE events with `stream: true`); passed through raw to upstreams that serve the API (then any field they know is accepted), translated for every other model',
    security: [{ bearer: [] }],
    request: {
      body: { required: true, content: { 'application/json': { schema: ResponseCreateSchema } } },
    },
    responses: {
      200: {
        description:
          'The response; with `stream: true`, SSE events `response.created` … `response.completed` (each `event:` its type, every one with `sequence_number`)',
        content: {
          'application/json': { schema: ResponseObjectSchema },
          'text/event-stream': { schema: z.string() },
        },
      },
      ...errorResponses,
    },
  }),
  createRoute({
    method: 'get',
    path: '/v1/responses/{id}',
    summary: 'A stored response (the caller’s team’s)',
    security: [{ bearer: [] }],
    request: { params: Params },
    responses: {
      200: { description: 'The response', content: { 'application/json': { schema: ResponseObjectSchema } } },
      ...notFound,
    },
  }),
  createRoute({
    method: 'delete',
    path: '/v1/responses/{id}',
    summary: 'Delete a stored response',
    security: [{ bearer: [] }],
    request: { params: Params },
    responses: {
      200: { description: 'Deleted', content: { 'application/json': { schema: DeletedSchema } } },
      ...notFound,
    },
  }),
  createRoute({
    method: 'get',
    path: '/v1/responses/{id}/input_items',
    summary:
      'The input items of a stored response (`limit` 1-100, default 20; `order` asc|desc, default desc; `after`, `before` item ids)',
    security: [{ bearer: [] }],
    request: {
      params: Params,
      query: z.object({
        limit: z.string().optional(),
        order: z.enum(['asc', 'desc']).optional(),
        after: z.string().optional(),
        before: z.string().optional(),
      }),
    },
    responses: {
      200: { description: 'A page of items', content: { 'application/json': { schema: ItemListSchema } } },
      ...notFound,
    },
  }),
];
