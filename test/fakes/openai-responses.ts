/**
 * The OpenAI fake's Responses API, `POST /v1/responses`: the Response object as JSON, or its event
 * stream (`event:` named by type, every event numbered by `sequence_number` from 0, usage in
 * `response.completed`), with message, function_call, reasoning and web_search_call output items. Like
 * a server asked to keep nothing it keeps no state: a `previous_response_id` is unknown to it, and a
 * reasoning item can only come back with its `encrypted_content`. It refuses what OpenAI would refuse of
 * a gateway's mistakes (an unknown top-level field such as `quorum`, a stored reference), checked for
 * every request, scripted or not. The raw bodies are in the fake's `received`.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  estimateTokens,
  type FakeReply,
  type ReplyContext,
  sendJson,
  splitDeltas,
  writeFrames,
} from './harness.ts';

/** Responses-only extras a test may put on a reply. */
export interface ResponsesFakeReply extends FakeReply {
  /** A reasoning item before the answer, with this summary; `encrypted_content` when the request includes it. */
  reasoning?: string;
  /** With a `web_search` tool in the request: a web_search_call item before the answer, which cites the page. */
  webSearch?: { query: string; url: string; title: string };
  /** Streams only: after the text deltas, an `error` event, and the stream stops. */
  streamError?: { code: string; message: string };
  /** Streams only: `response.failed` with this error right after `response.in_progress`, before any output. */
  failWith?: { code: string; message: string };
}

export const isOpenAIResponses = (path: string) => path.split('?')[0] === '/v1/responses';

/** The fields a Responses request may have at the top level (what OpenAI knows; anything else is refused). */
const KNOWN = new Set([
  'model',
  'input',
  'instructions',
  'previous_response_id',
  'store',
  'stream',
  'stream_options',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'text',
  'reasoning',
  'max_output_tokens',
  'max_tool_calls',
  'temperature',
  'top_p',
  'top_logprobs',
  'metadata',
  'user',
  'include',
  'service_tier',
  'prompt_cache_key',
  'prompt_cache_retention',
  'safety_identifier',
  'truncation',
  'background',
  'conversation',
  'prompt',
]);

const hex = () => randomBytes(24).toString('hex');
const now = () => Math.floor(Date.now() / 1000);

interface Refusal {
  status: number;
  message: string;
  param?: string;
  code?: string;
}

/** Text of the last user message of a Responses `input`. */
export function lastResponsesUserText(input: unknown): string {
  if (typeof input === 'string') return input;
  if (!Array.isArray(input)) return '';
  const last = [...input].reverse().find((i) => i?.role === 'user' && (i.type ?? 'message') === 'message');
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  // A hostile body (the fuzz passes them through) may hold anything here.
  if (!Array.isArray(last.content)) return '';
  return last.content
    .filter((p: any) => p?.type === 'input_text')
    .map((p: any) => p.text)
    .join(' ');
}

/** What OpenAI would refuse in this body, if anything. */
function refusal(body: any): Refusal | null {
  if (!body || typeof body !== 'object') return { status: 400, message: 'The body must be a JSON object.' };
  for (const key of Object.keys(body)) {
    if (!KNOWN.has(key))
      return { status: 400, message: `Unknown parameter: '${key}'.`, param: key, code: 'unknown_parameter' };
  }
  if (typeof body.model !== 'string')
    return { status: 400, message: "Missing required parameter: 'model'.", param: 'model' };
  if (body.previous_response_id) {
    return {
      status: 400,
      message: `Previous response with id '${body.previous_response_id}' not found.`,
      param: 'previous_response_id',
      code: 'previous_response_not_found',
    };
  }
  const stored = body.store !== false;
  const items: any[] = Array.isArray(body.input) ? body.input : [];
  for (const [i, item] of items.entries()) {
    const unstored =
      item?.type === 'item_reference' ||
      (item?.type === 'reasoning' && typeof item.encrypted_content !== 'string');
    if (unstored && !stored) {
      return {
        status: 404,
        message: `Item with id '${typeof item.id === 'string' ? item.id : JSON.stringify(item.id)}' not found. Items are not persisted when \`store\` is set to false. Try again with \`store\` set to true, or remove this item from your input.`,
        param: `input[${i}]`,
      };
    }
  }
  const format = body.text?.format;
  if (format?.type === 'json_schema' && (typeof format.name !== 'string' || !format.schema)) {
    return {
      status: 400,
      message: "Missing required parameter: 'text.format.name'.",
      param: 'text.format.name',
    };
  }
  if (body.background === true && !stored) {
    return { status: 400, message: 'Background responses require store to be true.', param: 'background' };
  }
  return null;
}

