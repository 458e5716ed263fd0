/** Which thresholds a budget window's spend has reached, and the key that makes each one alert once. */
import { describe, expect, it } from 'vitest';
import { type AlertSubject, crossingsOf } from '../../../src/alerts/index.ts';

const subject = (over: Partial<AlertSubject> = {}): AlertSubject => ({
  scope: 'team',
  scopeId: 'research',
  team: 'research',
  window: 'monthly',
  periodKey: '2026-11',
  limitUsd: 25,
  spentUsd: 0,
  thresholds: [50, 80, 95],
  ...over,
});

describe('crossingsOf', () => {
  it('lists every threshold spend has reached, not the ones above it', () => {
    expect(crossingsOf(subject({ spentUsd: 12.49 }))).toEqual([]);
    expect(crossingsOf(subject({ spentUsd: 12.5 })).map((c) => c.threshold)).toEqual([50]);
    expect(crossingsOf(subject({ spentUsd: 23.75 })).map((c) => c.threshold)).toEqual([50, 80, 95]);
  });

  it('counts a spend that lands on a threshold despite float sums (0.1 + 0.2 of 0.6 is 50%)', () => {
    expect(crossingsOf(subject({ limitUsd: 0.6, spentUsd: 0.1 + 0.2, thresholds: [50] }))).toHaveLength(1);
  });

  it('keys each crossing by scope, window, period and threshold: a new period alerts again', () => {
    const november = crossingsOf(subject({ spentUsd: 20 })).map((c) => c.dedupeKey);
    expect(november).toEqual(['team:research|monthly|2026-11|50', 'team:research|monthly|2026-11|80']);
    const december = crossingsOf(subject({ spentUsd: 20, periodKey: '2026-12' })).map((c) => c.dedupeKey);
    expect(december.some((k) => november.includes(k))).toBe(false);
    const daily = crossingsOf(subject({ spentUsd: 20, window: 'daily', periodKey: '2026-11-23' }));
    expect(daily[0]?.dedupeKey).toBe('team:research|daily|2026-11-23|50');
    const key = crossingsOf(subject({ scope: 'key', scopeId: 'key_1', spentUsd: 20 }));
    expect(key[0]?.dedupeKey).toBe('key:key_1|monthly|2026-11|50');
  });

  it('adds the soft limit once spend reaches it, whatever the thresholds', () => {
    expect(crossingsOf(subject({ thresholds: [], softLimitUsd: 20, spentUsd: 19.99 }))).toEqual([]);
    expect(crossingsOf(subject({ thresholds: [], softLimitUsd: 20, spentUsd: 20 }))).toEqual([
      { kind: 'soft_limit', threshold: null, dedupeKey: 'team:research|monthly|2026-11|soft' },
    ]);
  });

  it('never alerts a percent of a zero budget (which refuses everything)', () => {
    expect(crossingsOf(subject({ limitUsd: 0, spentUsd: 0 }))).toEqual([]);
  });
});
