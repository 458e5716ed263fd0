/**
 * Gemini Developer API adapter, through the official `@google/genai` SDK.
 *
 * `base_url` is the server root, without the API version: the SDK appends `/v1beta/models/…`
 * itself, so `http://127.0.0.1:9003` (or the default `https://generativelanguage.googleapis.com`)
 * — not `…/v1beta`. The version is pinned to v1beta (SDK 3.x defaults to v1) because that is the
 * surface Google documents for tools, systemInstruction and responseSchema together.
 */
import { GoogleGenAI } from '@google/genai';
import type { StreamEvent } from '../../chat/index.ts';
import type { EmbedResult } from '../../embeddings/index.ts';
import { nodeFetch } from '../http/node-fetch.ts';
import type { AdapterFactory, EmbedCall, UpstreamCall } from '../types.ts';
import { toEmbedParameters, toEmbedResult } from './embed.ts';
import { toUpstreamError } from './errors.ts';
import { toGeminiRequest } from './request.ts';
import { toChatResult } from './response.ts';
import { translateStream } from './stream.ts';

/**
 * Our own timer instead of the SDK's `timeout`: the SDK's bounds the whole exchange, body included,
 * which would cut off a long but healthy stream. Here `timeout_ms` bounds the wait for the answer,
 * and for streams the silence between chunks (`touch` re-arms it).
 */
function callScope(signal: AbortSignal, timeoutMs: number) {
  const controller = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
  };
  const onAbort = () => controller.abort(signal.reason);
  if (signal.aborted) controller.abort(signal.reason);
  else signal.addEventListener('abort', onAbort, { once: true });
  arm();
  return {
    signal: controller.signal,
    state: { signal, timedOut: () => timedOut },
    touch: arm,
    /** Ends the call; aborts the HTTP exchange if it is still open (consumer stopped early). */
    close: () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (!controller.signal.aborted) controller.abort();
    },
  };
}

export const createGeminiAdapter: AdapterFactory = (config) => {
  const client = new GoogleGenAI({
    vertexai: false, // never switch to Vertex because GOOGLE_GENAI_USE_VERTEXAI is set
    apiKey: config.api_key,
    // No `retryOptions`: the SDK then makes exactly one attempt; the gateway does the retrying.
    httpOptions: {
      apiVersion: 'v1beta',
      fetch: nodeFetch,
      ...(config.base_url ? { baseUrl: config.base_url } : {}),
      ...(config.headers ? { headers: config.headers } : {}),
    },
  });

  return {
    id: config.id,
    type: 'gemini',

    async complete(call: UpstreamCall) {
      const scope = callScope(call.signal, config.timeout_ms);
      try {
        const { contents, config: generation } = toGeminiRequest(call.request, scope.signal);
        const response = await client.models.generateContent({
          model: call.model,
          contents,
          config: generation,
        });
        return toChatResult(config.id, response);
      } catch (err) {
        throw toUpstreamError(config.id, err, scope.state);
      } finally {
        scope.close();
      }
    },

    async *stream(call: UpstreamCall): AsyncGenerator<StreamEvent> {
      const scope = callScope(call.signal, config.timeout_ms);
      try {
        const { contents, config: generation } = toGeminiRequest(call.request, scope.signal);
        const chunks = await client.models.generateContentStream({
          model: call.model,
          contents,
          config: generation,
        });
        async function* touched() {
          for await (const chunk of chunks) {
            scope.touch();
            yield chunk;
          }
        }
        yield* translateStream(touched(), call.model);
      } catch (err) {
        throw toUpstreamError(config.id, err, scope.state);
      } finally {
        scope.close();
      }
    },

    async embed(call: EmbedCall): Promise<EmbedResult> {
      const scope = callScope(call.signal, config.timeout_ms);
      try {
        const response = await client.models.embedContent(toEmbedParameters(config.id, call, scope.signal));
        return toEmbedResult(config.id, response, call.inputs.length);
      } catch (err) {
        throw toUpstreamError(config.id, err, scope.state);
      } finally {
        scope.close();
      }
    },
  };
};
