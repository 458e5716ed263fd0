/**
 * A streamed chat answer (the gateway's `chat.completion.chunk` objects) as the Responses event
 * sequence: `response.created`, `response.in_progress`, then per output item `output_item.added`,
 * its content part and text deltas (or function-call argument deltas), the matching `.done` events,
 * and `response.completed` (or `response.incomplete`) carrying the whole response with usage. Every
 * event has the next `sequence_number`, a failure's `error` event included.
 */
import type { GatewayError } from '../errors/index.ts';
import { itemId } from './ids.ts';
import type { FunctionCallItem, MessageItem } from './input.ts';
import {
  type OutputItem,
  outputText,
  type ResponseBase,
  responseObject,
  responseUsage,
  statusOf,
} from './response.ts';

export type ResponseEvent = { type: string; sequence_number: number } & Record<string, unknown>;

export interface ResponseStreamHooks {
  /** Runs with the finished response before `response.completed` is sent (storing it, say). */
  finished(response: Record<string, unknown>): Promise<void>;
  /** Runs with the failed response when the answer failed midway; its own failure is ignored. */
  failed(response: Record<string, unknown>): Promise<void>;
}

interface ToolDelta {
  index: number;
  id?: string;
  function?: { name?: string; arguments?: string };
}

/** The numbering of one stream's events; the SSE writer asks it for the number of a failure's event. */
export class EventCounter {
  #next: number;

  /** `first`: the number of the first event (after events numbered by someone else). */
  constructor(first = 0) {
    this.#next = first;
  }

  event(type: string, fields: Record<string, unknown>): ResponseEvent {
    return { type, sequence_number: this.#next++, ...fields };
  }

  /** The `error` event: OpenAI's fields, and the error object every Quorum stream ends with. */
  error(err: GatewayError): ResponseEvent {
    const { error } = err.toBody();
    return this.event('error', { code: error.code, message: error.message, param: error.param, error });
  }
}

/** The output items as they are written: one open message, and the function calls by chat index. */
class OutputBuilder {
  readonly items: OutputItem[] = [];
  #message: { item: MessageItem; index: number; text: string } | null = null;
  readonly #calls = new Map<number, { item: FunctionCallItem; index: number }>();
  readonly #counter: EventCounter;

  constructor(counter: EventCounter) {
    this.#counter = counter;
  }

  *text(delta: string): Generator<ResponseEvent> {
    const ev = this.#counter;
    if (!this.#message) {
      const item: MessageItem = {
        id: itemId('msg'),
        type: 'message',
        status: 'in_progress',
        role: 'assistant',
        content: [],
      };
      const index = this.items.push(item) - 1;
      this.#message = { item, index, text: '' };
      yield ev.event('response.output_item.added', { output_index: index, item: structuredClone(item) });
      yield ev.event('response.content_part.added', {
        item_id: item.id,
        output_index: index,
        content_index: 0,
        part: outputText(''),
      });
    }
    const open = this.#message;
    open.text += delta;
    yield ev.event('response.output_text.delta', {
      item_id: open.item.id,
      output_index: open.index,
      content_index: 0,
      delta,
      logprobs: [],
    });
  }

  *toolCall(delta: ToolDelta): Generator<ResponseEvent> {
    const ev = this.#counter;
    let call = this.#calls.get(delta.index);
    if (!call) {
      // A message item is done once a function call follows it.
      yield* this.#closeMessage('completed');
      const item: FunctionCallItem = {
        id: itemId('fc'),
        type: 'function_call',
        status: 'in_progress',
        call_id: delta.id ?? `call_${itemId('fc').slice(3, 27)}`,
        name: delta.function?.name ?? '',
        arguments: '',
      };
      call = { item, index: this.items.push(item) - 1 };
      this.#calls.set(delta.index, call);
      yield ev.event('response.output_item.added', { output_index: call.index, item: structuredClone(item) });
    }
    const fragment = delta.function?.arguments ?? '';
    if (fragment) {
      call.item.arguments += fragment;
      yield ev.event('response.function_call_arguments.delta', {
        item_id: call.item.id,
        output_index: call.index,
        delta: fragment,
      });
    }
  }

