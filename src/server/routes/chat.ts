import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ChatRequestSchema } from '../../chat/index.ts';
import {
  type ChatContext,
  type ChatReply,
  chatCompletion,
  endUserOf,
  type Gateway,
} from '../../gateway/index.ts';
import { surfaceOf } from '../../request-log/index.ts';
import { readJson } from '../body.ts';
import type { AppEnv } from '../env.ts';
import { jsonAnswer, streamHeaders } from '../json-answer.ts';
import { keepAnswer, noteAsked } from '../request-log.ts';
import { ChatCompletionSchema, errorResponses } from '../schemas.ts';
import { sseBody } from '../sse.ts';

export const chatRoute = createRoute({
  method: 'post',
  path: '/v1/chat/completions',
  summary: 'OpenAI-compatible chat completion (JSON or SSE stream)',
  security: [{ bearer: [] }],
  request: { body: { required: true, content: { 'application/json': { schema: ChatRequestSchema } } } },
  responses: {
    200: {
      description:
        'The answer; with `stream: true`, an SSE stream of chat.completion.chunk objects ending `data: [DONE]`',
      content: {
        'application/json': { schema: ChatCompletionSchema },
        'text/event-stream': { schema: { type: 'string' } },
      },
    },
    ...errorResponses,
  },
});

/**
 * The request context handlers pass to the gateway: `body` is the parsed request, whose end user
 * (`user`, or `metadata.user_id`) the ledger records with the surface (the endpoint's name).
 */
export function chatContext(c: Context<AppEnv>, body: unknown): ChatContext {
  const surface = surfaceOf(c.req.path);
  const endUser = endUserOf(body);
  return {
    requestId: c.get('requestId'),
    caller: c.get('caller'),
    clientSignal: c.req.raw.signal,
    startedAt: c.get('startedAt'),
    trace: c.get('draft'),
    attribution: { ...(surface ? { surface } : {}), endUser },
  };
}

/** The headers of an SSE answer. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
} as const;

/** Writes a chat reply: JSON with the cost header, or an SSE stream whose span and log end with it. */
export function respondChat(c: Context<AppEnv>, answered: ChatReply): Response {
  const reply = keepAnswer(c, answered);
  if (!reply.stream) return jsonAnswer(c, reply.meta, reply.body);
  streamHeaders(c, reply.meta);
  const finish = c.get('deferEnd')();
  const body = sseBody(reply.chunks, {
    onEnd: (error, cancelled) =>
      finish({ ...(error ? { error: error.code, failure: error } : {}), cancelled }),
  });
  return c.body(body, 200, SSE_HEADERS);
}

export function registerChat(app: OpenAPIHono<AppEnv>, gw: Gateway) {
  app.openAPIRegistry.registerPath(chatRoute);
  app.post(chatRoute.path, async (c) => {
    const request = await readJson(c, ChatRequestSchema, gw.config.server);
    noteAsked(c, request.model, request.stream, request.quorum?.tags, () => request.messages);
    return respondChat(c, await chatCompletion(gw, chatContext(c, request), request));
  });
}