type Item = Record<string, any>;

function messageItem(text: string, annotations: unknown[] = []): Item {
  return {
    id: `msg_${hex()}`,
    type: 'message',
    status: 'completed',
    role: 'assistant',
    content: [{ type: 'output_text', text, annotations, logprobs: [] }],
  };
}

/** The answer's output items, in order: reasoning, a web search, the message, function calls. */
function outputOf(ctx: ReplyContext): Item[] {
  const reply = ctx.reply as ResponsesFakeReply;
  const body = ctx.body ?? {};
  const items: Item[] = [];
  if (reply.reasoning !== undefined) {
    const encrypted = (body.include ?? []).includes('reasoning.encrypted_content');
    items.push({
      id: `rs_${hex()}`,
      type: 'reasoning',
      summary: [{ type: 'summary_text', text: reply.reasoning }],
      ...(encrypted ? { encrypted_content: `enc_${Buffer.from(reply.reasoning).toString('base64')}` } : {}),
    });
  }
  const searching =
    reply.webSearch && (body.tools ?? []).some((t: any) => String(t?.type).startsWith('web_search'));
  if (searching) {
    const ws = reply.webSearch!;
    items.push({
      id: `ws_${hex()}`,
      type: 'web_search_call',
      status: 'completed',
      action: { type: 'search', query: ws.query },
    });
  }
  if (ctx.text !== '' || !reply.toolCalls?.length) {
    const cite =
      searching && ctx.text
        ? [
            {
              type: 'url_citation',
              start_index: 0,
              end_index: ctx.text.length,
              url: reply.webSearch!.url,
              title: reply.webSearch!.title,
            },
          ]
        : [];
    items.push(messageItem(ctx.text, cite));
  }
  (reply.toolCalls ?? []).forEach((t, i) => {
    items.push({
      id: `fc_${hex()}`,
      type: 'function_call',
      status: 'completed',
      arguments: t.arguments,
      call_id: t.id ?? `call_${i}_${ctx.model.length}`,
      name: t.name,
    });
  });
  return items;
}

function usageOf(ctx: ReplyContext) {
  const scripted = ctx.reply.usage;
  const input =
    scripted?.input ?? estimateTokens(JSON.stringify([ctx.body?.instructions ?? '', ctx.body?.input ?? '']));
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: ctx.usage.cached },
    output_tokens: ctx.usage.output,
    output_tokens_details: { reasoning_tokens: ctx.usage.reasoning },
    total_tokens: input + ctx.usage.output,
  };
}

/** The Response object in a given state, echoing the request's settings as OpenAI does. */
function responseOf(ctx: ReplyContext, id: string, createdAt: number, state: Item): Item {
  const body = ctx.body ?? {};
  const status = state.status as string;
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status,
    background: false,
    completed_at: status === 'completed' ? now() : null,
    error: state.error ?? null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    max_tool_calls: body.max_tool_calls ?? null,
    metadata: body.metadata ?? {},
    model: `${ctx.model}-2025-01-01`,
    output: state.output ?? [],
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: body.reasoning?.effort ?? null, summary: body.reasoning?.summary ?? null },
    service_tier: 'default',
    store: body.store ?? true,
    temperature: body.temperature ?? 1,
    text: body.text ?? { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_p: body.top_p ?? 1,
    truncation: body.truncation ?? 'disabled',
    usage: state.usage ?? null,
    user: body.user ?? null,
  };
}

