/** Rate limits for a single gateway instance: two fixed-window counters per subject (sliding-window.ts). */
import { admits, decide, type WindowCounts, windowElapsed, windowIndex } from './sliding-window.ts';
import type { RateDecision, RateLimitBackend, RateLimits } from './types.ts';

interface Counter extends WindowCounts {
  window: number;
}

export interface MemoryRateLimitOptions {
  /** Clock in epoch ms (default Date.now). */
  now?: () => number;
}

export class MemoryRateLimit implements RateLimitBackend {
  private readonly now: () => number;
  /** Subjects are keys and teams: bounded by the store, so entries are kept. */
  private readonly counters = new Map<string, Counter>();

  constructor(options: MemoryRateLimitOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  async admit(subject: string, limits: RateLimits, tokens: number): Promise<RateDecision> {
    return this.admitAll([{ subject, limits }], tokens);
  }

  async admitMany(
    subjects: { subject: string; limits: RateLimits }[],
    tokens: number,
  ): Promise<RateDecision> {
    return this.admitAll(subjects, tokens);
  }

  async adjust(subject: string, tokensDelta: number): Promise<void> {
    const counter = this.counter(subject, this.now());
    counter.tokens = Math.max(0, counter.tokens + Math.round(tokensDelta));
  }

  async close(): Promise<void> {}

  /** Synchronous from read to update: atomic, as JS runs one callback at a time. */
  private admitAll(subjects: { subject: string; limits: RateLimits }[], tokens: number): RateDecision {
    const now = this.now();
    const elapsed = windowElapsed(now);
    const need = Math.max(0, Math.ceil(tokens));
    const counters = subjects.map(({ subject }) => this.counter(subject, now));
    const checks = subjects.map(({ subject, limits }, i) => ({
      subject,
      limits,
      counts: { ...counters[i]! },
    }));
    const ok = admits(checks, need, elapsed);
    if (ok) {
      for (const counter of counters) {
        counter.requests += 1;
        counter.tokens += need;
      }
    }
    return decide(checks, need, elapsed, ok);
  }

  /** The subject's counter, rolled forward to the window `now` is in. */
  private counter(subject: string, now: number): Counter {
    const window = windowIndex(now);
    let c = this.counters.get(subject);
    if (!c) {
      c = { window, requests: 0, tokens: 0, prevRequests: 0, prevTokens: 0 };
      this.counters.set(subject, c);
    } else if (window > c.window) {
      const adjacent = window === c.window + 1;
      c.prevRequests = adjacent ? c.requests : 0;
      c.prevTokens = adjacent ? c.tokens : 0;
      c.requests = 0;
      c.tokens = 0;
      c.window = window;
    }
    return c;
  }
}
