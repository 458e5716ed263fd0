/** The readiness probe asks the database at most once per interval, and a hung database counts as down. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cachedProbe } from '../../../src/store/probe.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('cachedProbe', () => {
  it('shares one query among every probe within the interval, then asks again', async () => {
    let now = 0;
    let queries = 0;
    const probe = cachedProbe(
      async () => {
        queries++;
      },
      { now: () => now, cacheMs: 1_000 },
    );
    expect(await Promise.all(Array.from({ length: 50 }, () => probe()))).toEqual(Array(50).fill(null));
    expect(queries).toBe(1);
    now = 999;
    await probe();
    expect(queries).toBe(1);
    now = 1_000;
    await probe();
    expect(queries).toBe(2);
  });

  it('reports a refused connection by its code, and recovers when the database answers again', async () => {
    let now = 0;
    let down = true;
    const probe = cachedProbe(
      async () => {
        if (down)
          throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:5432'), { code: 'ECONNREFUSED' });
      },
      { now: () => now },
    );
    expect(await probe()).toBe('ECONNREFUSED');
    down = false;
    now += 1_000;
    expect(await probe()).toBeNull();
  });

  it('counts a query that never answers as down', async () => {
    vi.useFakeTimers();
    const probe = cachedProbe(() => new Promise<void>(() => {}), { timeoutMs: 2_000 });
    const answer = probe();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await answer).toBe('no answer within 2000 ms');
  });
});
