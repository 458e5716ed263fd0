/**
 * Outbound queues that keep each provider within its configured `limits` (rpm, concurrency), so the
 * gateway queues briefly instead of collecting 429s from upstream — and answers 429 itself, at once,
 * when the wait would outlast the request's deadline. `tpm` is not enforced here: it needs token counts
 * the queue does not know before the call.
 */
import Bottleneck from 'bottleneck';
import type { ProviderConfig } from '../config/index.ts';
import { GatewayError } from '../errors/index.ts';

export interface RunOptions {
  /** Aborts a queued call (client gone); the call rejects with the signal's reason. */
  signal: AbortSignal;
  /** Epoch ms by the injected clock after which the call may no longer start. */
  deadline: number;
}

export interface ProviderQueuesOptions {
  /** Clock in epoch ms; the same one the caller's deadlines use. */
  now?: () => number;
  /** Length of the rpm window (default 60 000); tests shorten it. */
  rpmWindowMs?: number;
}

/** Frees a slot taken with `acquire`; calling it again does nothing. */
export type Release = () => void;

const NOOP_RELEASE: Release = () => {};

/** EWMA weight for call durations (used to estimate how soon a concurrency slot frees). */
const DURATION_ALPHA = 0.2;
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * One limited provider: a Bottleneck limiter gates the calls, and a mirror of its state (what is queued,
 * running, and left in the reservoir) estimates the wait without awaiting Bottleneck's async API.
 *
 * rpm is a reservoir of `rpm` starts, refilled to full every window by our own timer, not by
 * Bottleneck's `reservoirRefreshInterval` (whose refill time is private and drifts with its heartbeat):
 * owning the refill is what makes the retry-after exact. Not `minTime = 60000/rpm` either: that spaces
 * every call evenly, so a burst of 64 concurrent requests under rpm 3000 would be serialised over 1.3 s
 * although the provider would accept them at once.
 */
class LimitedQueue {
  private readonly id: string;
  private readonly rpm: number | undefined;
  private readonly concurrency: number | undefined;
  private readonly now: () => number;
  private readonly windowMs: number;
  private readonly limiter: Bottleneck;
  private readonly refillTimer: NodeJS.Timeout | undefined;
  /** Calls queued (not cancelled) and calls running, as this queue saw them. */
  private waiting = 0;
  private running = 0;
  /** Reservoir starts taken in the current window, and which window that is. */
  private used = 0;
  private generation = 0;
  private nextRefillAt: number;
  private avgDurationMs: number | undefined;

  constructor(
    id: string,
    limits: { rpm?: number | undefined; concurrency?: number | undefined },
    now: () => number,
    windowMs: number,
  ) {
    this.id = id;
    this.rpm = limits.rpm;
    this.concurrency = limits.concurrency;
    this.now = now;
    this.windowMs = windowMs;
    this.limiter = new Bottleneck({
      id,
      maxConcurrent: limits.concurrency ?? null,
      reservoir: limits.rpm ?? null,
    });
    this.nextRefillAt = now() + windowMs;
    if (this.rpm !== undefined) {
      this.refillTimer = setInterval(() => this.refill(), windowMs);
      this.refillTimer.unref();
    }
  }

  async run<T>(fn: () => Promise<T>, options: RunOptions): Promise<T> {
    const release = await this.acquire(options);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Waits for a slot (or rejects without one, see ProviderQueues.run); the slot is held until release. */
  async acquire({ signal, deadline }: RunOptions): Promise<Release> {
    if (signal.aborted) throw signal.reason;
    const wait = this.estimateWaitMs();
    if (this.now() + wait > deadline) {
      throw this.limitError(wait, 'the request deadline would pass before a slot frees');
    }
    return new Promise<Release>((resolve, reject) => {
      let state: 'queued' | 'started' | 'cancelled' = 'queued';
      const settle = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.waiting--;
      };
      const cancel = (err: unknown) => {
        if (state !== 'queued') return;
        state = 'cancelled';
        settle();
        reject(err);
      };
      const onAbort = () => cancel(signal.reason);
      // No timer for a deadline beyond setTimeout's range (e.g. Infinity): Node would fire it at once.
      const untilDeadline = Math.max(0, deadline - this.now());
      const timer =
        untilDeadline < MAX_TIMER_MS
          ? setTimeout(
              () =>
                cancel(this.limitError(this.estimateWaitMs(), 'the request deadline passed while it waited')),
              untilDeadline,
            )
          : undefined;
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting++;

      this.limiter
        .schedule(async () => {
          const generation = this.generation;
          if (this.rpm !== undefined) this.used++;
          // Bottleneck cannot drop one queued job, so a cancelled one still reaches here: it must not
          // hand out the slot, and it gives back the rpm start it was just charged.
          if (state === 'cancelled') return this.giveBack(generation);
          state = 'started';
          settle();
          this.running++;
          const startedAt = this.now();
          // The Bottleneck job lasts as long as the holder keeps the slot.
          await new Promise<void>((done) => {
            let released = false;
            resolve(() => {
              if (released) return;
              released = true;
              this.running--;
              this.recordDuration(this.now() - startedAt);
              done();
            });
          });
        })
        .catch(() => cancel(new GatewayError('not_ready', 'The gateway is shutting down.')));
    });
  }

