/**
 * POST /v1/feedback: an app scores an answer it got (1: right, 0: wrong). The score becomes an
 * observation of the model that answered, in the request's category, and feeds the router's learnt
 * quality. A team scores only its own requests; the first feedback on a request is the one counted.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Gateway } from '../../gateway/index.ts';
import type { Learner } from '../../learning/index.ts';
import { readJson } from '../body.ts';
import type { AppEnv } from '../env.ts';
import { ErrorSchema, errorResponses } from '../schemas.ts';

export const FeedbackRequestSchema = z
  .strictObject({
    request_id: z
      .string()
      .min(1)
      .max(200)
      .openapi({ description: 'The answer’s `x-quorum-request-id` header (also `quorum.request_id`)' }),
    score: z
      .number()
      .min(0)
      .max(1)
      .openapi({ description: '0..1: 1 the answer was right, 0 it was wrong; partial credit in between' }),
    comment: z
      .string()
      .max(2000)
      .optional()
      .openapi({ description: 'Kept with the feedback; not read by the router' }),
  })
  .openapi('FeedbackRequest');

export const FeedbackSchema = z
  .object({
    object: z.literal('feedback'),
    request_id: z.string(),
    model: z.string().nullable().openapi({ description: 'The model whose answer was scored' }),
    category: z.string().nullable().openapi({ description: 'The category it counts in' }),
    score: z.number(),
    status: z.enum(['accepted', 'frozen', 'ignored', 'learning_off']).openapi({
      description:
        'accepted: counted; frozen: learning is frozen by the operator, nothing counted; ignored: the model left the catalog; learning_off: routing.learning.enabled is false',
    }),
  })
  .openapi('Feedback');

export const feedbackRoute = createRoute({
  method: 'post',
  path: '/v1/feedback',
  summary: "Score an answer (0..1): feeds the router's learnt quality of the model that gave it",
  security: [{ bearer: [] }],
  request: { body: { required: true, content: { 'application/json': { schema: FeedbackRequestSchema } } } },
  responses: {
    202: { description: 'Accepted', content: { 'application/json': { schema: FeedbackSchema } } },
    400: errorResponses[400],
    401: errorResponses[401],
    404: {
      description: "No recent request of the caller's team has this id",
      content: { 'application/json': { schema: ErrorSchema } },
    },
    409: {
      description: 'This request already has feedback (the first one counts)',
      content: { 'application/json': { schema: ErrorSchema } },
    },
    413: errorResponses[413],
  },
});

export function registerFeedback(app: OpenAPIHono<AppEnv>, gw: Gateway, learning: Learner | undefined) {
  app.openAPIRegistry.registerPath(feedbackRoute);
  app.post(feedbackRoute.path, async (c) => {
    const body = await readJson(c, FeedbackRequestSchema, gw.config.server);
    if (!learning) {
      const ignored = { request_id: body.request_id, model: null, category: null, score: body.score };
      return c.json({ object: 'feedback' as const, ...ignored, status: 'learning_off' as const }, 202);
    }
    const team = c.get('caller').team;
    return c.json(await learning.feedback(team, body.request_id, body.score, body.comment ?? null), 202);
  });
}
