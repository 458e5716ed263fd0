/**
 * A fake OpenAI server: `POST /v1/chat/completions` (JSON and SSE), `POST /v1/embeddings`, and
 * `POST /v1/responses` (the Responses API, openai-responses.ts).
 */
import { isOpenAIEmbeddings, openaiEmbeddingsBody, openaiEmbedViolation } from './embeddings.ts';
import {
  type FakeServer,
  lastOpenAIUserText,
  type ReplyContext,
  retryAfterHeaders,
  sendJson,
  splitDeltas,
  startFake,
  type WireFormat,
} from './harness.ts';
import { isOpenAIResponses, lastResponsesUserText, writeResponses } from './openai-responses.ts';

function usageOf(ctx: ReplyContext) {
  return {
    prompt_tokens: ctx.usage.input,
    completion_tokens: ctx.usage.output,
    total_tokens: ctx.usage.input + ctx.usage.output,
    prompt_tokens_details: { cached_tokens: ctx.usage.cached, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: ctx.usage.reasoning, audio_tokens: 0 },
  };
}

function toolCallsOf(ctx: ReplyContext) {
  return (ctx.reply.toolCalls ?? []).map((t, i) => ({
    id: t.id ?? `call_${i}_${ctx.model.length}`,
    type: 'function',
    function: { name: t.name, arguments: t.arguments },
  }));
}

function finishOf(ctx: ReplyContext) {
  return ctx.reply.finish ?? (ctx.reply.toolCalls?.length ? 'tool_calls' : 'stop');
}

const created = () => Math.floor(Date.now() / 1000);
let seq = 0;

export const openaiWire: WireFormat = {
  name: 'openai',
  streamContentType: 'text/event-stream',
  route(method, path, body) {
    if (method === 'POST' && isOpenAIEmbeddings(path))
      return { model: String(body?.model ?? ''), stream: false };
    if (method === 'POST' && isOpenAIResponses(path)) {
      return { model: String(body?.model ?? ''), stream: body?.stream === true, endpoint: 'responses' };
    }
    if (method !== 'POST' || !path.startsWith('/v1/chat/completions')) return null;
    return { model: String(body?.model ?? ''), stream: body?.stream === true };
  },
  writeError(res, e) {
    sendJson(
      res,
      e.status,
      {
        error: {
          message: e.message,
          type: e.type ?? 'invalid_request_error',
          param: null,
          code: e.code ?? null,
        },
      },
      retryAfterHeaders(e),
    );
  },
  writeEndpoint(_endpoint, res, ctx) {
    return writeResponses(res, ctx);
  },
  writeJson(res, ctx) {
    if (isOpenAIEmbeddings(ctx.path)) {
      const refused = openaiEmbedViolation(ctx.body);
      if (refused) return openaiWire.writeError(res, { status: 400, message: refused });
      return sendJson(res, 200, openaiEmbeddingsBody(ctx));
    }
    const toolCalls = toolCallsOf(ctx);
    sendJson(res, 200, {
      id: `chatcmpl-fake${++seq}`,
      object: 'chat.completion',
      created: created(),
      model: `${ctx.model}-2025-01-01`,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: ctx.text === '' && toolCalls.length ? null : ctx.text,
            refusal: null,
            ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
          },
          logprobs: null,
          finish_reason: finishOf(ctx),
        },
      ],
      usage: usageOf(ctx),
      system_fingerprint: 'fp_fake',
    });
  },
  streamChunks(ctx) {
    const id = `chatcmpl-fake${++seq}`;
    const base = {
      id,
      object: 'chat.completion.chunk',
      created: created(),
      model: `${ctx.model}-2025-01-01`,
    };
    const includeUsage = ctx.body?.stream_options?.include_usage === true;
    const frame = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ ...base, choices, ...(includeUsage ? { usage: null } : {}), ...extra })}\n\n`;
    const out = [frame([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }])];
    for (const piece of splitDeltas(ctx.text)) {
      out.push(frame([{ index: 0, delta: { content: piece }, finish_reason: null }]));
    }
    toolCallsOf(ctx).forEach((call, index) => {
      out.push(
        frame([
          {
            index: 0,
            delta: {
              tool_calls: [
                {
                  index,
                  id: call.id,
                  type: 'function',
                  function: { name: call.function.name, arguments: '' },
                },
              ],
            },
            finish_reason: null,
          },
        ]),
      );
      const args = call.function.arguments;
      const half = Math.ceil(args.length / 2);
      for (const part of [args.slice(0, half), args.slice(half)]) {
        if (part)
          out.push(
            frame([
              {
                index: 0,
                delta: { tool_calls: [{ index, function: { arguments: part } }] },
                finish_reason: null,
              },
            ]),
          );
      }
    });
    out.push(frame([{ index: 0, delta: {}, finish_reason: finishOf(ctx) }]));
    if (includeUsage) out.push(frame([], { usage: usageOf(ctx) }));
    out.push('data: [DONE]\n\n');
    return out;
  },
};

export function startFakeOpenAI(options: { port?: number } = {}): Promise<FakeServer> {
  return startFake(
    openaiWire,
    (body) => (body?.messages ? lastOpenAIUserText(body.messages) : lastResponsesUserText(body?.input)),
    options,
  );
}
