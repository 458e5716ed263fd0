import { afterEach, describe, expect, it, vi } from 'vitest';
import { newRequestId } from '../../../src/server/request-id.ts';

describe('request ids', () => {
  afterEach(() => vi.useRealTimers());

  it('are 32 hex digits, unique among many made in the same millisecond', () => {
    vi.useFakeTimers({ now: Date.parse('2026-12-04T10:00:00Z'), toFake: ['Date'] });
    const ids = Array.from({ length: 50_000 }, newRequestId);
    for (const id of ids.slice(0, 100)) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('sort in the order they were made, across milliseconds (the indexes keyed by them grow at one end)', () => {
    const t0 = Date.parse('2026-12-04T10:00:00Z');
    vi.useFakeTimers({ now: t0, toFake: ['Date'] });
    const made: string[] = [];
    for (let i = 0; i < 1000; i++) {
      vi.setSystemTime(t0 + i * 7);
      made.push(newRequestId());
    }
    expect([...made].sort()).toEqual(made);
    // The random part is not a counter: two ids of one millisecond differ in it.
    expect(made[0]!.slice(12)).not.toBe(newRequestId().slice(12));
  });

  it('begin with the millisecond clock and draw the rest at random (no counter, no repeats across draws)', () => {
    const t0 = Date.parse('2026-12-05T22:00:00Z');
    vi.useFakeTimers({ now: t0, toFake: ['Date'] });
    // The random digits come 1,024 ids to a draw: these span several.
    const ids = Array.from({ length: 5000 }, newRequestId);
    for (const id of ids) expect(Number.parseInt(id.slice(0, 12), 16)).toBe(t0);
    const randoms = ids.map((id) => id.slice(12));
    const alike = randoms.slice(1).filter((r, i) => r.slice(0, 6) === randoms[i]!.slice(0, 6));
    expect(alike.length).toBeLessThan(5);
  });
});
