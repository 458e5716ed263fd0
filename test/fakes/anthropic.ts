/**
 * A fake Anthropic Messages API: `POST /v1/messages` (JSON and named-event SSE, thinking blocks with
 * their signatures, prompt-cache usage) and `POST /v1/messages/count_tokens`, as the official SDK
 * (anthropic-version 2026-10-21) expects them. Besides the harness's scripted replies it checks the
 * few request rules the real API enforces and an adapter could get wrong (see `checkRequest`). Every
 * request's raw body and headers are in `received`, for byte-for-byte passthrough checks.
 */
import type { ServerResponse } from 'node:http';
import {
  type FakeReply,
  type FakeServer,
  lastOpenAIUserText,
  type ReceivedRequest,
  type ReplyContext,
  type Responder,
  retryAfterHeaders,
  sendJson,
  splitDeltas,
  startFake,
  type WireFormat,
} from './harness.ts';

/** Anthropic-only extras a test may put on a reply (the harness passes unknown fields through). */
export interface AnthropicFakeReply extends FakeReply {
  /** Streams only: after the text deltas, send an SSE `error` event (e.g. overloaded_error) and stop. */
  streamError?: { type: string; message: string };
  /** Prompt tokens written to the cache (reported apart from input_tokens, like the real API). */
  cacheCreation?: number;
  /** A thinking block before the answer, with its signature (streamed as thinking_delta + signature_delta). */
  thinking?: { thinking: string; signature: string };
  /** A redacted_thinking block (its encrypted `data`) after the thinking block. */
  redactedThinking?: string;
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

let seq = 0;

/** The real API answers with a dated snapshot name; the suffix lets tests see `upstream_model` flow through. */
const snapshotOf = (model: string) => (/-\d{8}$/.test(model) ? model : `${model}-20250101`);

function stopReasonOf(reply: FakeReply): string {
  switch (reply.finish) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    case 'stop':
      return 'end_turn';
    default:
      return reply.toolCalls?.length ? 'tool_use' : 'end_turn';
  }
}

/** Anthropic reports cache reads and writes apart from `input_tokens`; the harness's `input` is the total. */
function usageOf(ctx: ReplyContext) {
  const creation = (ctx.reply as AnthropicFakeReply).cacheCreation ?? 0;
  return {
    input_tokens: Math.max(0, ctx.usage.input - ctx.usage.cached - creation),
    cache_read_input_tokens: ctx.usage.cached,
    cache_creation_input_tokens: creation,
    cache_creation: { ephemeral_5m_input_tokens: creation, ephemeral_1h_input_tokens: 0 },
    output_tokens: ctx.usage.output,
  };
}

/** The thinking blocks a reply starts with, as the JSON body carries them. */
function thinkingBlocksOf(reply: AnthropicFakeReply): Record<string, string>[] {
  const blocks: Record<string, string>[] = [];
  if (reply.thinking) blocks.push({ type: 'thinking', ...reply.thinking });
  if (reply.redactedThinking !== undefined)
    blocks.push({ type: 'redacted_thinking', data: reply.redactedThinking });
  return blocks;
}

function toolBlocksOf(ctx: ReplyContext) {
  return (ctx.reply.toolCalls ?? []).map((t, i) => {
    const args = t.arguments.trim() === '' ? '{}' : t.arguments;
    let input: unknown = {};
    try {
      input = JSON.parse(args);
    } catch {
      // Keep {} for the JSON body; the stream still sends the raw text (a model can emit broken JSON).
    }
    return { id: t.id ?? `toolu_fake${i}_${++seq}`, name: t.name, input, args };
  });
}

const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

