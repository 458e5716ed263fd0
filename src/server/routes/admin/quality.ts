/**
 * The learnt quality, for the operator: every model's prior, observed and effective quality per
 * category; freezing learning (estimates held as they are, nothing added, nothing decays) and
 * resetting it (one model or all, back to the catalog's quality). Changes are in the store, so every
 * instance follows them at its next refresh; this one at once.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { GatewayError } from '../../../errors/index.ts';
import type { Learner } from '../../../learning/index.ts';
import type { AppEnv } from '../../env.ts';
import type { AdminDeps } from './deps.ts';
import { fromStore } from './input.ts';
import { adminErrors } from './schemas.ts';

const Estimate = z.object({
  prior: z.number().openapi({ description: "The catalog's quality" }),
  observed: z.number().nullable().openapi({ description: 'Mean observed score (decayed); null before any' }),
  effective: z.number().openapi({ description: 'What the router scores with' }),
  observations: z.number().openapi({ description: 'Observations, decayed by age' }),
});

export const QualityStatusSchema = z
  .object({
    enabled: z.boolean(),
    frozen: z.boolean(),
    frozen_at: z.string().nullable(),
    settings: z
      .object({ min_observations: z.number(), half_life_days: z.number(), prior_strength: z.number() })
      .nullable(),
    models: z.array(z.object({ model: z.string(), categories: z.record(z.string(), Estimate) })),
  })
  .openapi('QualityStatus');

const ModelParam = z.object({ model: z.string().openapi({ param: { name: 'model', in: 'path' } }) });
const ok = (description: string) => ({
  200: { description, content: { 'application/json': { schema: QualityStatusSchema } } },
  ...adminErrors,
});

const routes = {
  list: createRoute({
    method: 'get',
    path: '/admin/quality',
    summary: "Every model's learnt quality per category (prior, observed, effective, observations)",
    security: [{ bearer: [] }],
    responses: ok('The estimates, read from the store'),
  }),
  freeze: createRoute({
    method: 'post',
    path: '/admin/quality/freeze',
    summary: 'Freeze learning: the estimates are held as they are; nothing is added and nothing decays',
    security: [{ bearer: [] }],
    responses: ok('Frozen'),
  }),
  unfreeze: createRoute({
    method: 'post',
    path: '/admin/quality/unfreeze',
    summary: 'Resume learning where it was frozen',
    security: [{ bearer: [] }],
    responses: ok('Learning again'),
  }),
  resetAll: createRoute({
    method: 'delete',
    path: '/admin/quality',
    summary: "Forget everything learnt: every model back to the catalog's quality",
    security: [{ bearer: [] }],
    responses: ok('Reset'),
  }),
  resetOne: createRoute({
    method: 'delete',
    path: '/admin/quality/{model}',
    summary: "Forget what was learnt about one model: back to the catalog's quality",
    security: [{ bearer: [] }],
    request: { params: ModelParam },
    responses: ok('Reset'),
  }),
};

const OFF = { enabled: false, frozen: false, frozen_at: null, settings: null, models: [] };

function on(learning: Learner | undefined): Learner {
  if (learning) return learning;
  throw new GatewayError(
    'conflict',
    'Learning is off (routing.learning.enabled: false): there is nothing to change.',
  );
}

export function registerAdminQuality(app: OpenAPIHono<AppEnv>, { gateway, learning }: AdminDeps) {
  for (const route of Object.values(routes)) app.openAPIRegistry.registerPath(route);

  app.get(routes.list.getRoutingPath(), async (c) => {
    if (!learning) return c.json(OFF);
    // What every instance learnt: the store's, not only this instance's picture.
    await fromStore(() => learning.refresh());
    return c.json(learning.status());
  });
  app.post(routes.freeze.getRoutingPath(), async (c) => {
    const l = on(learning);
    await fromStore(() => l.freeze());
    return c.json(l.status());
  });
  app.post(routes.unfreeze.getRoutingPath(), async (c) => {
    const l = on(learning);
    await fromStore(() => l.unfreeze());
    return c.json(l.status());
  });
  app.delete(routes.resetAll.getRoutingPath(), async (c) => {
    const l = on(learning);
    await fromStore(() => l.reset(null));
    return c.json(l.status());
  });
  app.delete(routes.resetOne.getRoutingPath(), async (c) => {
    const l = on(learning);
    const name = c.req.param('model');
    // An alias names its model; an unknown name is a 404 like anywhere else.
    const id = gateway.table.resolve(name)[0]?.id;
    if (!id)
      throw new GatewayError('model_not_found', `The model \`${name}\` is not in the catalog.`, {
        param: 'model',
      });
    await fromStore(() => l.reset(id));
    return c.json(l.status());
  });
}
