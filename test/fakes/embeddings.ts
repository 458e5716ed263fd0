/**
 * The embeddings endpoints of the fake upstreams, in each provider's wire format: OpenAI's
 * `POST /v1/embeddings` (float or base64 vectors, `dimensions`, usage) and Gemini's
 * `:batchEmbedContents` (what `models.embedContent` of @google/genai sends). Vectors are a hash of
 * each input, so a test can compute what the upstream sent for any text.
 */
import { createHash } from 'node:crypto';
import { estimateTokens, type ReplyContext } from './harness.ts';

/** Dimensions of a fake vector when the request asks for none. */
export const FAKE_DIMENSIONS = 8;

/** The fake's raw vector for one input: hash bytes in [-0.5, 0.5], not unit length. */
export function fakeVector(input: string | number[], dimensions = FAKE_DIMENSIONS): number[] {
  const text = typeof input === 'string' ? input : `tokens:${input.join(',')}`;
  const out: number[] = [];
  for (let block = 0; out.length < dimensions; block++) {
    const bytes = createHash('sha256').update(`${block}:${text}`).digest();
    for (const b of bytes) if (out.length < dimensions) out.push(b / 255 - 0.5);
  }
  return out;
}

export function unit(values: number[]): number[] {
  const norm = Math.sqrt(values.reduce((s, v) => s + v * v, 0));
  return values.map((v) => v / norm);
}

/** What an input counts as at the fake, unless a reply scripts `usage.input`. */
export function fakeTokens(input: string | number[]): number {
  return typeof input === 'string' ? estimateTokens(input) : input.length;
}

const inputList = (input: unknown): (string | number[])[] => {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && typeof input[0] === 'number') return [input as number[]];
  return Array.isArray(input) ? (input as (string | number[])[]) : [];
};

export const isOpenAIEmbeddings = (path: string) => path.startsWith('/v1/embeddings');

/** The most dimensions a fake vector may have: past it the fakes refuse, as the real APIs do. */
export const MAX_FAKE_DIMENSIONS = 4096;

/** What OpenAI would refuse in an embeddings body, if anything. */
export function openaiEmbedViolation(body: any): string | null {
  const d = body?.dimensions;
  if (d !== undefined && !(Number.isInteger(d) && d >= 1 && d <= MAX_FAKE_DIMENSIONS)) {
    return `Invalid value for 'dimensions': must be an integer from 1 to ${MAX_FAKE_DIMENSIONS}.`;
  }
  return inputList(body?.input).length ? null : "'$.input' is invalid.";
}

/** OpenAI's embeddings answer: unit vectors (as OpenAI's are), floats or base64 float32. */
export function openaiEmbeddingsBody(ctx: ReplyContext) {
  const body = ctx.body ?? {};
  const inputs = inputList(body.input);
  const tokens = ctx.reply.usage?.input ?? inputs.reduce((n: number, i) => n + fakeTokens(i), 0);
  return {
    object: 'list',
    data: inputs.map((input, index) => {
      const vector = unit(fakeVector(input, body.dimensions ?? FAKE_DIMENSIONS));
      const embedding =
        body.encoding_format === 'base64'
          ? Buffer.from(Float32Array.from(vector).buffer).toString('base64')
          : vector;
      return { object: 'embedding', index, embedding };
    }),
    model: ctx.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

export const isGeminiEmbed = (path: string) => /:batchEmbedContents$/.test(path);

/** What the real API would refuse in a batchEmbedContents body. */
export function geminiEmbedViolations(body: any, model: string): string[] {
  const requests = body?.requests;
  if (!Array.isArray(requests) || !requests.length) return ['* requests: requests is not specified'];
  const out: string[] = [];
  requests.forEach((r: any, i: number) => {
    if (r?.model !== `models/${model}`) {
      out.push(`* requests[${i}].model: must be the model in the URL (models/${model}), got ${r?.model}`);
    }
    const d = r?.outputDimensionality;
    if (d !== undefined && !(Number.isInteger(d) && d >= 1 && d <= MAX_FAKE_DIMENSIONS)) {
      out.push(`* requests[${i}].output_dimensionality: must be from 1 to ${MAX_FAKE_DIMENSIONS}`);
    }
    const parts = r?.content?.parts;
    if (!Array.isArray(parts) || !parts.length || parts.some((p: any) => typeof p?.text !== 'string')) {
      out.push(`* requests[${i}].content.parts: must hold text`);
    }
  });
  return out;
}

/**
 * Gemini's answer: one `values` per request, truncated to `outputDimensionality` without being
 * rescaled (as Gemini's truncated vectors are). `usageMetadata` only when the reply scripts usage:
 * the documented batch answer carries embeddings alone.
 */
export function geminiEmbeddingsBody(ctx: ReplyContext) {
  const requests: any[] = ctx.body?.requests ?? [];
  const embeddings = requests.map((r) => {
    const text = (r.content.parts as { text: string }[]).map((p) => p.text).join('');
    return { values: fakeVector(text, r.outputDimensionality ?? FAKE_DIMENSIONS) };
  });
  const tokens = ctx.reply.usage?.input;
  return {
    embeddings,
    ...(tokens === undefined ? {} : { usageMetadata: { promptTokenCount: tokens, totalTokenCount: tokens } }),
  };
}
