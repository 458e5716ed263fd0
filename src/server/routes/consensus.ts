import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import {
  ChatRequestSchema,
  checkSampling,
  EnsembleMemberSchema,
  QuorumOptionsSchema,
  SamplingDefaults,
  STRATEGIES,
} from '../../chat/index.ts';
import { GatewayError } from '../../errors/index.ts';
import { chatCompletion, type Gateway, ownValue } from '../../gateway/index.ts';
import { readJson } from '../body.ts';
import type { AppEnv } from '../env.ts';
import { noteAsked } from '../request-log.ts';
import { ChatCompletionSchema, errorResponses } from '../schemas.ts';
import { chatContext, respondChat } from './chat.ts';

/**
 * A chat body plus the fan-out: `strategy`, `models` (names or self-ensemble entries), `samples` and
 * `temperatures`, `judge`, fusion's `synthesizer` and `quorum` (how many answers to wait for; all by
 * default). `quorum` may also be the usual extension object, for tags and routing options.
 */
export const ConsensusRequestSchema = ChatRequestSchema.omit({ model: true, quorum: true })
  .extend({
    model: z.string().min(1).optional(),
    strategy: z.enum(STRATEGIES),
    models: z.array(EnsembleMemberSchema).min(1),
    ...SamplingDefaults,
    judge: z.string().min(1).optional(),
    synthesizer: z.string().min(1).optional(),
    quorum: z.union([z.number().int().positive(), QuorumOptionsSchema]).optional(),
    layers: z.number().int().min(1).max(4).optional(),
  })
  .superRefine(checkSampling)
  .openapi('ConsensusRequest');

export const consensusRoute = createRoute({
  method: 'post',
  path: '/v1/consensus',
  summary:
    'Fan a chat request out to several models (or samples of one) and aggregate: consensus vote, best-of-n, ensemble, fusion or review',
  security: [{ bearer: [] }],
  request: { body: { required: true, content: { 'application/json': { schema: ConsensusRequestSchema } } } },
  responses: {
    200: {
      description: 'The chat completion of the final answer, with the full aggregation record in `quorum`',
      content: {
        'application/json': { schema: ChatCompletionSchema },
        'text/event-stream': { schema: { type: 'string' } },
      },
    },
    ...errorResponses,
  },
});

export function registerConsensus(app: OpenAPIHono<AppEnv>, gw: Gateway) {
  app.openAPIRegistry.registerPath(consensusRoute);
  app.post(consensusRoute.path, async (c) => {
    const { strategy, models, samples, temperatures, judge, synthesizer, quorum, layers, model, ...chat } =
      await readJson(c, ConsensusRequestSchema, gw.config.server);
    const tags = typeof quorum === 'object' ? quorum.tags : undefined;
    noteAsked(c, model, chat.stream, tags, () => chat.messages);
    // `model` may name a preset to start from; a name that is neither a preset nor a model is refused
    // as anywhere else, rather than silently ignored.
    if (model !== undefined && !ownValue(gw.config.ensembles, model) && !gw.table.resolve(model).length) {
      throw new GatewayError('model_not_found', `The model or preset \`${model}\` does not exist.`, {
        param: 'model',
      });
    }
    const extension = typeof quorum === 'object' ? quorum : {};
    const request = {
      ...chat,
      // Without `model` the fan-out is the body's alone: no name a preset could be called by.
      model: model ?? '',
      quorum: {
        ...extension,
        ensemble: {
          strategy,
          models,
          ...(samples ? { samples } : {}),
          ...(temperatures ? { temperatures } : {}),
          ...(judge ? { judge } : {}),
          ...(synthesizer ? { synthesizer } : {}),
          ...(typeof quorum === 'number' ? { quorum } : {}),
          ...(layers ? { layers } : {}),
        },
      },
    };
    try {
      return respondChat(
        c,
        await chatCompletion(gw, chatContext(c, chat), request as typeof chat & { model: string }),
      );
    } catch (err) {
      throw inBodyTerms(err);
    }
  });
}

/**
 * The gateway names the fan-out's fields as `quorum.ensemble.*`; this endpoint's clients sent them as
 * top-level `models`, `judge` and `quorum`, so a refusal points at the field they wrote.
 */
function inBodyTerms(err: unknown): unknown {
  if (!(err instanceof GatewayError) || !err.param?.startsWith('quorum.ensemble.')) return err;
  return new GatewayError(err.kind, err.message.replaceAll('quorum.ensemble.', ''), {
    param: err.param.slice('quorum.ensemble.'.length),
    code: err.code,
    ...(err.headers ? { headers: err.headers } : {}),
  });
}
