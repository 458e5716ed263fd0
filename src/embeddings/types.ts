/** What an embeddings call works with: the inputs as a list, vectors in either wire form, the result. */

/** The request's `input` as a list: texts, or token-id arrays. */
export type EmbedInputs = string[] | number[][];

/**
 * One embedding as it came from the provider: floats, or OpenAI's base64 form (little-endian float32)
 * kept as received, so a base64 answer passes to a base64 client untouched.
 */
export type Vector = number[] | string;

export type EncodingFormat = 'float' | 'base64';

/** A provider's answer to one embeddings call, in input order. */
export interface EmbedResult {
  vectors: Vector[];
  /** Input tokens as the provider reported them; undefined when it reports none (Gemini's batch API may not). */
  promptTokens: number | undefined;
  /** The model name the provider says answered (its own naming). */
  upstreamModel?: string;
}
