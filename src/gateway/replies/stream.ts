/**
 * The streamed reply: stream events → `chat.completion.chunk` objects, and how a stream that fails or
 * ends without its finish reason is told to the client (never as a normal `stop`).
 */

import { StrategyFailure } from '../../../consensus/index.ts';
import type { FinishReason, StreamEvent, Usage } from '../../chat/index.ts';
import { GatewayError, strategyError } from '../../errors/index.ts';
import { UpstreamError } from '../../providers/upstream-error.ts';
import { ChunkBuilder } from './chunks.ts';
import type { QuorumRecord } from './completion.ts';
import { usageBody } from './usage.ts';

export interface StreamSource {
  /** The first event, already received. */
  first: StreamEvent;
  /** The rest: a live upstream stream, or a finished answer's events replayed. */
  rest: AsyncIterator<StreamEvent> | Iterator<StreamEvent>;
}

export interface StreamReplyOptions {
  readonly id: string;
  readonly created: number;
  /** Catalog id shown as `model` on every chunk. */
  readonly model: string;
  readonly includeUsage: boolean;
  /** The final `usage` and `quorum` record, from what the stream reported. */
  finish(usage: Usage, events: { finish: FinishReason }): { usage: Usage; quorum: QuorumRecord };
  /** Sees every upstream event (e.g. to record the answer for the cache). */
  onEvent?(event: StreamEvent): void;
  /** Why a failure happened, when the generator is about to throw. */
  describeFailure(err: unknown): GatewayError;
  /** Runs once however the stream ends. */
  cleanup(): void | Promise<void>;
}

/**
 * Turns stream events into `chat.completion.chunk` objects: role first, deltas as they come, then the
 * finishing chunk carrying usage and the quorum record (or a separate usage chunk when the client asked
 * for `include_usage`, as OpenAI does).
 */
export async function* streamChunks(
  source: StreamSource,
  options: StreamReplyOptions,
): AsyncGenerator<Record<string, unknown>> {
  const builder = new ChunkBuilder(options.id, options.created, options.model);
  let usage: Usage = { prompt_tokens: 0, completion_tokens: 0 };
  let finish: FinishReason | undefined;
  let sawToolCall = false;
  try {
    yield builder.delta({ role: 'assistant', content: '' });
    let event: StreamEvent | undefined = source.first;
    while (event) {
      options.onEvent?.(event);
      switch (event.type) {
        case 'text':
          yield builder.delta({ content: event.text });
          break;
        case 'tool_call':
          sawToolCall = true;
          yield builder.delta({ tool_calls: [toolCallDelta(event)] });
          break;
        case 'finish':
          finish = event.reason;
          break;
        case 'usage':
          usage = event.usage;
          break;
      }
      const next = await source.rest.next();
      event = next.done ? undefined : next.value;
    }
    // Every source says how its answer ended; one that stops without saying so was cut short, and
    // passing it on as `stop` would present a truncated answer as complete.
    if (finish === undefined) throw new StreamCutError();
    if (sawToolCall && finish === 'stop') finish = 'tool_calls';
    const tail = options.finish(usage, { finish });
    const extra = { usage: usageBody(tail.usage), quorum: tail.quorum };
    if (options.includeUsage) {
      yield builder.finish(finish);
      yield builder.usage(extra);
    } else {
      yield builder.finish(finish, extra);
    }
  } catch (err) {
    throw options.describeFailure(err);
  } finally {
    // Close the upstream first, so its final accounting is in before the request settles.
    await source.rest.return?.();
    await options.cleanup();
  }
}

function toolCallDelta(event: Extract<StreamEvent, { type: 'tool_call' }>) {
  const fn: Record<string, string> = {};
  if (event.name !== undefined) fn.name = event.name;
  fn.arguments = event.arguments ?? '';
  return { index: event.index, ...(event.id ? { id: event.id, type: 'function' } : {}), function: fn };
}

class StreamCutError extends Error {
  constructor() {
    super('it ended before its finish reason');
  }
}

/** A mid-stream failure in the client's terms: the deadline → upstream_timeout, else upstream_failed. */
export function streamFailure(model: string, err: unknown, timedOut: boolean): GatewayError {
  if (timedOut) return new GatewayError('upstream_timeout', `The stream from ${model} ran out of time.`);
  if (err instanceof GatewayError) return err;
  if (err instanceof StrategyFailure) return strategyError(err);
  // Upstream messages are fit for clients; anything else is our own and stays in the log.
  const why = err instanceof UpstreamError || err instanceof StreamCutError ? `: ${err.message}` : '';
  return new GatewayError('upstream_failed', `The stream from ${model} failed${why}.`, { cause: err });
}
