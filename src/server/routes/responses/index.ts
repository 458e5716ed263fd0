/** The OpenAI Responses API: `POST /v1/responses` and the stored responses it keeps. */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.ts';
import { createResponse } from './create.ts';
import type { ResponsesDeps } from './deps.ts';
import { responsesRoutes } from './openapi.ts';
import { deleteResponse, findResponse, listInputItems } from './stored.ts';

export function registerResponses(app: OpenAPIHono<AppEnv>, deps: ResponsesDeps) {
  for (const route of responsesRoutes) app.openAPIRegistry.registerPath(route);
  const { store } = deps;
  app.post('/v1/responses', (c) => createResponse(c, deps));
  app.get('/v1/responses/:id', async (c) => c.json((await findResponse(c, store)).response));
  app.delete('/v1/responses/:id', (c) => deleteResponse(c, store));
  app.get('/v1/responses/:id/input_items', async (c) => listInputItems(c, await findResponse(c, store)));
}
