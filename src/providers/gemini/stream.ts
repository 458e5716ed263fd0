/** Gemini stream chunks → StreamEvents, one event per delta, nothing buffered. */
import type { GenerateContentResponse, GenerateContentResponseUsageMetadata } from '@google/genai';
import type { StreamEvent } from '../../chat/index.ts';
import { mapFinish, mapUsage, textOf, toolCallOf } from './response.ts';

export async function* translateStream(
  chunks: AsyncIterable<GenerateContentResponse>,
  fallbackModel: string,
): AsyncGenerator<StreamEvent> {
  let announced = false;
  let toolIndex = 0;
  let finishReason: unknown;
  let blocked = false;
  let usage: GenerateContentResponseUsageMetadata | undefined;

  for await (const chunk of chunks) {
    if (!announced) {
      announced = true;
      yield { type: 'model', model: chunk.modelVersion ?? fallbackModel };
    }
    if (chunk.usageMetadata) usage = chunk.usageMetadata;
    if (chunk.promptFeedback?.blockReason) blocked = true;
    const candidate = chunk.candidates?.[0];
    if (!candidate) continue;
    for (const part of candidate.content?.parts ?? []) {
      const text = textOf(part);
      if (text) yield { type: 'text', text };
      // Gemini streams each function call whole, so one event carries id, name and all arguments.
      const call = toolCallOf(part);
      if (call) {
        yield {
          type: 'tool_call',
          index: toolIndex++,
          id: call.id,
          name: call.function.name,
          arguments: call.function.arguments,
        };
      }
    }
    if (candidate.finishReason) finishReason = candidate.finishReason;
  }
  // Gemini's last chunk always carries a finishReason (or the prompt was blocked); a stream without
  // one was cut. Reported as the dropped connection it is, so the adapter's error mapping can still
  // tell it from our own abort or timeout.
  if (!blocked && !finishReason) {
    throw new TypeError('terminated', { cause: new Error('the stream ended before its finishReason') });
  }
  yield { type: 'finish', reason: blocked ? 'content_filter' : mapFinish(finishReason, toolIndex > 0) };
  if (usage) yield { type: 'usage', usage: mapUsage(usage) };
}
