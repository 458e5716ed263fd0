/**
 * OpenAI chat-completion chunks → the gateway's StreamEvents. Each event's JSON is parsed once, as its
 * bytes arrive (pool.ts splits the stream), and only what the events and accounting need is read.
 */
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { StreamEvent } from '../../chat/index.ts';
import type { SseReader } from '../http/pool.ts';
import { streamFailure } from './errors.ts';
import { toFinishReason, toUsage } from './response.ts';

export class ChunkReader implements SseReader<StreamEvent> {
  readonly #provider: string;
  #sawModel = false;
  /** A finish reason arrived: without one, a stream that ends was cut. */
  finished = false;

  constructor(provider: string) {
    this.#provider = provider;
  }

  event(data: string, name: string | undefined, out: StreamEvent[]): boolean {
    if (data === '[DONE]') return false;
    const chunk = JSON.parse(data) as ChatCompletionChunk & { error?: unknown };
    if (typeof chunk !== 'object' || chunk === null) throw new SyntaxError('an event that is no JSON object');
    if (name === 'error') throw streamFailure(this.#provider, chunk.error ?? chunk);
    if (chunk.error) throw streamFailure(this.#provider, chunk.error);
    if (!this.#sawModel && chunk.model) {
      this.#sawModel = true;
      out.push({ type: 'model', model: chunk.model });
    }
    const choice = chunk.choices?.[0];
    if (choice) {
      const delta = choice.delta;
      if (delta?.content) out.push({ type: 'text', text: delta.content });
      const calls = delta?.tool_calls;
      if (calls) {
        for (const call of calls) {
          out.push({
            type: 'tool_call',
            index: call.index,
            ...(call.id ? { id: call.id } : {}),
            ...(call.function?.name ? { name: call.function.name } : {}),
            ...(call.function?.arguments ? { arguments: call.function.arguments } : {}),
          });
        }
      }
      if (choice.finish_reason) {
        this.finished = true;
        out.push({ type: 'finish', reason: toFinishReason(choice.finish_reason) });
      }
    }
    if (chunk.usage) out.push({ type: 'usage', usage: toUsage(chunk.usage) });
    return true;
  }
}
