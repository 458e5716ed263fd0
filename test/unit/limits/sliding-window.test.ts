import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fits, formatDuration, remaining, WINDOW_MS, waitMs } from '../../../src/limits/sliding-window.ts';

describe('formatDuration (OpenAI/Go style)', () => {
  it.each([
    [0, '0s'],
    [1, '1ms'],
    [12.3, '13ms'],
    [999, '999ms'],
    [1000, '1s'],
    [59_500, '59.5s'],
    [60_000, '1m0s'],
    [61_500, '1m1.5s'],
    [360_000, '6m0s'],
    [3_723_000, '1h2m3s'],
    [-5, '0s'],
  ])('%s ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

/** Whether `need` fits `dt` ms from now if nothing else is counted: the windows roll as time passes. */
function fitsLater(cur: number, prev: number, need: number, limit: number, elapsed: number, dt: number) {
  const t = elapsed + dt;
  if (t < WINDOW_MS) return fits(cur, prev, need, limit, t);
  if (t < 2 * WINDOW_MS) return fits(0, cur, need, limit, t - WINDOW_MS);
  return fits(0, 0, need, limit, 0);
}

describe('waitMs', () => {
  it('is the first millisecond at which the request fits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: WINDOW_MS - 1 }),
        (limit, cur, prev, need, elapsed) => {
          fc.pre(need <= limit && cur <= limit + need && prev <= 2 * limit);
          const wait = waitMs(cur, prev, need, limit, elapsed);
          expect(wait).toBeGreaterThanOrEqual(0);
          expect(wait).toBeLessThanOrEqual(2 * WINDOW_MS - elapsed);
          expect(fitsLater(cur, prev, need, limit, elapsed, wait)).toBe(true);
          if (wait > 0) expect(fitsLater(cur, prev, need, limit, elapsed, wait - 1)).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('is infinite when the request alone exceeds the limit', () => {
    expect(waitMs(0, 0, 11, 10, 0)).toBe(Infinity);
  });
});

describe('remaining', () => {
  it('weighs the previous window by the part of it still inside the sliding minute', () => {
    expect(remaining(0, 10, 10, 0)).toBe(0);
    expect(remaining(0, 10, 10, 30_000)).toBe(5);
    expect(remaining(2, 10, 10, 45_000)).toBe(5); // 2 + 2.5 = 4.5 used
    expect(remaining(12, 0, 10, 0)).toBe(0); // never negative
  });
});