  stop(): Promise<void> {
    clearInterval(this.refillTimer);
    return this.limiter.stop({ dropWaitingJobs: true });
  }

  private refill(): void {
    this.used = 0;
    this.generation++;
    this.nextRefillAt = this.now() + this.windowMs;
    this.limiter.updateSettings({ reservoir: this.rpm ?? null });
  }

  private recordDuration(ms: number): void {
    this.avgDurationMs =
      this.avgDurationMs === undefined ? ms : this.avgDurationMs + DURATION_ALPHA * (ms - this.avgDurationMs);
  }

  private giveBack(generation: number): void {
    // A refill since the charge already restored the reservoir to full; adding one would overfill it.
    if (generation !== this.generation) return;
    this.used--;
    void this.limiter.incrementReservoir(1);
  }

  /**
   * How long a call arriving now would queue: until enough reservoir refills cover every queued call
   * plus this one, and until enough running calls finish (by their average duration) to free a slot.
   * 0 when unknown (no duration measured yet): the deadline timer still bounds the wait.
   */
  private estimateWaitMs(): number {
    const now = this.now();
    let wait = 0;
    if (this.rpm !== undefined) {
      const short = this.waiting + 1 - (this.rpm - this.used);
      if (short > 0) {
        wait = Math.max(0, this.nextRefillAt - now) + (Math.ceil(short / this.rpm) - 1) * this.windowMs;
      }
    }
    if (this.concurrency !== undefined && this.avgDurationMs !== undefined) {
      const mustFinish = this.running + this.waiting + 1 - this.concurrency;
      if (mustFinish > 0)
        wait = Math.max(wait, Math.ceil(mustFinish / this.concurrency) * this.avgDurationMs);
    }
    return wait;
  }

  private limitError(waitMs: number, why: string): GatewayError {
    const parts: string[] = [];
    if (this.rpm !== undefined) parts.push(`rpm ${this.rpm}: ${this.used} used this window`);
    if (this.concurrency !== undefined)
      parts.push(`concurrency ${this.concurrency}: ${this.running} running`);
    parts.push(`${this.waiting} queued`);
    const ms = Math.max(1, Math.ceil(waitMs));
    const seconds = Math.ceil(ms / 1000);
    return new GatewayError(
      'rate_limit_exceeded',
      `${this.id} is at its configured limit (${parts.join(', ')}); ${why}. Retry after ${seconds} s.`,
      {
        headers: { 'retry-after': String(seconds), 'retry-after-ms': String(ms) },
      },
    );
  }
}

/** Every provider's outbound queue; providers without rpm/concurrency limits get none. */
export class ProviderQueues {
  private readonly queues = new Map<string, LimitedQueue>();

  constructor(providers: readonly ProviderConfig[], options: ProviderQueuesOptions = {}) {
    const now = options.now ?? Date.now;
    const windowMs = options.rpmWindowMs ?? 60_000;
    for (const p of providers) {
      const limits = p.limits;
      if (limits?.rpm === undefined && limits?.concurrency === undefined) continue;
      this.queues.set(p.id, new LimitedQueue(p.id, limits, now, windowMs));
    }
  }

  /** Whether calls to this provider are queued at all. */
  has(providerId: string): boolean {
    return this.queues.has(providerId);
  }

  /**
   * Runs `fn` within the provider's limits. Rejects with a 429 GatewayError (carrying `retry-after`)
   * without queueing when the wait would pass `deadline`, or when the deadline passes while queued; with
   * the signal's reason when it aborts while queued. In both cases `fn` is never called.
   */
  run<T>(providerId: string, fn: () => Promise<T>, options: RunOptions): Promise<T> {
    const queue = this.queues.get(providerId);
    // Unlimited providers are the hot path: no limiter, no timer, no extra promise.
    if (!queue) return fn();
    return queue.run(fn, options);
  }

  /**
   * Takes a slot and holds it until `release()` — for calls that outlive one promise, such as a stream
   * that must keep its concurrency slot until its last event. Rejects exactly like `run`. Every resolved
   * acquire must be released (in a `finally`), or the slot is lost. Unlimited providers: a no-op release.
   */
  acquire(providerId: string, options: RunOptions): Promise<Release> {
    const queue = this.queues.get(providerId);
    return queue ? queue.acquire(options) : Promise.resolve(NOOP_RELEASE);
  }

  /** Disposes every limiter; calls still queued reject. */
  async stop(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.stop()));
  }
}