const finalStatus = (ctx: ReplyContext) => (ctx.reply.finish === 'length' ? 'incomplete' : 'completed');

/** The event stream of one answer, each event a ready-written frame. */
function eventsOf(ctx: ReplyContext): string[] {
  const reply = ctx.reply as ResponsesFakeReply;
  const id = `resp_${hex()}`;
  const createdAt = now();
  const frames: string[] = [];
  let seq = 0;
  const emit = (type: string, fields: Item) => {
    frames.push(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...fields })}\n\n`);
  };
  const started = responseOf(ctx, id, createdAt, { status: 'in_progress' });
  emit('response.created', { response: started });
  emit('response.in_progress', { response: started });
  if (reply.failWith) {
    emit('response.failed', {
      response: responseOf(ctx, id, createdAt, { status: 'failed', error: reply.failWith }),
    });
    return frames;
  }
  const output = outputOf(ctx);
  for (const [index, item] of output.entries()) {
    const at = { item_id: item.id, output_index: index };
    switch (item.type) {
      case 'reasoning':
        emit('response.output_item.added', { output_index: index, item: { ...item, summary: [] } });
        break;
      case 'web_search_call':
        emit('response.output_item.added', {
          output_index: index,
          item: { id: item.id, type: item.type, status: 'in_progress' },
        });
        emit('response.web_search_call.in_progress', at);
        emit('response.web_search_call.searching', at);
        emit('response.web_search_call.completed', at);
        break;
      case 'message': {
        const part = item.content[0];
        emit('response.output_item.added', {
          output_index: index,
          item: { ...item, status: 'in_progress', content: [] },
        });
        const empty = { type: 'output_text', annotations: [], logprobs: [], text: '' };
        emit('response.content_part.added', { ...at, content_index: 0, part: empty });
        for (const delta of splitDeltas(part.text)) {
          emit('response.output_text.delta', { ...at, content_index: 0, delta, logprobs: [] });
        }
        if (reply.streamError) {
          emit('error', { code: reply.streamError.code, message: reply.streamError.message, param: null });
          return frames;
        }
        emit('response.output_text.done', { ...at, content_index: 0, text: part.text, logprobs: [] });
        emit('response.content_part.done', { ...at, content_index: 0, part });
        break;
      }
      case 'function_call': {
        emit('response.output_item.added', {
          output_index: index,
          item: { ...item, status: 'in_progress', arguments: '' },
        });
        const half = Math.ceil(item.arguments.length / 2);
        for (const delta of [item.arguments.slice(0, half), item.arguments.slice(half)]) {
          if (delta) emit('response.function_call_arguments.delta', { ...at, delta });
        }
        emit('response.function_call_arguments.done', { ...at, arguments: item.arguments });
        break;
      }
    }
    emit('response.output_item.done', { output_index: index, item });
  }
  const status = finalStatus(ctx);
  emit(`response.${status}`, {
    response: responseOf(ctx, id, createdAt, { status, output, usage: usageOf(ctx) }),
  });
  return frames;
}

/** Answers `POST /v1/responses`: a refusal, the Response as JSON, or its event stream. */
export async function writeResponses(res: ServerResponse, ctx: ReplyContext): Promise<void> {
  const refused = refusal(ctx.body);
  if (refused) {
    sendJson(res, refused.status, {
      error: {
        message: refused.message,
        type: 'invalid_request_error',
        param: refused.param ?? null,
        code: refused.code ?? null,
      },
    });
    return;
  }
  if (ctx.body.stream === true) {
    await writeFrames(res, 'text/event-stream', eventsOf(ctx), ctx.reply);
    return;
  }
  const status = finalStatus(ctx);
  const output = outputOf(ctx);
  sendJson(res, 200, responseOf(ctx, `resp_${hex()}`, now(), { status, output, usage: usageOf(ctx) }));
}
