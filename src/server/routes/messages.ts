/**
 * The Anthropic Messages surface: POST /v1/messages and POST /v1/messages/count_tokens, for Claude
 * Code and every app on `@anthropic-ai/sdk`. An Anthropic model is passed through — the client's
 * bytes to its deployments, their bytes back, only `model` renamed — and any other model (`auto`,
 * presets, OpenAI-compatible, Gemini, demo) is translated through the chat pipeline. Errors on these
 * paths take Anthropic's shape (server/errors.ts).
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ChatRequest } from '../../chat/index.ts';
import { anthropicError, type GatewayError } from '../../errors/index.ts';
import {
  authorizeChat,
  type ChatMeta,
  type ChatReply,
  chatCompletion,
  type Gateway,
  type PassthroughReply,
  passthrough,
  servedRaw,
} from '../../gateway/index.ts';
import {
  type ClientHeaders,
  CountTokensRequestSchema,
  costBoundsOf,
  MessagesPassthrough,
  MessagesRequestSchema,
  messageBody,
  messageEvents,
  promptRange,
  toChatRequest,
} from '../../messages/index.ts';
import { readJsonText } from '../body.ts';
import type { AppEnv } from '../env.ts';
import { eventStreamBody } from '../event-stream.ts';
import { jsonAnswer, jsonTextAnswer, streamHeaders } from '../json-answer.ts';
import { keepAnswer, keepRawAnswer, noteAsked } from '../request-log.ts';
import { AnthropicMessageSchema, anthropicErrorResponses } from '../schemas.ts';
import { chatContext } from './chat.ts';

/** The provider types whose models this surface passes through. */
const RAW_TYPES = ['anthropic'] as const;

const AUTO = /^auto(?::|$)/;

const security: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }];

export const messagesRoute = createRoute({
  method: 'post',
  path: '/v1/messages',
  summary: 'Anthropic Messages (JSON or SSE stream); Anthropic models passed through, others translated',
  security,
  request: { body: { required: true, content: { 'application/json': { schema: MessagesRequestSchema } } } },
  responses: {
    200: {
      description:
        'The Message; with `stream: true`, SSE events message_start, content_block_start/delta/stop, message_delta (usage), message_stop',
      content: {
        'application/json': { schema: AnthropicMessageSchema },
        'text/event-stream': { schema: { type: 'string' } },
      },
    },
    ...anthropicErrorResponses,
  },
});

export const countTokensRoute = createRoute({
  method: 'post',
  path: '/v1/messages/count_tokens',
  summary:
    "A Messages request's input tokens: the provider's count for Anthropic models, Quorum's estimate otherwise",
  security,
  request: {
    body: { required: true, content: { 'application/json': { schema: CountTokensRequestSchema } } },
  },
  responses: {
    200: {
      description: '`{"input_tokens": n}`',
      content: {
        'application/json': {
          schema: {
            type: 'object',
            properties: { input_tokens: { type: 'integer' } },
            required: ['input_tokens'],
          },
        },
      },
    },
    ...anthropicErrorResponses,
  },
});

function clientHeaders(c: Context<AppEnv>): ClientHeaders {
  return { version: c.req.header('anthropic-version'), beta: c.req.header('anthropic-beta') };
}

/** Where a translated request goes, as a refusal names it. */
function describeTarget(gw: Gateway, name: string): string {
  if (AUTO.test(name)) return `\`${name}\` (the router's choice, which takes the chat path)`;
  if (Object.hasOwn(gw.config.ensembles, name)) return `the ensemble preset \`${name}\``;
  const spec = gw.table.resolve(name)[0];
  return spec ? `\`${name}\` (a ${gw.deployment(spec).provider.type} model)` : `\`${name}\``;
}

/** A Messages body's prompt for the request log: its system prompt and messages. */
const promptOf = (body: { system?: unknown; messages: unknown }) =>
  body.system === undefined ? { messages: body.messages } : { system: body.system, messages: body.messages };

const PLACEHOLDER: ChatRequest['messages'] = [{ role: 'user', content: '' }];

/**
 * Refuses an unknown name (404) or one outside the team's allow-list (403) before anything else is
 * said about the body. Routed names and presets are authorised when the request is planned.
 */
function authorizeName(gw: Gateway, c: Context<AppEnv>, name: string): void {
  if (AUTO.test(name) || Object.hasOwn(gw.config.ensembles, name)) return;
  authorizeChat(gw, c.get('caller'), { model: name, messages: PLACEHOLDER });
}

