/** The retry schedule: doubling waits from backoff_ms, capped at max_backoff_ms, none after the last try. */
import { describe, expect, it } from 'vitest';
import { retryAt } from '../../../src/alerts/index.ts';

describe('retryAt', () => {
  const schedule = { maxAttempts: 6, backoffMs: 10_000, maxBackoffMs: 60_000 };

  it('waits 10 s, 20 s, 40 s, then the cap, and gives up after the last try', () => {
    const waits = [1, 2, 3, 4, 5].map((attempt) => retryAt(schedule, attempt, 1_000)! - 1_000);
    expect(waits).toEqual([10_000, 20_000, 40_000, 60_000, 60_000]);
    expect(retryAt(schedule, 6, 1_000)).toBeNull();
  });

  it('with one attempt, never retries', () => {
    expect(retryAt({ ...schedule, maxAttempts: 1 }, 1, 0)).toBeNull();
  });
});
