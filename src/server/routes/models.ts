import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Caller, Gateway } from '../../gateway/index.ts';
import type { AppEnv } from '../env.ts';
import { errorResponses, ModelListSchema } from '../schemas.ts';

export const modelsRoute = createRoute({
  method: 'get',
  path: '/v1/models',
  summary: 'Catalog models, aliases and ensemble presets the key may use',
  security: [{ bearer: [] }],
  responses: {
    200: {
      description: 'OpenAI model list with `quorum` metadata',
      content: { 'application/json': { schema: ModelListSchema } },
    },
    401: errorResponses[401],
  },
});

/** Start-up time, so `created` is stable for the life of the process. */
const CREATED = Math.floor(Date.now() / 1000);

export function listModels(gw: Gateway, caller: Caller) {
  const may = (...names: string[]) =>
    !caller.allowedModels || names.some((n) => caller.allowedModels!.has(n));
  const data: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  for (const m of gw.table.models) {
    if (seen.has(m.id) || !may(m.id, ...m.aliases)) continue;
    seen.add(m.id);
    const providers = gw.table.resolve(m.id).map((s) => s.provider);
    data.push({
      id: m.id,
      object: 'model',
      created: CREATED,
      owned_by: m.provider,
      quorum: {
        kind: 'model',
        providers,
        upstream: m.upstream,
        context_window: m.context_window,
        max_output_tokens: m.max_output_tokens,
        price: m.price,
        capabilities: m.capabilities,
        quality: m.quality,
        // What the router learnt: per category the catalog's prior, the observed mean, the effective
        // quality it scores with, and the number of observations.
        ...(gw.learning ? { learned_quality: gw.learning.estimates(m.id) } : {}),
        aliases: m.aliases,
      },
    });
    for (const alias of m.aliases) {
      data.push({
        id: alias,
        object: 'model',
        created: CREATED,
        owned_by: m.provider,
        quorum: { kind: 'alias', alias_of: m.id },
      });
    }
  }
  // The router's names: `auto` uses the configured policy, `auto:<policy>` a fixed one.
  for (const name of ['auto', 'auto:cost', 'auto:quality', 'auto:latency', 'auto:balanced']) {
    const policy = name === 'auto' ? gw.config.routing.policy : name.slice(5);
    data.push({
      id: name,
      object: 'model',
      created: CREATED,
      owned_by: 'quorum',
      quorum: { kind: 'router', policy },
    });
  }
  for (const [name, preset] of Object.entries(gw.config.ensembles)) {
    if (!may(name)) continue;
    data.push({
      id: name,
      object: 'model',
      created: CREATED,
      owned_by: 'quorum',
      quorum: {
        kind: 'preset',
        strategy: preset.strategy,
        models: preset.models,
        judge: preset.judge ?? null,
        ...(preset.synthesizer ? { synthesizer: preset.synthesizer } : {}),
      },
    });
  }
  return { object: 'list' as const, data };
}

export function registerModels(app: OpenAPIHono<AppEnv>, gw: Gateway) {
  app.openAPIRegistry.registerPath(modelsRoute);
  app.get(modelsRoute.path, (c) => c.json(listModels(gw, c.get('caller'))));
}
