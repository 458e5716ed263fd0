import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  drain,
  formatDuration,
  live,
  record,
  type Slot,
  WINDOW_MS,
  windowState,
} from '../../../src/limits/sliding-window.ts';

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

/** A log built by recording (ms, tokens) requests in order. */
function logOf(requests: [number, number][]): Slot[] {
  const slots: Slot[] = [];
  for (const [at, tokens] of requests) record(slots, at, 1, tokens);
  return slots;
}

const liveAt = (slots: Slot[], now: number) => slots.filter((s) => live(s, now));

describe('record', () => {
  it('keeps one entry per second, holding the time of its latest request', () => {
    const slots = logOf([
      [200, 10],
      [900, 5],
      [1_000, 1],
    ]);
    expect(slots).toEqual([
      { index: 0, requests: 2, tokens: 15, at: 900 },
      { index: 1, requests: 1, tokens: 1, at: 1_000 },
    ]);
  });

  it('puts a request from a clock that stepped back into the newest entry, keeping its later time', () => {
    const slots = logOf([
      [5_500, 1],
      [4_200, 1],
    ]);
    expect(slots).toEqual([{ index: 5, requests: 2, tokens: 2, at: 5_500 }]);
  });
});

describe('drain', () => {
  it('takes tokens back from the newest entries first, never below zero, dropping emptied token-only entries', () => {
    const slots = logOf([
      [0, 100],
      [10_000, 50],
    ]);
    record(slots, 20_000, 0, 30); // a correction above an estimate
    drain(slots, 60);
    expect(slots.map((s) => s.tokens)).toEqual([100, 20]);
    expect(slots).toHaveLength(2); // the token-only entry is gone; entries with requests stay
    drain(slots, 1_000);
    expect(slots.map((s) => [s.requests, s.tokens])).toEqual([
      [1, 0],
      [1, 0],
    ]);
  });
});

describe('windowState', () => {
  it('waits for the oldest requests to leave: a burst over 0..24 s refused at 24 s waits 36 s', () => {
    const slots = logOf(Array.from({ length: 25 }, (_, i): [number, number] => [i * 1_000, 0]));
    const state = windowState(slots, 24_000, 0, { rpm: 25 });
    expect(state).toMatchObject({ requests: 25, requestsWaitMs: 36_000, requestsResetMs: 60_000 });
    expect(windowState(liveAt(slots, 60_000), 60_000, 0, { rpm: 25 }).requestsWaitMs).toBe(0);
  });

  it('waits for just enough tokens to leave, and says never for more than the whole tpm', () => {
    const slots = logOf([
      [0, 300],
      [10_000, 300],
      [20_000, 300],
    ]);
    expect(windowState(slots, 30_000, 100, { tpm: 1_000 }).tokensWaitMs).toBe(0);
    expect(windowState(slots, 30_000, 400, { tpm: 1_000 }).tokensWaitMs).toBe(30_000);
    expect(windowState(slots, 30_000, 500, { tpm: 1_000 }).tokensWaitMs).toBe(40_000);
    expect(windowState(slots, 30_000, 1_000, { tpm: 1_000 }).tokensWaitMs).toBe(50_000);
    expect(windowState(slots, 30_000, 1_001, { tpm: 1_000 }).tokensWaitMs).toBe(Infinity);
  });

  it('is exact: at the wait the request fits, 1 ms before it does not, and it is never over a minute', () => {
    const request = fc.tuple(fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: 0, max: 500 }));
    fc.assert(
      fc.property(
        fc.array(request, { maxLength: 80 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 3_000 }),
        fc.integer({ min: 0, max: 3_000 }),
        (gaps, rpm, tpm, need) => {
          fc.pre(need <= tpm);
          const times: [number, number][] = [];
          let now = 0;
          for (const [dt, tokens] of gaps) {
            now += dt;
            times.push([now, tokens]);
          }
          const slots = logOf(times);
          const limits = { rpm, tpm };
          const state = windowState(liveAt(slots, now), now, need, limits);
          const wait = Math.max(state.requestsWaitMs, state.tokensWaitMs);
          expect(wait).toBeGreaterThanOrEqual(0);
          expect(wait).toBeLessThanOrEqual(WINDOW_MS);
          const fitsAt = (at: number) => {
            const later = windowState(liveAt(slots, at), at, need, limits);
            return later.requestsWaitMs === 0 && later.tokensWaitMs === 0;
          };
          expect(fitsAt(now + wait)).toBe(true);
          if (wait > 0) expect(fitsAt(now + wait - 1)).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never lets more than the limit into any true 60 s window', () => {
    // Requests admitted one by one against the log: every 60 s span of their times holds at most rpm.
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2_500 }), { maxLength: 150 }),
        fc.integer({ min: 1, max: 10 }),
        (gaps, rpm) => {
          const slots: Slot[] = [];
          const admitted: number[] = [];
          let t = 0;
          for (const dt of gaps) {
            t += dt;
            const current = liveAt(slots, t);
            slots.splice(0, slots.length, ...current);
            if (windowState(slots, t, 0, { rpm }).requestsWaitMs === 0) {
              record(slots, t, 1, 0);
              admitted.push(t);
            }
          }
          for (const start of admitted) {
            expect(admitted.filter((x) => x >= start && x < start + WINDOW_MS).length).toBeLessThanOrEqual(
              rpm,
            );
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
