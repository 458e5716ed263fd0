/** The routing table the book hands the router: effective qualities, untouched specs kept as they are. */
import { describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../../routing/types.ts';
import { QualityBook } from '../../../src/learning/book.ts';
import { DAY_MS } from '../../../src/learning/estimate.ts';

const Q = { general: 0.8, code: 0.8, math: 0.8, reasoning: 0.8, writing: 0.8 };
function spec(id: string, provider = 'p'): ModelSpec {
  return {
    id,
    provider,
    upstream: id,
    context_window: 1000,
    max_output_tokens: 100,
    price: { input: 1, output: 1 },
    capabilities: [],
    quality: { ...Q },
    aliases: [],
    weight: 1,
  };
}

const SETTINGS = { minObservations: 2, halfLifeMs: 10 * DAY_MS, priorStrength: 2 };

function setup() {
  let now = Date.parse('2026-11-20T00:00:00Z');
  const catalog = [spec('a'), spec('b'), spec('a', 'q')];
  const book = new QualityBook(catalog, SETTINGS, () => now);
  return { catalog, book, tick: (ms: number) => (now += ms), at: () => now };
}

describe('QualityBook', () => {
  it('hands the catalog itself until something is learnt, then replaces only the learnt model (every deployment)', () => {
    const { catalog, book } = setup();
    expect(book.models()).toEqual(catalog);
    expect(book.models()[0]).toBe(catalog[0]);
    book.observe('a', 'code', 0);
    book.observe('a', 'code', 0);
    const view = book.models();
    expect(view[1]).toBe(catalog[1]);
    // (2 × 0.8 + 0) / (2 + 2)
    expect(view[0]!.quality.code).toBeCloseTo(0.4, 4);
    expect(view[2]!.quality.code).toBeCloseTo(0.4, 4);
    expect(view[0]!.quality.general).toBe(0.8);
    expect(view[2]!.provider).toBe('q');
    expect(book.models()).toBe(view);
  });

  it('refuses models the catalog lacks', () => {
    const { book } = setup();
    expect(book.observe('nope', 'code', 1)).toBe(false);
    expect(book.estimates('nope')).toBeUndefined();
  });

  it('holds estimates while frozen (no decay, nothing added) and carries on after', () => {
    const { book, tick, at } = setup();
    book.observe('a', 'code', 0);
    book.observe('a', 'code', 0);
    book.freeze(at());
    expect(book.observe('a', 'code', 1)).toBe(false);
    tick(100 * DAY_MS);
    expect(book.estimates('a')!.code.observations).toBe(2);
    book.unfreeze(at());
    expect(book.estimates('a')!.code.observations).toBe(2);
    tick(10 * DAY_MS);
    expect(book.estimates('a')!.code.observations).toBe(1);
  });

  it('forgets a model on reset, and takes the store picture whole on replace', () => {
    const { book, catalog, at } = setup();
    book.observe('a', 'code', 0);
    book.observe('a', 'code', 0);
    book.reset('a');
    expect(book.models()[0]).toBe(catalog[0]);
    book.replace(
      [
        { model: 'b', category: 'math', successes: 0, trials: 4, updated_at: at() },
        { model: 'gone', category: 'math', successes: 0, trials: 4, updated_at: at() },
        { model: 'b', category: 'astrology', successes: 0, trials: 4, updated_at: at() },
      ],
      null,
    );
    expect(book.estimates('b')!.math).toMatchObject({ observations: 4, observed: 0 });
    expect(book.models()[1]!.quality.math).toBeCloseTo((2 * 0.8) / 6, 4);
  });
});
