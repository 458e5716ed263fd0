import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { addUsage, type Gateway, publicAttempts, runReview, usageBody } from '../../gateway/index.ts';
import { usdText } from '../../limits/nanos.ts';
import { readJson } from '../body.ts';
import type { AppEnv } from '../env.ts';
import { draftOf, noteAsked } from '../request-log.ts';
import { errorResponses } from '../schemas.ts';
import { chatContext } from './chat.ts';

export const ReviewRequestSchema = z
  .object({
    artifact: z.string().min(1),
    instructions: z.string().min(1),
    reviewers: z.array(z.string().min(1)).min(1).max(8),
    author: z.string().min(1).optional(),
    rounds: z.number().int().min(1).max(10).optional(),
    threshold: z.number().min(0).max(10).optional(),
    user: z
      .string()
      .max(256)
      .optional()
      .openapi({ description: 'The end user the review is made for (recorded on its ledger rows)' }),
    quorum: z
      .object({ tags: z.record(z.string(), z.string()).optional() })
      .optional()
      .openapi({ description: 'Tags recorded on every ledger row of the review' }),
  })
  .openapi('ReviewRequest');

const ReviewSchema = z.object({
  reviewer: z.string(),
  round: z.number(),
  verdict: z.enum(['accept', 'revise', 'reject']),
  score: z.number(),
  issues: z.array(z.string()),
  error: z.string().optional(),
});

export const ReviewResponseSchema = z
  .object({
    object: z.literal('quorum.review'),
    verdict: z.enum(['accept', 'revise', 'reject']),
    score: z.number(),
    artifact: z.string(),
    revised: z.boolean(),
    best_round: z.number(),
    rounds: z.number(),
    stopped_by: z.enum([
      'accepted',
      'threshold',
      'no_new_issues',
      'max_rounds',
      'no_author',
      'author_failed',
      'reviewers_failed',
    ]),
    /** What the loop had to do without: a failed or unreadable review, a failed revision. */
    degraded: z.array(z.enum(['reviewer_failed', 'author_failed'])).optional(),
    reviews: z.array(ReviewSchema),
    usage: z.looseObject({ prompt_tokens: z.number(), completion_tokens: z.number() }),
    quorum: z.looseObject({ request_id: z.string(), cost_usd: z.number() }),
  })
  .openapi('ReviewResult');

export const reviewsRoute = createRoute({
  method: 'post',
  path: '/v1/reviews',
  summary: 'Collaborative review: reviewers score an artifact; with an author it is revised until accepted',
  security: [{ bearer: [] }],
  request: { body: { required: true, content: { 'application/json': { schema: ReviewRequestSchema } } } },
  responses: {
    200: {
      description: 'Each review, the consolidated verdict, and the best draft',
      content: { 'application/json': { schema: ReviewResponseSchema } },
    },
    ...errorResponses,
  },
});

export function registerReviews(app: OpenAPIHono<AppEnv>, gw: Gateway) {
  app.openAPIRegistry.registerPath(reviewsRoute);
  app.post(reviewsRoute.path, async (c) => {
    const body = await readJson(c, ReviewRequestSchema, gw.config.server);
    noteAsked(c, null, false, body.quorum?.tags, () => ({
      artifact: body.artifact,
      instructions: body.instructions,
    }));
    const ctx = chatContext(c, body);
    const { result, attempts, costUsd } = await runReview(
      gw,
      ctx,
      {
        artifact: body.artifact,
        instructions: body.instructions,
        reviewers: body.reviewers,
        ...(body.author ? { author: body.author } : {}),
        ...(body.rounds ? { rounds: body.rounds } : {}),
        ...(body.threshold !== undefined ? { threshold: body.threshold } : {}),
      },
      body.quorum?.tags,
    );
    const usage = result.calls.reduce((u, call) => addUsage(u, call.usage), {
      prompt_tokens: 0,
      completion_tokens: 0,
    });
    const draft = draftOf(c);
    if (draft) {
      draft.review = {
        verdict: result.verdict,
        score: result.score,
        rounds: result.rounds,
        best_round: result.best_round,
        stopped_by: result.stopped_by,
        ...(result.degraded?.length ? { degraded: result.degraded } : {}),
        reviews: result.reviews,
      };
      if (draft.content) draft.answer = result.artifact;
    }
    c.header('x-quorum-model', [...new Set(result.calls.map((call) => call.model))].join(','));
    c.header('x-quorum-cost-usd', usdText(costUsd));
    return c.json({
      object: 'quorum.review' as const,
      verdict: result.verdict,
      score: result.score,
      artifact: result.artifact,
      revised: result.best_round > 0,
      best_round: result.best_round,
      rounds: result.rounds,
      stopped_by: result.stopped_by,
      ...(result.degraded?.length ? { degraded: result.degraded } : {}),
      reviews: result.reviews,
      ...(result.history ? { history: result.history } : {}),
      usage: usageBody(usage),
      quorum: { request_id: ctx.requestId, cost_usd: costUsd, attempts: publicAttempts(attempts) },
    });
  });
}
