/** POST /v1/embeddings: OpenAI's embeddings endpoint, answered by the catalog's embedding models. */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { EmbeddingsRequestSchema } from '../../embeddings/index.ts';
import { createEmbeddings, type Gateway } from '../../gateway/index.ts';
import { readJson } from '../body.ts';
import type { AppEnv } from '../env.ts';
import { jsonAnswer } from '../json-answer.ts';
import { noteAsked } from '../request-log.ts';
import { EmbeddingListSchema, errorResponses } from '../schemas.ts';
import { chatContext } from './chat.ts';

export const embeddingsRoute = createRoute({
  method: 'post',
  path: '/v1/embeddings',
  summary: 'OpenAI-compatible embeddings from an embedding model (capabilities: [embeddings])',
  security: [{ bearer: [] }],
  request: {
    body: { required: true, content: { 'application/json': { schema: EmbeddingsRequestSchema } } },
  },
  responses: {
    200: {
      description: 'One embedding per input, in input order',
      content: { 'application/json': { schema: EmbeddingListSchema } },
    },
    ...errorResponses,
  },
});

export function registerEmbeddings(app: OpenAPIHono<AppEnv>, gw: Gateway) {
  app.openAPIRegistry.registerPath(embeddingsRoute);
  app.post(embeddingsRoute.path, async (c) => {
    const request = await readJson(c, EmbeddingsRequestSchema, gw.config.server);
    noteAsked(c, request.model, false, request.quorum?.tags, () => request.input);
    const { body, meta } = await createEmbeddings(gw, chatContext(c, request), request);
    return jsonAnswer(c, meta, body);
  });
}
