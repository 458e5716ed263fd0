/** OpenAI chat-completion chunks → the gateway's StreamEvents, yielded as they arrive. */
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { StreamEvent } from '../../chat/index.ts';
import { UpstreamError } from '../upstream-error.ts';
import { toFinishReason, toUsage } from './response.ts';

export async function* translateStream(
  providerId: string,
  chunks: AsyncIterable<ChatCompletionChunk>,
  signal: AbortSignal,
): AsyncGenerator<StreamEvent> {
  let sawModel = false;
  let finished = false;
  for await (const chunk of chunks) {
    if (!sawModel && chunk.model) {
      sawModel = true;
      yield { type: 'model', model: chunk.model };
    }
    const choice = chunk.choices?.[0];
    if (choice) {
      const delta = choice.delta;
      if (delta?.content) yield { type: 'text', text: delta.content };
      for (const call of delta?.tool_calls ?? []) {
        yield {
          type: 'tool_call',
          index: call.index,
          ...(call.id ? { id: call.id } : {}),
          ...(call.function?.name ? { name: call.function.name } : {}),
          ...(call.function?.arguments ? { arguments: call.function.arguments } : {}),
        };
      }
      if (choice.finish_reason) {
        finished = true;
        yield { type: 'finish', reason: toFinishReason(choice.finish_reason) };
      }
    }
    if (chunk.usage) yield { type: 'usage', usage: toUsage(chunk.usage) };
  }
  // The SDK ends quietly both when the connection closes early and when our own signal aborts it
  // (deadline, client gone); without a finish reason the answer was cut, whatever the cause.
  if (!finished) {
    throw signal.aborted
      ? new UpstreamError(providerId, 0, 'the call was aborted', { failure: 'aborted' })
      : new UpstreamError(providerId, 0, 'the stream ended before its finish reason', {
          failure: 'connection',
        });
  }
}
