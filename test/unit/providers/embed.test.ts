/** The adapters' embeddings translation: what goes upstream, and how an answer is read back. */
import { describe, expect, it } from 'vitest';
import { EmbeddingsRequestSchema, inputList } from '../../../src/embeddings/index.ts';
import { DEMO_EMBED_DIMENSIONS, demoEmbed, demoVector } from '../../../src/providers/demo/embed.ts';
import { toEmbedResult as geminiResult, toEmbedParameters } from '../../../src/providers/gemini/embed.ts';
import { toEmbedResult as openaiResult, toEmbeddingsBody } from '../../../src/providers/openai/embed.ts';
import type { EmbedCall } from '../../../src/providers/types.ts';
import { RefusedRequestError, UpstreamError } from '../../../src/providers/upstream-error.ts';

function call(body: Record<string, unknown>, encoding: 'float' | 'base64' = 'float'): EmbedCall {
  const request = EmbeddingsRequestSchema.parse({ model: 'client-name', ...body });
  return {
    model: 'up-model',
    request,
    inputs: inputList(request.input),
    encoding,
    signal: new AbortController().signal,
  };
}

const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe('OpenAI-compatible embeddings', () => {
  it('forward the body with the upstream name and the chosen encoding, never `quorum`', () => {
    const body = JSON.parse(
      toEmbeddingsBody(
        call(
          { input: ['a'], dimensions: 8, user: 'u1', quorum: { tags: { x: 'y' } }, encoding_format: 'float' },
          'base64',
        ),
      ),
    );
    expect(body).toEqual({
      model: 'up-model',
      input: ['a'],
      dimensions: 8,
      user: 'u1',
      encoding_format: 'base64',
    });
  });

  it('read vectors by their index, with the reported usage and model', () => {
    const result = openaiResult(
      'oa',
      {
        data: [
          { object: 'embedding', index: 1, embedding: [0, 1] },
          { object: 'embedding', index: 0, embedding: 'AACAPw==' },
        ],
        model: 'text-embedding-3-small',
        usage: { prompt_tokens: 5, total_tokens: 5 },
      },
      2,
    );
    expect(result).toEqual({
      vectors: ['AACAPw==', [0, 1]],
      promptTokens: 5,
      upstreamModel: 'text-embedding-3-small',
    });
  });

  it('an answer without one vector per input is the provider failing (bad_response)', () => {
    for (const parsed of [
      { data: [{ index: 0, embedding: [1] }] },
      {
        data: [
          { index: 0, embedding: [1] },
          { index: 0, embedding: [2] },
        ],
      },
      {
        data: [
          { index: 0, embedding: [1] },
          { index: 1, embedding: { no: 1 } },
        ],
      },
      null,
    ]) {
      const err = (() => {
        try {
          openaiResult('oa', parsed, 2);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(UpstreamError);
      expect((err as UpstreamError).failure).toBe('bad_response');
    }
  });

  it('a missing or malformed usage reads as not reported', () => {
    expect(openaiResult('oa', { data: [{ index: 0, embedding: [1] }] }, 1).promptTokens).toBeUndefined();
    expect(
      openaiResult('oa', { data: [{ index: 0, embedding: [1] }], usage: { prompt_tokens: 'x' } }, 1)
        .promptTokens,
    ).toBeUndefined();
  });
});

describe('Gemini embeddings', () => {
  it('send every text in one call, with outputDimensionality for `dimensions`', () => {
    const signal = new AbortController().signal;
    expect(toEmbedParameters('ge', call({ input: ['a', 'b'], dimensions: 4 }), signal)).toEqual({
      model: 'up-model',
      contents: ['a', 'b'],
      config: { abortSignal: signal, outputDimensionality: 4 },
    });
  });

  it('refuse token ids before any call, naming `input`', () => {
    expect(() => toEmbedParameters('ge', call({ input: [[1, 2]] }), new AbortController().signal)).toThrow(
      RefusedRequestError,
    );
  });

  it('answer unit vectors in order, with the usage when Gemini reports it', () => {
    const result = geminiResult('ge', { embeddings: [{ values: [3, 4] }, { values: [0, 2] }] }, 2);
    expect(result).toEqual({
      vectors: [
        [0.6, 0.8],
        [0, 1],
      ],
      promptTokens: undefined,
    });
    expect(
      geminiResult('ge', { embeddings: [{ values: [1] }], usageMetadata: { promptTokenCount: 7 } }, 1)
        .promptTokens,
    ).toBe(7);
    expect(() => geminiResult('ge', { embeddings: [{ values: [1] }] }, 2)).toThrow(
      /1 embedding\(s\) for 2 input/,
    );
  });
});

describe('the demo embedding model', () => {
  it('is deterministic, unit length, and honours `dimensions` up to its own', () => {
    const a = demoEmbed('demo', call({ input: ['the cat sat', 'the cat sat'] }));
    expect(a.vectors[0]).toEqual(a.vectors[1]);
    expect(a.vectors[0]).toHaveLength(DEMO_EMBED_DIMENSIONS);
    expect(Math.hypot(...(a.vectors[0] as number[]))).toBeCloseTo(1, 10);
    expect(demoEmbed('demo', call({ input: 'x', dimensions: 16 })).vectors[0]).toHaveLength(16);
    expect(() => demoEmbed('demo', call({ input: 'x', dimensions: DEMO_EMBED_DIMENSIONS + 1 }))).toThrow(
      RefusedRequestError,
    );
  });

  it('points texts sharing words the same way', () => {
    const cat = demoVector('the cat sat on the mat', 256);
    const kitten = demoVector('a cat sat on a mat', 256);
    const tax = demoVector('quarterly tax returns are due', 256);
    expect(dot(cat, kitten)).toBeGreaterThan(0.4);
    expect(Math.abs(dot(cat, tax))).toBeLessThan(0.3);
  });

  it('counts a text at least one token, and token ids one each', () => {
    expect(demoEmbed('demo', call({ input: [[1, 2, 3], [4]] })).promptTokens).toBe(4);
    expect(demoEmbed('demo', call({ input: ['a', 'b'] })).promptTokens).toBe(2);
  });
});
