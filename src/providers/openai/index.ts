import OpenAI from 'openai';
import type { ChatResult, StreamEvent } from '../../chat/index.ts';
import { nodeFetch } from '../http/node-fetch.ts';
import type { AdapterFactory, ProviderAdapter, UpstreamCall } from '../types.ts';
import { toUpstreamError } from './errors.ts';
import { toOpenAIBody } from './request.ts';
import { toChatResult } from './response.ts';
import { translateStream } from './stream.ts';

/** Any OpenAI-compatible Chat Completions server (OpenAI itself, vLLM, Ollama, LM Studio, …). */
export const createOpenAIAdapter: AdapterFactory = (config): ProviderAdapter => {
  const client = new OpenAI({
    // The SDK refuses to start without a key; local compatible servers often need none.
    apiKey: config.api_key || 'unused',
    ...(config.base_url ? { baseURL: config.base_url } : {}),
    timeout: config.timeout_ms,
    // The gateway retries and falls back itself; SDK retries would hide attempts and double the wait.
    maxRetries: 0,
    fetch: nodeFetch,
    // The SDK would print an unparsable event to stderr, and that text can quote the prompt.
    logLevel: 'off',
    ...(config.headers ? { defaultHeaders: config.headers } : {}),
  });

  return {
    id: config.id,
    type: 'openai',

    async complete({ model, request, signal }: UpstreamCall): Promise<ChatResult> {
      try {
        const completion = await client.chat.completions.create(
          { ...toOpenAIBody(model, request), stream: false },
          { signal },
        );
        return toChatResult(config.id, completion);
      } catch (err) {
        throw toUpstreamError(config.id, err, signal);
      }
    },

    async *stream({ model, request, signal }: UpstreamCall): AsyncIterable<StreamEvent> {
      try {
        const stream = await client.chat.completions.create(
          // Always ask for usage: the gateway needs it for cost, whatever the client asked for.
          { ...toOpenAIBody(model, request), stream: true, stream_options: { include_usage: true } },
          { signal },
        );
        yield* translateStream(config.id, stream, signal);
      } catch (err) {
        throw toUpstreamError(config.id, err, signal);
      }
    },
  };
};
