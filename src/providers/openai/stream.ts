/**
 * OpenAI chat-completion chunks → the gateway's StreamEvents. Each event's JSON is parsed once, as its
 * bytes arrive (pool.ts splits the stream), and only what the events and accounting need is read.
 *
 * Most of a stream is chunks that carry one piece of text, written by OpenAI (and servers that copy it)
 * in one compact shape. Those are matched by one anchored expression instead of parsed: it accepts only
 * that shape, every string checked as JSON checks it, so a chunk it accepts reads exactly as parsing
 * would read it; anything else (another key order, spaces, a role, a tool call, usage) is parsed.
 * `JSON.parse` builds five objects for such a chunk and costs ≈ 26k instructions; the match ≈ 2k.
 */
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { StreamEvent } from '../../chat/index.ts';
import type { SseReader } from '../http/pool.ts';
import { streamFailure } from './errors.ts';
import { COUNT, STRING, stringValue } from './json-match.ts';
import { toFinishReason, toUsage } from './response.ts';

/** A text chunk in OpenAI's compact shape: the model (1) and the text (2), still escaped. */
const TEXT_CHUNK = new RegExp(
  `^\\{"id":"${STRING}","object":"chat\\.completion\\.chunk","created":${COUNT},"model":"(${STRING})",` +
    `(?:"service_tier":"${STRING}",)?(?:"system_fingerprint":"${STRING}",)?` +
    `"choices":\\[\\{"index":0,"delta":\\{"content":"(${STRING})"\\},(?:"logprobs":null,)?"finish_reason":null\\}\\]` +
    `(?:,"usage":null)?(?:,"obfuscation":"${STRING}")?\\}$`,
);

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
    const text = name === 'error' ? null : TEXT_CHUNK.exec(data);
    if (text) {
      if (!this.#sawModel && text[1]) {
        this.#sawModel = true;
        out.push({ type: 'model', model: stringValue(text[1]) });
      }
      if (text[2]) out.push({ type: 'text', text: stringValue(text[2]) });
      return true;
    }
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
