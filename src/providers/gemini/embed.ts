/**
 * Embeddings through `models.embedContent`, which the SDK sends as one `batchEmbedContents` call for
 * every input. Gemini takes text only, and truncated vectors (`outputDimensionality`) come back
 * unnormalised: they are scaled to unit length here, as OpenAI's always are, so cosine and dot product
 * agree whichever provider answered.
 */
import type { EmbedContentParameters, EmbedContentResponse } from '@google/genai';
import { type EmbedResult, isTokenInput, normalize } from '../../embeddings/index.ts';
import type { EmbedCall } from '../types.ts';
import { RefusedRequestError, UpstreamError } from '../upstream-error.ts';

export function toEmbedParameters(
  provider: string,
  call: EmbedCall,
  signal: AbortSignal,
): EmbedContentParameters {
  const { inputs, request } = call;
  if (isTokenInput(inputs)) {
    throw new RefusedRequestError(provider, 'input', 'Gemini models take text, not token ids: send the text');
  }
  return {
    model: call.model,
    contents: inputs,
    config: {
      abortSignal: signal,
      ...(request.dimensions ? { outputDimensionality: request.dimensions } : {}),
    },
  };
}

/** One unit vector per input, in input order; anything else is the provider's failure. */
export function toEmbedResult(provider: string, response: EmbedContentResponse, count: number): EmbedResult {
  const embeddings = Array.isArray(response.embeddings) ? response.embeddings : [];
  const vectors = embeddings.map((e) => (Array.isArray(e?.values) ? normalize(e.values) : null));
  if (vectors.length !== count || vectors.some((v) => v === null || v.length === 0)) {
    throw new UpstreamError(
      provider,
      200,
      `Gemini sent ${vectors.length} embedding(s) for ${count} input(s)`,
      {
        failure: 'bad_response',
      },
    );
  }
  const tokens = response.usageMetadata?.promptTokenCount;
  return {
    vectors: vectors as number[][],
    promptTokens: typeof tokens === 'number' && tokens >= 0 ? tokens : undefined,
  };
}
