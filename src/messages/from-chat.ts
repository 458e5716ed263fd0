/**
 * A translated request's answer (the gateway's chat reply) in Anthropic's shape: the Message body, and
 * the SSE event sequence — `message_start`, each content block's `content_block_start` / `_delta` /
 * `_stop`, `message_delta` with the stop reason and usage, `message_stop`. The `quorum` record rides
 * along as one extra field (on the body, and on `message_delta`); Anthropic's SDKs ignore it.
 */
import type { ToolCall } from '../chat/index.ts';

/** The chat body's parts this reads (replies/completion.ts builds them). */
export interface ChatBody {
  model: string;
  choices: { message: { content: string | null; tool_calls?: ToolCall[] }; finish_reason: string }[];
  usage: ChatUsage;
  quorum: unknown;
}

interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number };
}

const STOP_REASONS: Record<string, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  content_filter: 'refusal',
};

/** The chat finish reason as Anthropic's stop reason (which stop sequence matched is not known). */
export function stopReasonOf(finish: string | null | undefined): string {
  return (finish && STOP_REASONS[finish]) || 'end_turn';
}

/** Chat usage as Anthropic's: `input_tokens` excludes what was read from the prompt cache. */
export function usageOf(usage: ChatUsage | undefined) {
  const cached = usage?.prompt_tokens_details?.cached_tokens ?? 0;
  return {
    input_tokens: Math.max(0, (usage?.prompt_tokens ?? 0) - cached),
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
    output_tokens: usage?.completion_tokens ?? 0,
  };
}

/** A tool call's arguments as the `input` object Anthropic's tool_use blocks carry. */
function inputOf(args: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(args || '{}');
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : { value };
  } catch {
    // Not JSON (a model's broken arguments): kept as the text it was, never lost.
    return { arguments: args };
  }
}

/** The Message body of a translated answer; `id` is `msg_<request id>`. */
export function messageBody(id: string, body: ChatBody) {
  const choice = body.choices[0];
  const content: Record<string, unknown>[] = [];
  const text = choice?.message.content;
  if (text) content.push({ type: 'text', text });
  for (const call of choice?.message.tool_calls ?? []) {
    content.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: inputOf(call.function.arguments),
    });
  }
  return {
    id,
    type: 'message',
    role: 'assistant',
    model: body.model,
    content,
    stop_reason: stopReasonOf(choice?.finish_reason),
    stop_sequence: null,
    usage: usageOf(body.usage),
    quorum: body.quorum,
  };
}

/** One named SSE event. */
export function sseEvent(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

interface ChunkDelta {
  content?: string | null;
  tool_calls?: { index: number; id?: string; function?: { name?: string; arguments?: string } }[];
}

interface Chunk {
  model?: string;
  choices?: { delta?: ChunkDelta; finish_reason?: string | null }[];
  usage?: ChatUsage;
  quorum?: unknown;
}

/**
 * A translated stream's SSE events, from the chat reply's chunks: a text block while text arrives, a
 * tool_use block per tool call (its arguments as `input_json_delta`), then the stop reason and usage.
 * A failure the chunks throw passes through (the server writes it as an `error` event); leaving early
 * closes the chunks.
 */
export async function* messageEvents(
  id: string,
  model: string,
  chunks: AsyncIterator<Record<string, unknown>>,
): AsyncGenerator<string> {
  // The first chunk names the model that answers (a fan-out's selected candidate or aggregator), which
  // `message_start` says; `model` is for a stream that fails before any chunk.
  let first: IteratorResult<Record<string, unknown>>;
  try {
    first = await chunks.next();
  } catch (err) {
    await chunks.return?.();
    throw err;
  }
  const named = first.done ? undefined : first.value.model;
  let index = -1;
  /** The open block: `text`, a tool call's chat index, or null. */
  let open: 'text' | number | null = null;
  let finish: string | null | undefined;
  let usage: ChatUsage | undefined;
  let quorum: unknown;
  const close = (): string[] => {
    if (open === null) return [];
    open = null;
    return [sseEvent('content_block_stop', { index })];
  };
  try {
    yield sseEvent('message_start', {
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model: typeof named === 'string' ? named : model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: usageOf(undefined),
      },
    });
    for (let next = first; !next.done; next = await chunks.next()) {
      const chunk = next.value as Chunk;
      const choice = chunk.choices?.[0];
      const delta = choice?.delta;
      if (delta?.content) {
        if (open !== 'text') {
          yield* close();
          open = 'text';
          yield sseEvent('content_block_start', {
            index: ++index,
            content_block: { type: 'text', text: '' },
          });
        }
        yield sseEvent('content_block_delta', { index, delta: { type: 'text_delta', text: delta.content } });
      }
      for (const call of delta?.tool_calls ?? []) {
        if (open !== call.index) {
          yield* close();
          open = call.index;
          yield sseEvent('content_block_start', {
            index: ++index,
            content_block: {
              type: 'tool_use',
              id: call.id ?? '',
              name: call.function?.name ?? '',
              input: {},
            },
          });
        }
        const partial = call.function?.arguments;
        if (partial) {
          yield sseEvent('content_block_delta', {
            index,
            delta: { type: 'input_json_delta', partial_json: partial },
          });
        }
      }
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) {
        usage = chunk.usage;
        quorum = chunk.quorum;
      }
    }
  } finally {
    // Ends the chat reply however this ends: its upstream call closes and its request settles.
    await chunks.return?.();
  }
  yield* close();
  yield sseEvent('message_delta', {
    delta: { stop_reason: stopReasonOf(finish), stop_sequence: null },
    usage: usageOf(usage),
    ...(quorum !== undefined ? { quorum } : {}),
  });
  yield sseEvent('message_stop', {});
}
