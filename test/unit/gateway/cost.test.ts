import { describe, expect, it } from 'vitest';
import { addUsage, costOf, usageBody } from '../../../src/gateway/index.ts';

describe('costOf', () => {
  it('is exact: 12 tokens at $0.10/M + 5 at $0.40/M = $0.0000032, printed without float noise', () => {
    const cost = costOf({ prompt_tokens: 12, completion_tokens: 5 }, { input: 0.1, output: 0.4 });
    expect(cost).toBe(0.0000032);
    expect(String(cost)).toBe('0.0000032');
  });

  it('is exact where naive floating point is not', () => {
    // 3 × 0.1 is 0.30000000000000004 in floating point; the cost must still be the decimal answer.
    const cost = costOf({ prompt_tokens: 3_000_000, completion_tokens: 0 }, { input: 0.1, output: 0 });
    expect(String(cost)).toBe('0.3');
    const mixed = costOf({ prompt_tokens: 7, completion_tokens: 13 }, { input: 0.15, output: 0.6 });
    expect(String(mixed)).toBe('0.00000885');
  });

  it('charges a million tokens at exactly the per-million price', () => {
    expect(costOf({ prompt_tokens: 1_000_000, completion_tokens: 1_000_000 }, { input: 8, output: 40 })).toBe(
      48,
    );
  });

  it('charges cached prompt tokens at the cached price and the rest at the input price', () => {
    const cost = costOf(
      { prompt_tokens: 1000, completion_tokens: 100, cached_tokens: 400 },
      { input: 2, output: 10, cached_input: 0.1 },
    );
    // 600 × 2 + 400 × 0.1 + 100 × 10 = 2240 per-million units
    expect(cost).toBe(0.00224);
    expect(String(cost)).toBe('0.00224');
  });

  it('charges cached tokens at the input price when the model has no cached price', () => {
    const price = { input: 2, output: 10 };
    const withCache = costOf({ prompt_tokens: 1000, completion_tokens: 100, cached_tokens: 400 }, price);
    const without = costOf({ prompt_tokens: 1000, completion_tokens: 100 }, price);
    expect(withCache).toBe(without);
    expect(withCache).toBe(0.003);
  });

  it('never counts more cached tokens than prompt tokens', () => {
    const cost = costOf(
      { prompt_tokens: 100, completion_tokens: 0, cached_tokens: 500 },
      { input: 1, output: 1, cached_input: 0.5 },
    );
    expect(cost).toBe(0.00005); // 100 × 0.5, not 500 × 0.5 and not negative fresh tokens
  });

  it('is zero for zero usage or a free model', () => {
    expect(costOf({ prompt_tokens: 0, completion_tokens: 0 }, { input: 5, output: 5 })).toBe(0);
    expect(costOf({ prompt_tokens: 1234, completion_tokens: 99 }, { input: 0, output: 0 })).toBe(0);
  });

  it('does not charge reasoning tokens twice (they are part of completion tokens)', () => {
    const a = costOf(
      { prompt_tokens: 10, completion_tokens: 50, reasoning_tokens: 40 },
      { input: 1, output: 2 },
    );
    const b = costOf({ prompt_tokens: 10, completion_tokens: 50 }, { input: 1, output: 2 });
    expect(a).toBe(b);
  });
});

describe('addUsage', () => {
  it('sums prompt and completion tokens', () => {
    expect(
      addUsage({ prompt_tokens: 10, completion_tokens: 3 }, { prompt_tokens: 5, completion_tokens: 7 }),
    ).toEqual({
      prompt_tokens: 15,
      completion_tokens: 10,
    });
  });

  it('sums cached and reasoning tokens when either side has them', () => {
    expect(
      addUsage(
        { prompt_tokens: 10, completion_tokens: 3, cached_tokens: 4 },
        { prompt_tokens: 5, completion_tokens: 7, reasoning_tokens: 2 },
      ),
    ).toEqual({ prompt_tokens: 15, completion_tokens: 10, cached_tokens: 4, reasoning_tokens: 2 });
  });

  it('does not mutate its arguments', () => {
    const a = { prompt_tokens: 1, completion_tokens: 1, cached_tokens: 1 };
    const b = { prompt_tokens: 2, completion_tokens: 2 };
    addUsage(a, b);
    expect(a).toEqual({ prompt_tokens: 1, completion_tokens: 1, cached_tokens: 1 });
    expect(b).toEqual({ prompt_tokens: 2, completion_tokens: 2 });
  });
});

describe('usageBody', () => {
  it('renders the OpenAI usage shape with totals and details', () => {
    expect(
      usageBody({ prompt_tokens: 12, completion_tokens: 5, cached_tokens: 3, reasoning_tokens: 2 }),
    ).toEqual({
      prompt_tokens: 12,
      completion_tokens: 5,
      total_tokens: 17,
      prompt_tokens_details: { cached_tokens: 3 },
      completion_tokens_details: { reasoning_tokens: 2 },
    });
  });

  it('reports zero cached and reasoning tokens when unknown', () => {
    expect(usageBody({ prompt_tokens: 1, completion_tokens: 2 })).toEqual({
      prompt_tokens: 1,
      completion_tokens: 2,
      total_tokens: 3,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
  });
});
