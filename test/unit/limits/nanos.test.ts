import { describe, expect, it } from 'vitest';
import {
  amountNanos,
  costNanos,
  limitNanos,
  reportedUsd,
  settleNanos,
  sumUsd,
  usdOfNanos,
  usdText,
  usdWords,
} from '../../../src/limits/nanos.ts';

/** At most 9 decimal places, as printed. */
const decimals = (usd: number) => {
  const [, frac = '', exp = '0'] = /^\d+(?:\.(\d+))?(?:e-(\d+))?$/.exec(String(usd)) ?? [];
  return frac.length + Number(exp);
};

describe('costNanos: price × tokens, exact, rounded up once', () => {
  it('341 + 97 tokens at $0.1/$0.4 per million is 72,900 nanos, where floats say 0.00007290000000000001', () => {
    expect((341 * 0.1 + 97 * 0.4) / 1e6).toBe(0.00007290000000000001); // the float error this module exists for
    const nanos = costNanos({ input: 341, output: 97 }, { input: 0.1, output: 0.4 });
    expect(nanos).toBe(72_900);
    expect(String(usdOfNanos(nanos))).toBe('0.0000729');
  });

  it('cached prompt tokens at the cached price, else at the input price', () => {
    const price = { input: 2, output: 10, cached_input: 0.1 };
    expect(costNanos({ input: 600, cachedInput: 400, output: 100 }, price)).toBe(2_240_000);
    expect(costNanos({ input: 600, cachedInput: 400, output: 100 }, { input: 2, output: 10 })).toBe(
      3_000_000,
    );
  });

  it('a fraction of a nano-dollar is charged as a whole one (charges round up)', () => {
    // 341 × 0.0375 + 97 × 0.15 micro-dollars = 27,337.5 nanos.
    expect(costNanos({ input: 341, output: 97 }, { input: 0.0375, output: 0.15 })).toBe(27_338);
    expect(costNanos({ input: 1, output: 0 }, { input: 0.0001, output: 0 })).toBe(1);
    expect(costNanos({ input: 0, output: 0 }, { input: 5, output: 5 })).toBe(0);
  });

  it('a million tokens cost exactly the per-million price', () => {
    expect(usdOfNanos(costNanos({ input: 1e6, output: 1e6 }, { input: 8, output: 40 }))).toBe(48);
    expect(usdOfNanos(costNanos({ input: 3e6, output: 0 }, { input: 0.1, output: 0 }))).toBe(0.3);
  });
});

describe('dollars ↔ nanos', () => {
  it('amounts round up, limits round down, both ignoring float noise', () => {
    expect(0.000123 * 1e9).not.toBe(123_000);
    expect(amountNanos(0.000123)).toBe(123_000);
    expect(limitNanos(0.000123)).toBe(123_000);
    expect(amountNanos(1.0000000001)).toBe(1_000_000_001);
    expect(limitNanos(1.0000000009)).toBe(1_000_000_000);
    expect(amountNanos(-1)).toBe(0);
    expect(amountNanos(0)).toBe(0);
  });

  it('round-trips: a reported amount converts back to the same nanos', () => {
    for (const n of [1, 7, 68_200, 72_900, 27_338, 123_456_789, 25_000_000_000]) {
      expect(amountNanos(usdOfNanos(n))).toBe(n);
      expect(limitNanos(usdOfNanos(n))).toBe(n);
    }
  });

  it('reported dollars never print more than 9 decimal places', () => {
    expect(String(usdOfNanos(68_200))).toBe('0.0000682');
    expect(String(usdOfNanos(220))).toBe('2.2e-7');
    expect(reportedUsd(0.0000273375)).toBe(0.000027338);
    for (const usd of [0.00006819999999999999, 0.1 + 0.2, (341 * 0.1 + 97 * 0.4) / 1e6, 1 / 3]) {
      expect(decimals(reportedUsd(usd))).toBeLessThanOrEqual(9);
    }
  });

  it('sums exactly where float addition does not', () => {
    expect(0.0002916 + 0.0000729).toBe(0.00036449999999999997);
    expect(sumUsd([0.0002916, 0.0000729])).toBe(0.0003645);
    expect(sumUsd([0.1, 0.2])).toBe(0.3);
    expect(sumUsd([])).toBe(0);
  });

  it('a settle charges the actual cost, never more than the hold', () => {
    expect(settleNanos({ nanos: 100_000 }, 0.0000729)).toBe(72_900);
    expect(settleNanos({ nanos: 50_000 }, 0.0000729)).toBe(50_000);
  });

  it('says an amount in words in cents, and a remainder under a cent with three significant digits', () => {
    expect(usdWords(12.5)).toBe('$12.50');
    expect(usdWords(0)).toBe('$0.00');
    expect(usdWords(0.004567)).toBe('$0.00457');
    expect(usdWords(0.01)).toBe('$0.01');
    expect(usdWords(-0.5)).toBe('$-0.50');
  });
});

describe('usdText: the cost header, plain decimals', () => {
  it('writes at most 9 places, trailing zeros dropped, never exponent notation', () => {
    expect(usdText(0)).toBe('0');
    expect(usdText(-0)).toBe('0');
    expect(usdText(1.4e-7)).toBe('0.00000014');
    expect(usdText(0.0000171)).toBe('0.0000171');
    expect(usdText(0.00065)).toBe('0.00065');
    expect(usdText(1.5)).toBe('1.5');
    expect(usdText(10)).toBe('10');
    expect(usdText(100)).toBe('100');
    expect(usdText(123.000000001)).toBe('123.000000001');
    expect(usdText(4e-10)).toBe('0');
    expect(usdText(6e-10)).toBe('0.000000001');
    expect(usdText(-0.0000001)).toBe('-0.0000001');
    expect(usdText(0.1 + 0.2)).toBe('0.3');
  });

  it('reads back as the amount rounded to the nano-dollar, for any amount a request can cost', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    };
    for (let i = 0; i < 20_000; i++) {
      const usd = random() * 10 ** (Math.floor(random() * 8) - 6);
      const text = usdText(usd);
      expect(text).toMatch(/^\d+(\.\d{0,8}[1-9])?$/);
      expect(Number(text)).toBe(Math.round(usd * 1e9) / 1e9);
    }
  });
});
