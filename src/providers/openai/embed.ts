/**
 * Embeddings from an OpenAI-compatible server: the client's body forwarded to `/embeddings` (unknown
 * fields included, for servers with options of their own) with the upstream model name, and the answer
 * read back in input order.
 */
import type { EmbedResult, Vector } from '../../embeddings/index.ts';
import type { EmbedCall } from '../types.ts';
import { UpstreamError } from '../upstream-error.ts';

/** Fields that are ours, or that the call sets itself. */
const NOT_FORWARDED = new Set(['quorum', 'model', 'encoding_format']);

export function toEmbeddingsBody(call: EmbedCall): string {
  const body: Record<string, unknown> = {};
  const fields = call.request as Record<string, unknown>;
  for (const key in fields) if (!NOT_FORWARDED.has(key)) body[key] = fields[key];
  body.model = call.model;
  body.encoding_format = call.encoding;
  return JSON.stringify(body);
}

const isVector = (v: unknown): v is Vector =>
  typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'number'));

/**
 * The vectors of an embeddings answer, by their `index`. An answer that does not hold exactly one
 * vector per input is the provider's failure (the client would get vectors for the wrong texts).
 */
export function toEmbedResult(provider: string, parsed: unknown, count: number): EmbedResult {
  const answer = parsed as { data?: unknown; usage?: { prompt_tokens?: unknown }; model?: unknown } | null;
  const data = Array.isArray(answer?.data) ? (answer.data as { index?: unknown; embedding?: unknown }[]) : [];
  const vectors: Vector[] = new Array(count);
  let found = 0;
  data.forEach((item, position) => {
    const index = Number.isInteger(item?.index) ? (item.index as number) : position;
    if (index >= 0 && index < count && vectors[index] === undefined && isVector(item?.embedding)) {
      vectors[index] = item.embedding;
      found++;
    }
  });
  if (found !== count || data.length !== count) {
    throw new UpstreamError(
      provider,
      200,
      `the provider sent ${data.length} embedding(s) for ${count} input(s)`,
      { failure: 'bad_response' },
    );
  }
  const tokens = answer?.usage?.prompt_tokens;
  return {
    vectors,
    promptTokens: typeof tokens === 'number' && Number.isFinite(tokens) && tokens >= 0 ? tokens : undefined,
    ...(typeof answer?.model === 'string' ? { upstreamModel: answer.model } : {}),
  };
}
