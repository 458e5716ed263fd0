import { type ChatResult, resultEvents, type StreamEvent } from '../../chat/index.ts';
import type { AdapterFactory, EmbedCall, ProviderAdapter, UpstreamCall } from '../types.ts';
import { UpstreamError } from '../upstream-error.ts';
import { demoAnswer } from './answer.ts';
import { demoEmbed } from './embed.ts';

export { DEMO_MODELS } from './models.ts';
export { DEMO_PRESETS, describePresets } from './presets.ts';

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
    for (const event of resultEvents(demoAnswer(model, request), model)) {
      checkAborted(config.id, signal);
      yield event;
    }
  },

  async embed(call: EmbedCall) {
    checkAborted(config.id, call.signal);
    return demoEmbed(config.id, call);
  },
});
