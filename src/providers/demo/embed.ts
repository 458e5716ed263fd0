/**
 * The demo embedding model: deterministic vectors by feature hashing — each word (or token id) hashed to
 * one dimension with a sign, plus a faint hash of the whole text so no two texts share a vector — scaled
 * to unit length. Texts sharing words point the same way, so similarity search can be tried for real.
 */
import { createHash } from 'node:crypto';
import { estimateTextTokens } from '../../../routing/tokens.ts';
import { type EmbedResult, isTokenInput, normalize } from '../../embeddings/index.ts';
import type { EmbedCall } from '../types.ts';
import { RefusedRequestError } from '../upstream-error.ts';

/** demo-embed's vectors have this many dimensions unless the request asks for fewer. */
export const DEMO_EMBED_DIMENSIONS = 256;

const digest = (text: string) => createHash('sha256').update(text).digest();

/** One input's vector: its words (or token ids) hashed into `dimensions` signed buckets. */
export function demoVector(input: string | readonly number[], dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const words =
    typeof input === 'string'
      ? (input.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])
      : input.map((id) => `#${id}`);
  for (const word of words) {
    const h = digest(word);
    vector[h.readUInt32LE(0) % dimensions]! += h[4]! & 1 ? 1 : -1;
  }
  // A faint fingerprint of the whole input: distinct texts never share a vector, and none is zero.
  const whole = typeof input === 'string' ? input : input.join(',');
  for (let i = 0; i < dimensions; i++) {
    const h = digest(`${i}\0${whole}`);
    vector[i]! += (h.readInt16LE(0) / 32768) * 0.05;
  }
  return normalize(vector);
}

export function demoEmbed(provider: string, call: EmbedCall): EmbedResult {
  const dimensions = call.request.dimensions ?? DEMO_EMBED_DIMENSIONS;
  if (dimensions > DEMO_EMBED_DIMENSIONS) {
    throw new RefusedRequestError(
      provider,
      'dimensions',
      `${call.model} has ${DEMO_EMBED_DIMENSIONS} dimensions: ask for 1 to ${DEMO_EMBED_DIMENSIONS}`,
    );
  }
  const { inputs } = call;
  const vectors = isTokenInput(inputs)
    ? inputs.map((tokens) => demoVector(tokens, dimensions))
    : inputs.map((text) => demoVector(text, dimensions));
  const promptTokens = isTokenInput(inputs)
    ? inputs.reduce((n, tokens) => n + tokens.length, 0)
    : inputs.reduce((n, text) => n + Math.max(1, estimateTextTokens(text)), 0);
  return { vectors, promptTokens, upstreamModel: call.model };
}