function metaHeaders(c: Context<AppEnv>, meta: ChatMeta): void {
  streamHeaders(c, meta);
  // Anthropic's SDKs read the request id from here.
  c.header('request-id', c.get('requestId'));
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};

/** An SSE body whose span and log line end with it; a failure is Anthropic's `error` event. */
function eventStream(c: Context<AppEnv>, frames: AsyncIterator<string>): Response {
  const finish = c.get('deferEnd')();
  const requestId = c.get('requestId');
  const body = eventStreamBody(frames, {
    onEnd: (error, cancelled) =>
      finish({ ...(error ? { error: error.code, failure: error } : {}), cancelled }),
    errorFrame: (error: GatewayError) =>
      `event: error\ndata: ${JSON.stringify(anthropicError(error, requestId).body)}\n\n`,
  });
  return c.body(body, 200, SSE_HEADERS);
}

function respondRaw(c: Context<AppEnv>, answered: PassthroughReply): Response {
  const reply = keepRawAnswer(c, answered);
  if (!reply.stream) {
    const body =
      typeof reply.body === 'string' ? reply.body : (new Uint8Array(reply.body) as Uint8Array<ArrayBuffer>);
    return jsonTextAnswer(c, reply.meta, body, { 'request-id': c.get('requestId') });
  }
  metaHeaders(c, reply.meta);
  return eventStream(c, reply.frames);
}

function respondTranslated(c: Context<AppEnv>, answered: ChatReply): Response {
  const reply = keepAnswer(c, answered);
  const id = `msg_${c.get('requestId')}`;
  if (!reply.stream) {
    return jsonAnswer(c, reply.meta, messageBody(id, reply.body), { 'request-id': c.get('requestId') });
  }
  metaHeaders(c, reply.meta);
  return eventStream(c, messageEvents(id, reply.meta.model, reply.chunks));
}

export function registerMessages(app: OpenAPIHono<AppEnv>, gw: Gateway) {
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'apiKey',
    in: 'header',
    name: 'x-api-key',
  });
  app.openAPIRegistry.registerPath(messagesRoute);
  app.openAPIRegistry.registerPath(countTokensRoute);

  app.post(messagesRoute.path, async (c) => {
    const { text, data: body } = await readJsonText(c, MessagesRequestSchema, gw.config.server);
    noteAsked(c, body.model, body.stream, body.quorum?.tags, () => promptOf(body));
    // An inline ensemble fans out through the chat pipeline, whatever model the body names.
    if (servedRaw(gw, body.model, RAW_TYPES) && !body.quorum?.ensemble) {
      const reply = await passthrough(gw, chatContext(c, body), {
        model: body.model,
        fallbacks: body.quorum?.fallbacks,
        tags: body.quorum?.tags,
        stream: body.stream === true,
        providerTypes: RAW_TYPES,
        cost: costBoundsOf(body),
        protocol: new MessagesPassthrough(text, clientHeaders(c), 'messages', body.quorum !== undefined),
        span: { operation: 'chat', maxTokens: body.max_tokens, temperature: body.temperature },
      });
      return respondRaw(c, reply);
    }
    authorizeName(gw, c, body.model);
    const request = toChatRequest(body, describeTarget(gw, body.model));
    return respondTranslated(c, await chatCompletion(gw, chatContext(c, body), request));
  });

  app.post(countTokensRoute.path, async (c) => {
    const { text, data: body } = await readJsonText(c, CountTokensRequestSchema, gw.config.server);
    noteAsked(c, body.model, false, body.quorum?.tags, () => promptOf(body));
    if (servedRaw(gw, body.model, RAW_TYPES)) {
      const reply = await passthrough(gw, chatContext(c, body), {
        model: body.model,
        fallbacks: body.quorum?.fallbacks,
        tags: body.quorum?.tags,
        stream: false,
        providerTypes: RAW_TYPES,
        // Counting is free upstream: nothing is held or charged, and no ledger row is written.
        cost: null,
        protocol: new MessagesPassthrough(text, clientHeaders(c), 'count_tokens', body.quorum !== undefined),
        span: { operation: 'count_tokens', maxTokens: null },
      });
      return respondRaw(c, reply);
    }
    // Any other model: Quorum's own estimate, once the name is known and allowed (auto and presets too).
    authorizeChat(gw, c.get('caller'), {
      model: body.model,
      messages: PLACEHOLDER,
      ...(body.quorum ? { quorum: body.quorum } : {}),
    });
    c.header('x-quorum-cost-usd', '0');
    return c.json({ input_tokens: promptRange(body).likely });
  });
}