export const anthropicWire: WireFormat = {
  name: 'anthropic',
  streamContentType: 'text/event-stream; charset=utf-8',
  route(method, path, body) {
    if (method !== 'POST') return null;
    const pathname = path.split('?')[0];
    if (pathname === '/v1/messages/count_tokens') {
      return { model: String(body?.model ?? ''), stream: false, endpoint: 'count_tokens' };
    }
    if (pathname !== '/v1/messages') return null;
    return { model: String(body?.model ?? ''), stream: body?.stream === true };
  },
  writeEndpoint(_endpoint, res, ctx) {
    // count_tokens: the prompt's tokens, as the reply's usage says (else the harness's estimate).
    sendJson(res, 200, { input_tokens: ctx.usage.input });
  },
  writeError(res: ServerResponse, e) {
    const type = e.type ?? ERROR_TYPES[e.status] ?? (e.status >= 500 ? 'api_error' : 'invalid_request_error');
    sendJson(
      res,
      e.status,
      {
        type: 'error',
        error: { type, message: e.message, ...(e.code ? { details: { error_code: e.code } } : {}) },
        request_id: `req_fake${++seq}`,
      },
      { ...retryAfterHeaders(e), 'request-id': `req_fake${seq}` },
    );
  },
  writeJson(res, ctx) {
    const content: unknown[] = thinkingBlocksOf(ctx.reply as AnthropicFakeReply);
    if (ctx.text !== '' || !ctx.reply.toolCalls?.length)
      content.push({ type: 'text', text: ctx.text, citations: null });
    for (const t of toolBlocksOf(ctx))
      content.push({ type: 'tool_use', id: t.id, name: t.name, input: t.input });
    sendJson(res, 200, {
      id: `msg_fake${++seq}`,
      type: 'message',
      role: 'assistant',
      model: snapshotOf(ctx.model),
      content,
      stop_reason: stopReasonOf(ctx.reply),
      stop_sequence: null,
      usage: usageOf(ctx),
    });
  },
  streamChunks(ctx) {
    const usage = usageOf(ctx);
    const out = [
      sse('message_start', {
        type: 'message_start',
        message: {
          id: `msg_fake${++seq}`,
          type: 'message',
          role: 'assistant',
          model: snapshotOf(ctx.model),
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { ...usage, output_tokens: 1 },
        },
      }),
      sse('ping', { type: 'ping' }),
    ];
    let index = 0;
    const reply = ctx.reply as AnthropicFakeReply;
    if (reply.thinking) {
      out.push(
        sse('content_block_start', {
          type: 'content_block_start',
          index,
          content_block: { type: 'thinking', thinking: '', signature: '' },
        }),
      );
      for (const piece of splitDeltas(reply.thinking.thinking)) {
        out.push(
          sse('content_block_delta', {
            type: 'content_block_delta',
            index,
            delta: { type: 'thinking_delta', thinking: piece },
          }),
        );
      }
      out.push(
        sse('content_block_delta', {
          type: 'content_block_delta',
          index,
          delta: { type: 'signature_delta', signature: reply.thinking.signature },
        }),
      );
      out.push(sse('content_block_stop', { type: 'content_block_stop', index }));
      index++;
    }
    if (reply.redactedThinking !== undefined) {
      out.push(
        sse('content_block_start', {
          type: 'content_block_start',
          index,
          content_block: { type: 'redacted_thinking', data: reply.redactedThinking },
        }),
      );
      out.push(sse('content_block_stop', { type: 'content_block_stop', index }));
      index++;
    }
    if (ctx.text !== '' || !ctx.reply.toolCalls?.length) {
      out.push(
        sse('content_block_start', {
          type: 'content_block_start',
          index,
          content_block: { type: 'text', text: '' },
        }),
      );
      for (const piece of splitDeltas(ctx.text)) {
        out.push(
          sse('content_block_delta', {
            type: 'content_block_delta',
            index,
            delta: { type: 'text_delta', text: piece },
          }),
        );
      }
      out.push(sse('content_block_stop', { type: 'content_block_stop', index }));
      index++;
    }
    const streamError = (ctx.reply as AnthropicFakeReply).streamError;
    if (streamError) {
      out.push(sse('error', { type: 'error', error: streamError }));
      return out;
    }
    for (const t of toolBlocksOf(ctx)) {
      out.push(
        sse('content_block_start', {
          type: 'content_block_start',
          index,
          content_block: { type: 'tool_use', id: t.id, name: t.name, input: {} },
        }),
      );
      // At least two fragments per call, as the real API sends: clients must concatenate, not replace.
      const half = Math.max(1, Math.ceil(t.args.length / 2));
      for (const part of [t.args.slice(0, half), t.args.slice(half)]) {
        out.push(
          sse('content_block_delta', {
            type: 'content_block_delta',
            index,
            delta: { type: 'input_json_delta', partial_json: part },
          }),
        );
      }
      out.push(sse('content_block_stop', { type: 'content_block_stop', index }));
      index++;
    }
    out.push(
      sse('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: stopReasonOf(ctx.reply), stop_sequence: null },
        usage,
      }),
    );
    out.push(sse('message_stop', { type: 'message_stop' }));
    return out;
  },
};

const invalid = (message: string): FakeReply => ({
  error: { status: 400, type: 'invalid_request_error', message },
});

/**
 * The real API's checks that catch adapter mistakes: credentials, the version header, `max_tokens`,
 * non-empty messages, and (since 2026-10-21) no sampling parameters at all.
 */
function checkRequest(req: ReceivedRequest): FakeReply | null {
  const h = req.headers;
  if (!h['x-api-key'] && !h.authorization) {
    return { error: { status: 401, type: 'authentication_error', message: 'x-api-key header is required' } };
  }
  const version = String(h['anthropic-version'] ?? '');
  if (!version) return invalid('anthropic-version: header is required');
  const body = req.body ?? {};
  const counting = req.path === '/v1/messages/count_tokens';
  if (!counting && !Number.isInteger(body.max_tokens)) return invalid('max_tokens: Field required');
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return invalid('messages: at least one message is required');
  }
  if (version >= '2026-10-21' && !counting) {
    for (const field of ['temperature', 'top_p', 'top_k']) {
      if (field in body) return invalid(`${field}: Extra inputs are not permitted`);
    }
  }
  return null;
}

/**
 * Starts the fake. Request checks apply to replies from the responder (the default or one set with
 * `respond`); replies queued with `enqueue` are played as scripted, unchecked.
 */
export async function startFakeAnthropic(options: { port?: number } = {}): Promise<FakeServer> {
  // Anthropic messages have OpenAI's role/content shape for user text (string or text blocks).
  const fake = await startFake(anthropicWire, (body) => lastOpenAIUserText(body?.messages), options);
  let responder: Responder = () => ({});
  const checked: Responder = (req) => checkRequest(req) ?? responder(req);
  fake.respond(checked);
  return {
    ...fake,
    respond(reply) {
      responder = typeof reply === 'function' ? reply : () => reply;
    },
    reset() {
      fake.reset();
      responder = () => ({});
      fake.respond(checked);
    },
  };
}
