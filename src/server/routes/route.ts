import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { ChatRequestSchema } from '../../chat/index.ts';
import { dryRun, type Gateway } from '../../gateway/index.ts';
import { readJson } from '../body.ts';
import type { AppEnv } from '../env.ts';
import { errorResponses } from '../schemas.ts';

const Candidate = z.object({
  model: z.string(),
  eligible: z.boolean(),
  reason: z.string().optional(),
  scores: z
    .object({ quality: z.number(), cost_usd: z.number(), latency_ms: z.number(), total: z.number() })
    .optional(),
  learned_quality: z
    .object({
      prior: z.number(),
      observed: z.number().nullable(),
      effective: z.number(),
      observations: z.number(),
    })
    .optional()
    .openapi({
      description:
        "What the router learnt of this model for this task, weighted by the task's categories: the catalog's prior, the observed mean, the effective quality (= scores.quality) and the observations",
    }),
});

export const RouteDecisionSchema = z
  .object({
    policy: z.enum(['cost', 'balanced', 'quality', 'latency']),
    chosen: z.string().nullable(),
    why: z.string().openapi({
      description:
        'One line: why the chosen model beat the next one (the bar it cleared, the price or speed it won on, the tie-break); for a named model, that the request named it',
      example: 'both clear the bar 0.70; `gpt-6-luna` is 10× cheaper than `gpt-6.1-terra`',
    }),
    task: z.object({
      categories: z.record(z.string(), z.number()),
      difficulty: z.number(),
      required: z.array(z.string()),
      prompt_tokens: z.number(),
      max_output_tokens: z.number().nullable(),
    }),
    candidates: z.array(Candidate),
    fallbacks: z.array(z.string()),
  })
  .openapi('RouteDecision');

export const routeRoute = createRoute({
  method: 'post',
  path: '/v1/route',
  summary:
    'Dry run: the routing decision for a chat body, with every candidate scored or excluded; no upstream call, no spend',
  security: [{ bearer: [] }],
  request: { body: { required: true, content: { 'application/json': { schema: ChatRequestSchema } } } },
  responses: {
    200: { description: 'The decision', content: { 'application/json': { schema: RouteDecisionSchema } } },
    400: errorResponses[400],
    401: errorResponses[401],
    403: errorResponses[403],
    404: errorResponses[404],
    413: errorResponses[413],
  },
});

export function registerRoute(app: OpenAPIHono<AppEnv>, gw: Gateway) {
  app.openAPIRegistry.registerPath(routeRoute);
  app.post(routeRoute.path, async (c) => {
    const request = await readJson(c, ChatRequestSchema, gw.config.server);
    return c.json(dryRun(gw, c.get('caller'), request));
  });
}
