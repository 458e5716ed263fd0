/**
 * The rate-limit contract, written once and run against every backend. `instances` are two gateway
 * instances sharing the counters (the same object twice for memory). The window is a true sliding
 * minute: a refusal's wait is the time until enough of the oldest counted requests (tokens) leave it,
 * and waiting exactly that long admits the same request while waiting 1 ms less does not.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RateDecision, RateLimitBackend, RateLimits } from '../../../src/limits/types.ts';
import { type TestClock, testClock } from './clock.ts';

type Backend = RateLimitBackend & Required<Pick<RateLimitBackend, 'admitMany'>>;

export interface RateHarness {
  instances: [Backend, Backend];
  close(): Promise<void>;
}

let subjects = 0;
const subject = (kind = 'key') => `${kind}:${process.pid}-${++subjects}`;

export function rateSuite(name: string, make: (clock: TestClock) => Promise<RateHarness>) {
  describe(`${name} rate limits`, () => {
    let clock: TestClock;
    let harness: RateHarness;
    let a: Backend;
    let b: Backend;

    beforeEach(async () => {
      // Starts exactly on a second boundary, so the arithmetic is easy to follow.
      clock = testClock('2026-11-22T12:00:00.000Z');
      harness = await make(clock);
      [a, b] = harness.instances;
    });
    afterEach(async () => {
      await harness.close();
    });

    /** The refused request is admitted after exactly `retryAfterMs`, and not 1 ms before. */
    async function admittedAfterExactWait(refused: RateDecision, retry: () => Promise<RateDecision>) {
      const wait = refused.retryAfterMs!;
      expect(refused.retryAfterSeconds).toBe(Math.ceil(wait / 1000));
      clock.advance(wait - 1);
      const early = await retry();
      expect(early).toMatchObject({ ok: false, retryAfterMs: 1, retryAfterSeconds: 1 });
      clock.advance(1);
      expect((await retry()).ok).toBe(true);
    }

    it('admits rpm requests with remaining counting down, then refuses until the oldest leaves', async () => {
      const s = subject();
      const limits: RateLimits = { rpm: 5 };
      for (const left of [4, 3, 2, 1, 0]) {
        const d = await (left % 2 ? a : b).admit(s, limits, 0);
        expect(d).toEqual({
          ok: true,
          headers: {
            'x-ratelimit-limit-requests': '5',
            'x-ratelimit-remaining-requests': String(left),
            // The request just counted leaves the window a minute from now.
            'x-ratelimit-reset-requests': '1m0s',
          },
        });
      }
      clock.advance(500);
      const refused = await a.admit(s, limits, 0);
      expect(refused).toEqual({
        ok: false,
        // The five counted at 0 leave at 60 s: 59.5 s from now, 60 s in whole seconds.
        retryAfterMs: 59_500,
        retryAfterSeconds: 60,
        limitedBy: 'requests',
        subject: s,
        limit: 5,
        headers: {
          'x-ratelimit-limit-requests': '5',
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-reset-requests': '59.5s',
        },
      });
      await admittedAfterExactWait(refused, () => b.admit(s, limits, 0));
    });

    it('a burst over 0..24 s is refused at 24 s for 36 s, and admitted again at 60 s and 62 s', async () => {
      const s = subject();
      const limits: RateLimits = { rpm: 25 };
      for (let i = 0; i < 25; i++) {
        if (i > 0) clock.advance(1_000);
        expect((await (i % 2 ? a : b).admit(s, limits, 0)).ok).toBe(true);
      }
      // t = 24 s: the request counted at 0 s is the first to leave, at 60 s.
      const refused = await a.admit(s, limits, 0);
      expect(refused).toMatchObject({ ok: false, retryAfterMs: 36_000, retryAfterSeconds: 36 });
      clock.advance(35_000); // t = 59 s
      expect(await b.admit(s, limits, 0)).toMatchObject({ ok: false, retryAfterSeconds: 1 });
      clock.advance(1_000); // t = 60 s
      const back = await a.admit(s, limits, 0);
      expect(back.ok).toBe(true);
      expect(back.headers['x-ratelimit-remaining-requests']).toBe('0');
      // Full again; the next to leave is the one counted at 1 s.
      expect(await b.admit(s, limits, 0)).toMatchObject({ ok: false, retryAfterMs: 1_000 });
      clock.advance(2_000); // t = 62 s: the ones at 1 s and 2 s have left
      const later = await b.admit(s, limits, 0);
      expect(later.ok).toBe(true);
      expect(later.headers['x-ratelimit-remaining-requests']).toBe('1');
    });

    it('holds requests that share a second until a minute after the latest of them', async () => {
      const s = subject();
      const limits: RateLimits = { rpm: 2 };
      clock.advance(200);
      expect((await a.admit(s, limits, 0)).ok).toBe(true);
      clock.advance(700); // 0.9 s, the same second
      expect((await b.admit(s, limits, 0)).ok).toBe(true);
      clock.advance(100);
      const refused = await a.admit(s, limits, 0);
      // Both count until 60.9 s (at most 1 s past the earlier one's minute, never less than a minute).
      expect(refused).toMatchObject({ ok: false, retryAfterMs: 59_900, retryAfterSeconds: 60 });
      expect(refused.headers['x-ratelimit-reset-requests']).toBe('59.9s');
      await admittedAfterExactWait(refused, () => b.admit(s, limits, 0));
    });

    it('counts estimated tokens against tpm, waits for enough of them to leave, and corrects them with adjust', async () => {
      const s = subject();
      const limits: RateLimits = { tpm: 1000 };
      const first = await a.admit(s, limits, 600);
      expect(first).toEqual({
        ok: true,
        headers: {
          'x-ratelimit-limit-tokens': '1000',
          'x-ratelimit-remaining-tokens': '400',
          'x-ratelimit-reset-tokens': '1m0s',
        },
      });
      clock.advance(10_000);
      const over = await b.admit(s, limits, 500);
      expect(over).toMatchObject({ ok: false, limitedBy: 'tokens', subject: s, limit: 1000 });
      expect(over.headers['x-ratelimit-remaining-tokens']).toBe('400');
      // The 600 counted at 0 s must leave: at 60 s, 50 s from now.
      expect(over).toMatchObject({ retryAfterMs: 50_000, retryAfterSeconds: 50 });

      await a.adjust(s, -300); // the request used 300, not 600
      const fits = await b.admit(s, limits, 500);
      expect(fits.ok).toBe(true);
      expect(fits.headers['x-ratelimit-remaining-tokens']).toBe('200');

      await b.adjust(s, -10_000); // clamped: never negative
      expect((await a.admit(s, limits, 0)).headers['x-ratelimit-remaining-tokens']).toBe('1000');
      await a.adjust(s, 250); // usage above the estimate counts too
      expect((await a.admit(s, limits, 0)).headers['x-ratelimit-remaining-tokens']).toBe('750');
    });

    it('frees tokens oldest first: waits only until enough of them have left', async () => {
      const s = subject();
      const limits: RateLimits = { tpm: 1000 };
      for (let i = 0; i < 3; i++) {
        if (i > 0) clock.advance(10_000);
        expect((await a.admit(s, limits, 300)).ok).toBe(true); // at 0, 10 and 20 s
      }
      clock.advance(10_000); // t = 30 s: 900 counted, 500 more need 400 to leave: the 0 s and 10 s ones
      const refused = await b.admit(s, limits, 500);
      expect(refused).toMatchObject({ ok: false, retryAfterMs: 40_000, retryAfterSeconds: 40 });
      expect(refused.headers['x-ratelimit-reset-tokens']).toBe('50s'); // the 20 s one leaves last
      await admittedAfterExactWait(refused, () => a.admit(s, limits, 500));
    });

    it('waits for the longest of rpm and tpm when both refuse', async () => {
      const s = subject();
      const limits: RateLimits = { rpm: 2, tpm: 1000 };
      expect((await a.admit(s, limits, 100)).ok).toBe(true); // 0 s
      clock.advance(10_000);
      expect((await b.admit(s, limits, 800)).ok).toBe(true); // 10 s
      clock.advance(10_000);
      // rpm frees at 60 s (the 0 s request leaves); 500 tokens need the 10 s one gone too: 70 s.
      const refused = await a.admit(s, limits, 500);
      expect(refused).toMatchObject({
        ok: false,
        retryAfterMs: 50_000,
        retryAfterSeconds: 50,
        limitedBy: 'tokens',
        limit: 1000,
      });
      await admittedAfterExactWait(refused, () => b.admit(s, limits, 500));
    });

    it('refuses a request larger than the whole tpm as one that can never fit, with no retry time', async () => {
      const s = subject();
      const d = await a.admit(s, { tpm: 1000 }, 1500);
      expect(d).toEqual({
        ok: false,
        neverFits: true,
        limitedBy: 'tokens',
        subject: s,
        limit: 1000,
        headers: {
          'x-ratelimit-limit-tokens': '1000',
          'x-ratelimit-remaining-tokens': '1000',
          'x-ratelimit-reset-tokens': '0s',
        },
      });
      // Exactly the whole tpm still fits.
      expect((await b.admit(s, { tpm: 1000 }, 1000)).ok).toBe(true);
    });

    it('sends both header trios when rpm and tpm apply, and counts nothing when refused', async () => {
      const s = subject();
      const limits: RateLimits = { rpm: 10, tpm: 100 };
      const d = await a.admit(s, limits, 40);
      expect(d.headers).toEqual({
        'x-ratelimit-limit-requests': '10',
        'x-ratelimit-remaining-requests': '9',
        'x-ratelimit-reset-requests': '1m0s',
        'x-ratelimit-limit-tokens': '100',
        'x-ratelimit-remaining-tokens': '60',
        'x-ratelimit-reset-tokens': '1m0s',
      });
      expect((await b.admit(s, limits, 61)).ok).toBe(false);
      const after = await b.admit(s, limits, 60);
      expect(after.ok).toBe(true);
      expect(after.headers['x-ratelimit-remaining-requests']).toBe('8'); // the refusal was not counted
      expect(after.headers['x-ratelimit-remaining-tokens']).toBe('0');
    });

    it('keeps subjects independent', async () => {
      const [s1, s2] = [subject(), subject()];
      for (let i = 0; i < 2; i++) expect((await a.admit(s1, { rpm: 2 }, 0)).ok).toBe(true);
      expect((await b.admit(s1, { rpm: 2 }, 0)).ok).toBe(false);
      const other = await b.admit(s2, { rpm: 2 }, 0);
      expect(other.ok).toBe(true);
      expect(other.headers['x-ratelimit-remaining-requests']).toBe('1');
    });

    it('admits a key and its team together or not at all, with the tightest headers', async () => {
      const key = subject('key');
      const team = subject('team');
      const both = [
        { subject: key, limits: { rpm: 10, tpm: 1000 } },
        { subject: team, limits: { rpm: 2, tpm: 5000 } },
      ];
      const first = await a.admitMany(both, 100);
      expect(first.headers).toMatchObject({
        'x-ratelimit-remaining-requests': '1', // the team's
        'x-ratelimit-limit-requests': '2',
        'x-ratelimit-remaining-tokens': '900', // the key's
        'x-ratelimit-limit-tokens': '1000',
      });
      clock.advance(5_000);
      expect((await b.admitMany(both, 100)).ok).toBe(true);
      const refused = await a.admitMany(both, 100);
      // The team's rpm: its first request leaves at 60 s, 55 s from now.
      expect(refused).toMatchObject({
        ok: false,
        limitedBy: 'requests',
        subject: team,
        retryAfterMs: 55_000,
      });
      // The team's refusal cost the key nothing: 2 requests and 200 tokens counted, not 3 and 300.
      const keyOnly = await b.admit(key, { rpm: 10, tpm: 1000 }, 0);
      expect(keyOnly.headers['x-ratelimit-remaining-requests']).toBe('7');
      expect(keyOnly.headers['x-ratelimit-remaining-tokens']).toBe('800');
      await admittedAfterExactWait(refused, () => a.admitMany(both, 100));
    });

    it('admits exactly rpm of many concurrent requests across instances', async () => {
      const s = subject();
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).admit(s, { rpm: 20, tpm: 10_000 }, 10)),
      );
      expect(results.filter((d) => d.ok)).toHaveLength(20);
      const remaining = results.filter((d) => d.ok).map((d) => d.headers['x-ratelimit-remaining-requests']);
      expect(new Set(remaining).size).toBe(20); // each admission saw a distinct count
    });

    it('for any traffic, every refusal is admitted after exactly its wait and not 1 ms sooner, within a minute', async () => {
      const step = fc.record({
        dt: fc.oneof(
          fc.constant(0),
          fc.integer({ min: 1, max: 999 }),
          fc.integer({ min: 1_000, max: 30_000 }),
        ),
        tokens: fc.integer({ min: 0, max: 400 }),
        correction: fc.integer({ min: -400, max: 400 }),
      });
      await fc.assert(
        fc.asyncProperty(
          fc.record({ rpm: fc.integer({ min: 1, max: 6 }), tpm: fc.integer({ min: 400, max: 1_500 }) }),
          fc.array(step, { minLength: 1, maxLength: 25 }),
          async (limits, steps) => {
            const s = subject();
            for (const [i, { dt, tokens, correction }] of steps.entries()) {
              clock.advance(dt);
              const at = i % 2 ? a : b;
              const d = await at.admit(s, limits, tokens);
              if (d.ok) {
                await at.adjust(s, correction);
                continue;
              }
              const wait = d.retryAfterMs!;
              expect(wait).toBeGreaterThan(0);
              expect(wait).toBeLessThanOrEqual(60_000);
              clock.advance(wait - 1);
              expect((await b.admit(s, limits, tokens)).ok).toBe(false);
              clock.advance(1);
              expect((await a.admit(s, limits, tokens)).ok).toBe(true);
            }
          },
        ),
        { numRuns: 60 },
      );
    });
  });
}
