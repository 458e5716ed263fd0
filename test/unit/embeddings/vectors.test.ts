/** Vectors between their wire forms, the input list a request stands for, and its token counts. */
import { describe, expect, it } from 'vitest';
import {
  base64ToFloats,
  dimensionsOf,
  EmbeddingsRequestSchema,
  encodeVector,
  floatsToBase64,
  inputList,
  inputTokenRanges,
  isTokenInput,
  likelyInputTokens,
  normalize,
} from '../../../src/embeddings/index.ts';

describe('base64 vectors', () => {
  it('are little-endian float32, as OpenAI sends them, and decode back exactly for float32 values', () => {
    const values = [0.5, -0.25, 1, 0];
    const text = floatsToBase64(values);
    const bytes = Buffer.from(text, 'base64');
    expect(bytes).toHaveLength(16);
    expect(bytes.readFloatLE(4)).toBe(-0.25);
    expect(base64ToFloats(text)).toEqual(values);
    expect(dimensionsOf(text)).toBe(4);
  });

  it('refuse text that is not whole float32 values', () => {
    expect(base64ToFloats(Buffer.from([1, 2, 3]).toString('base64'))).toBeNull();
  });

  it('pass through untouched when the client asks the form the provider sent', () => {
    const text = floatsToBase64([0.1, 0.2]);
    expect(encodeVector(text, 'base64')).toBe(text);
    const floats = [0.1, 0.2];
    expect(encodeVector(floats, 'float')).toBe(floats);
    // Converted when the forms differ (float32 precision).
    const decoded = encodeVector(text, 'float') as number[];
    expect(decoded[0]).toBeCloseTo(0.1, 7);
    expect(encodeVector(floats, 'base64')).toBe(text);
  });
});

describe('inputs', () => {
  it('one text or one token array is a list of one', () => {
    expect(inputList('a')).toEqual(['a']);
    expect(inputList(['a', 'b'])).toEqual(['a', 'b']);
    expect(inputList([1, 2])).toEqual([[1, 2]]);
    expect(inputList([[1], [2, 3]])).toEqual([[1], [2, 3]]);
    expect(isTokenInput(inputList([1, 2]))).toBe(true);
    expect(isTokenInput(inputList('a'))).toBe(false);
  });

  it('count token arrays exactly, and a text at least one token with its upper bound above the typical count', () => {
    const [tokens, text] = inputTokenRanges([[1, 2, 3]]).concat(inputTokenRanges(['hello world, again']));
    expect(tokens).toEqual({ likely: 3, most: 3 });
    expect(text!.likely).toBeGreaterThan(0);
    expect(text!.most).toBeGreaterThanOrEqual(text!.likely);
    expect(likelyInputTokens(['a', 'b'])).toBe(2);
  });

  it('normalize scales to unit length and leaves a zero vector alone', () => {
    expect(normalize([3, 4])).toEqual([0.6, 0.8]);
    expect(normalize([0, 0])).toEqual([0, 0]);
  });
});

describe('EmbeddingsRequestSchema', () => {
  const issue = (body: unknown) => {
    const r = EmbeddingsRequestSchema.safeParse(body);
    return r.success
      ? null
      : { path: r.error.issues[0]!.path.join('.'), message: r.error.issues[0]!.message };
  };

  it('takes every OpenAI input shape and keeps unknown fields for the upstream', () => {
    for (const input of ['a', ['a', 'b'], [1, 2], [[1], [2]]])
      expect(issue({ model: 'm', input })).toBeNull();
    const parsed = EmbeddingsRequestSchema.parse({ model: 'm', input: 'a', truncate_prompt_tokens: 10 });
    expect(parsed).toMatchObject({ truncate_prompt_tokens: 10 });
  });

  it('refuses empty inputs and more than 2048 of them, naming where', () => {
    expect(issue({ model: 'm', input: [] })).toEqual({
      path: 'input',
      message: 'must not be an empty array',
    });
    expect(issue({ model: 'm', input: ['a', ''] })).toEqual({
      path: 'input.1',
      message: 'must not be an empty string',
    });
    expect(issue({ model: 'm', input: Array(2049).fill('a') })?.message).toMatch(/at most 2048/);
    expect(issue({ model: 'm', input: [1.5] })?.path).toBe('input');
  });
});
