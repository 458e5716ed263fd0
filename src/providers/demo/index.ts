import type { ChatResult, StreamEvent } from '../../chat/index.ts';
import type { AdapterFactory, ProviderAdapter, UpstreamCall } from '../types.ts';
import { UpstreamError } from '../upstream-error.ts';
import { demoAnswer } from './answer.ts';

export { DEMO_MODELS } from './models.ts';

function checkAborted(provider: string, signal: AbortSignal) {
  if (signal.aborted) throw new UpstreamError(provider, 0, 'the call was aborted', { failure: 'aborted' });
}

/** The built-in deterministic provider: no network, instant answers. */
export const createDemoAdapter: AdapterFactory = (config): ProviderAdapter => ({
  id: config.id,
  type: 'demo',

  async complete({ model, request, signal }: UpstreamCall): Promise<ChatResult> {
    checkAborted(config.id, signal);
    return demoAnswer(model, request);
  },

  async *stream({ model, request, signal }: UpstreamCall): AsyncIterable<StreamEvent> {
    checkAborted(config.id, signal);
    const answer = demoAnswer(model, request);
    yield { type: 'model', model };
    for (const piece of answer.content?.match(/\S+\s*|\s+/g) ?? []) {
      checkAborted(config.id, signal);
      yield { type: 'text', text: piece };
    }
    for (const [index, call] of (answer.tool_calls ?? []).entries()) {
      checkAborted(config.id, signal);
      yield {
        type: 'tool_call',
        index,
        id: call.id,
        name: call.function.name,
        arguments: call.function.arguments,
      };
    }
    yield { type: 'finish', reason: answer.finish_reason };
    yield { type: 'usage', usage: answer.usage };
  },
});
