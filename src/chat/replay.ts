import type { ChatResult, StreamEvent } from './types.ts';

/**
 * A whole answer as the stream events a provider would have sent: the model, word-sized text deltas,
 * one event per tool call, the finish reason and usage. Used wherever an answer exists before its
 * stream does (the demo provider, cache hits, fan-outs that must finish before they can answer).
 */
export function* resultEvents(result: ChatResult, model: string): Generator<StreamEvent> {
  yield { type: 'model', model };
  for (const piece of result.content?.match(/\S+\s*|\s+/g) ?? []) yield { type: 'text', text: piece };
  for (const [index, call] of (result.tool_calls ?? []).entries()) {
    yield {
      type: 'tool_call',
      index,
      id: call.id,
      name: call.function.name,
      arguments: call.function.arguments,
    };
  }
  yield { type: 'finish', reason: result.finish_reason };
  yield { type: 'usage', usage: result.usage };
}
