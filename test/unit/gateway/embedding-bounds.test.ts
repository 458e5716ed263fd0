/** What an embeddings request holds against a budget: every input's upper bound, on the dearest deployment. */
import { describe, expect, it } from 'vitest';
import { inputTokenRanges } from '../../../src/embeddings/index.ts';
import type { Deployment } from '../../../src/gateway/deployments/index.ts';
import { EmbeddingBounds } from '../../../src/gateway/embeddings/index.ts';

const dep = (input: number, context_window: number) =>
  ({ spec: { id: 'e', context_window, price: { input, output: 0 } } }) as unknown as Deployment;

describe('EmbeddingBounds', () => {
  const inputs = ['hello there', 'word '.repeat(50)];
  const most = inputTokenRanges(inputs).map((r) => r.most);

  it('holds the inputs’ upper-bound tokens at the dearest input price of the chain', () => {
    const bounds = new EmbeddingBounds([dep(0.02, 8191), dep(0.13, 8191)], inputs);
    const tokens = most[0]! + most[1]!;
    expect(bounds.estimateTokens()).toBe(tokens);
    expect(bounds.reserveUsd()).toBeCloseTo((tokens * 0.13) / 1e6, 12);
  });

  it('caps each input at the model’s input limit, which no provider bills past', () => {
    const bounds = new EmbeddingBounds([dep(1, 10)], inputs);
    expect(bounds.reserveUsd()).toBeCloseTo((Math.min(most[0]!, 10) + 10) / 1e6, 12);
  });

  it('says what would fit a budget’s remainder', () => {
    const hint = new EmbeddingBounds([dep(0.02, 8191)], inputs).fitHint(0.000001);
    expect(hint).toMatch(/fewer or shorter inputs: the remaining budget covers about 50 input tokens/);
  });
});