  *#closeMessage(status: 'completed' | 'incomplete'): Generator<ResponseEvent> {
    const open = this.#message;
    if (!open) return;
    this.#message = null;
    const ev = this.#counter;
    const at = { item_id: open.item.id, output_index: open.index, content_index: 0 };
    yield ev.event('response.output_text.done', { ...at, text: open.text, logprobs: [] });
    yield ev.event('response.content_part.done', { ...at, part: outputText(open.text) });
    open.item.content = [outputText(open.text)];
    open.item.status = status;
    yield ev.event('response.output_item.done', {
      output_index: open.index,
      item: structuredClone(open.item),
    });
  }

  /** The items so far, an open message holding the text written until now (for a failed response). */
  partial(): OutputItem[] {
    if (this.#message) this.#message.item.content = [outputText(this.#message.text)];
    return this.items;
  }

  /** Closes every open item; an answer with no output at all gets an empty message, as a JSON one does. */
  *finish(status: 'completed' | 'incomplete'): Generator<ResponseEvent> {
    if (this.items.length === 0) yield* this.text('');
    yield* this.#closeMessage(status);
    const ev = this.#counter;
    for (const call of [...this.#calls.values()].sort((a, b) => a.index - b.index)) {
      call.item.status = 'completed';
      yield ev.event('response.function_call_arguments.done', {
        item_id: call.item.id,
        output_index: call.index,
        arguments: call.item.arguments,
      });
      yield ev.event('response.output_item.done', {
        output_index: call.index,
        item: structuredClone(call.item),
      });
    }
    this.#calls.clear();
  }
}

/**
 * The Responses events of one streamed answer. A chunk stream that throws (a GatewayError, after the
 * first event) ends this one too: `hooks.failed` runs with the failed response, and the error goes on
 * to the SSE writer, which sends it as this stream's `error` event.
 */
export async function* responseEvents(
  chunks: AsyncIterator<Record<string, unknown>>,
  start: ResponseBase,
  counter: EventCounter,
  hooks: ResponseStreamHooks,
): AsyncGenerator<ResponseEvent> {
  let base = start;
  const out = new OutputBuilder(counter);
  let usage: unknown;
  let quorum: unknown;
  let finish: string | undefined;
  try {
    // The first chunk before any event: it starts the chat stream, whose own cleanup (closing the
    // upstream, settling the budget hold) then runs however this one ends, a client gone early included.
    let next = await chunks.next();
    // The chunks name the model that answers (a fan-out's selected or aggregating one).
    const model = next.done ? undefined : next.value.model;
    if (typeof model === 'string') base = { ...base, model };
    const started = responseObject(base, { status: 'in_progress', output: [] });
    yield counter.event('response.created', { response: started });
    yield counter.event('response.in_progress', { response: started });
    while (!next.done) {
      const chunk = next.value;
      if (chunk.usage) usage = chunk.usage;
      if (chunk.quorum) quorum = chunk.quorum;
      const choice = (
        chunk.choices as { delta?: Record<string, unknown>; finish_reason?: string | null }[]
      )[0];
      if (choice) {
        const delta = choice.delta ?? {};
        if (typeof delta.content === 'string' && delta.content) yield* out.text(delta.content);
        for (const call of (delta.tool_calls as ToolDelta[] | undefined) ?? []) yield* out.toolCall(call);
        if (choice.finish_reason) finish = choice.finish_reason;
      }
      next = await chunks.next();
    }
  } catch (err) {
    const error = err as GatewayError;
    await hooks
      .failed(
        responseObject(base, {
          status: 'failed',
          output: out.partial(),
          error: { code: error.code ?? 'server_error', message: error.message },
          quorum,
        }),
      )
      .catch(() => {});
    throw err;
  } finally {
    await chunks.return?.(undefined);
  }
  const { status, incomplete_details } = statusOf(finish);
  yield* out.finish(status);
  const response = responseObject(base, {
    status,
    incomplete_details,
    output: out.items,
    usage: responseUsage(usage),
    quorum,
  });
  await hooks.finished(response);
  yield counter.event(status === 'completed' ? 'response.completed' : 'response.incomplete', { response });
}
