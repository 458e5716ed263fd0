/**
 * Any OpenAI-compatible Chat Completions server (OpenAI itself, vLLM, Ollama, LM Studio, …). The
 * client's body is already OpenAI-shaped, so the call is built here and sent over a keep-alive pool
 * (http/pool.ts) instead of through the `openai` SDK, whose request building cost as much CPU as the
 * rest of the gateway's work on a proxied request (docs/decisions.md). The SDK supplies types only.
 * Embeddings (`/embeddings`, embed.ts) go over the same pool.
 */
import type { ChatResult, StreamEvent } from '../../chat/index.ts';
import type { EmbedResult } from '../../embeddings/index.ts';
import { UpstreamPool } from '../http/pool.ts';
import type { AdapterFactory, EmbedCall, ProviderAdapter, UpstreamCall } from '../types.ts';
import { UpstreamError } from '../upstream-error.ts';
import { toEmbeddingsBody, toEmbedResult } from './embed.ts';
import { httpFailure, toUpstreamError } from './errors.ts';
import { endpointOf, headersOf, toOpenAIBody } from './request.ts';
import { parseCompletion, readCompletion } from './response.ts';
import { ChunkReader } from './stream.ts';

export const createOpenAIAdapter: AdapterFactory = (config): ProviderAdapter => {
  const id = config.id;
  const { origin, path } = endpointOf(config);
  const embeddingsPath = endpointOf(config, '/embeddings').path;
  const headers = headersOf(config);
  // The config's default fills it in; a config built by hand without it gets the SDK's old default.
  const timeoutMs = config.timeout_ms ?? 600_000;
  // The call's own timeout bounds the connect too; a second more keeps a socket from hanging on.
  const pool = new UpstreamPool(origin, { connectTimeoutMs: timeoutMs + 1_000 });
  // No retries here: the gateway retries and falls back itself (hidden retries would double the wait).

  return {
    id,
    type: 'openai',

    async complete({ model, request, signal }: UpstreamCall): Promise<ChatResult> {
      try {
        const body = toOpenAIBody(model, request, false);
        const answer = await pool.post({ path, headers, body, signal, timeoutMs });
        if (answer.status < 200 || answer.status >= 300) throw httpFailure(id, answer);
        return readCompletion(id, answer);
      } catch (err) {
        throw toUpstreamError(id, err, signal);
      }
    },

    async *stream({ model, request, signal }: UpstreamCall): AsyncIterable<StreamEvent> {
      const reader = new ChunkReader(id);
      try {
        const body = toOpenAIBody(model, request, true);
        const answer = await pool.postStream({ path, headers, body, signal, timeoutMs }, reader);
        if (!answer.events) throw httpFailure(id, answer);
        yield* answer.events;
      } catch (err) {
        // Aborted after the finish reason (the client left during the usage event): the answer is whole.
        if (reader.finished && signal.aborted && !(err instanceof UpstreamError)) return;
        throw toUpstreamError(id, err, signal);
      }
      // A stream that ends without a finish reason was cut, however cleanly the connection closed.
      if (!reader.finished) {
        throw signal.aborted
          ? new UpstreamError(id, 0, 'the call was aborted', { failure: 'aborted' })
          : new UpstreamError(id, 0, 'the stream ended before its finish reason', { failure: 'connection' });
      }
    },

    async embed(call: EmbedCall): Promise<EmbedResult> {
      const { signal } = call;
      try {
        const body = toEmbeddingsBody(call);
        const answer = await pool.post({ path: embeddingsPath, headers, body, signal, timeoutMs });
        if (answer.status < 200 || answer.status >= 300) throw httpFailure(id, answer);
        return toEmbedResult(id, parseCompletion(answer), call.inputs.length);
      } catch (err) {
        throw toUpstreamError(id, err, signal);
      }
    },

    close: () => pool.close(),
  };
};
