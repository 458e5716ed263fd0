import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ProviderConfig } from '../../../src/config/index.ts';
import { GatewayError } from '../../../src/errors/index.ts';
import { ProviderQueues } from '../../../src/limits/index.ts';

function provider(id: string, limits?: ProviderConfig['limits']): ProviderConfig {
  return { id, type: 'openai', timeout_ms: 60_000, max_retries: 1, limits };
}

/** A promise the test settles by hand: an upstream call that is "still running". */
function deferred<T = string>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const live: ProviderQueues[] = [];
function queues(providers: ProviderConfig[], options?: ConstructorParameters<typeof ProviderQueues>[1]) {
  const q = new ProviderQueues(providers, options);
  live.push(q);
  return q;
}
afterEach(async () => {
  const stopped = Promise.all(live.splice(0).map((q) => q.stop()));
  // Bottleneck yields to the event loop with setTimeout(0): under fake timers, let them run.
  if (vi.isFakeTimers()) await vi.advanceTimersByTimeAsync(1_000);
  vi.useRealTimers();
  await stopped;
});

/**
 * Fake only the clock and the rpm refill timer (setInterval): Bottleneck's own setTimeout(0) yields stay
 * real, so calls run as usual while the window is moved by hand.
 */
const fakeWindowClock = () => vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });

/** Whether a promise has settled yet (checked after pending timers and microtasks ran). */
function watch<T>(p: Promise<T>) {
  const state = { settled: false };
  p.then(
    () => {
      state.settled = true;
    },
    () => {
      state.settled = true;
    },
  );
  return state;
}

const signal = () => new AbortController().signal;
const far = () => Date.now() + 10_000;
const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

describe('ProviderQueues', () => {
  it('runs calls to a provider without limits directly: no limiter, no wrapper promise', () => {
    const q = queues([provider('open'), provider('tpm-only', { tpm: 1000 })]);
    expect(q.has('open')).toBe(false);
    expect(q.has('tpm-only')).toBe(false);
    let called = false;
    const result = Promise.resolve('answer');
    const returned = q.run(
      'open',
      () => {
        called = true;
        return result;
      },
      { signal: signal(), deadline: 0 },
    );
    expect(called).toBe(true); // synchronously, before any await
    expect(returned).toBe(result);
  });

  it('keeps at most `concurrency` calls in flight; the next starts when one finishes', async () => {
    const q = queues([provider('p', { concurrency: 2 })]);
    const upstream = [deferred(), deferred(), deferred()];
    let inFlight = 0;
    let peak = 0;
    const started: number[] = [];
    const calls = upstream.map((d, i) =>
      q.run(
        'p',
        async () => {
          started.push(i);
          peak = Math.max(peak, ++inFlight);
          const v = await d.promise;
          inFlight--;
          return v;
        },
        { signal: signal(), deadline: far() },
      ),
    );
    // Waited for rather than timed: on a loaded machine the queue may take longer than a fixed tick to
    // start a call; `peak` below still proves no third call ever ran beside two others.
    await vi.waitFor(() => expect(started).toEqual([0, 1]));
    upstream[0]!.resolve('a');
    await vi.waitFor(() => expect(started).toEqual([0, 1, 2]));
    upstream[1]!.resolve('b');
    upstream[2]!.resolve('c');
    expect(await Promise.all(calls)).toEqual(['a', 'b', 'c']);
    expect(peak).toBe(2);
  });

  it('acquire() holds a slot until released, as a stream holds its connection', async () => {
    const q = queues([provider('p', { concurrency: 1 })]);
    const opts = { signal: signal(), deadline: far() };
    const release = await q.acquire('p', opts);
    let second = false;
    const next = q.run(
      'p',
      async () => {
        second = true;
      },
      opts,
    );
    await tick();
    expect(second).toBe(false);
    release();
    release(); // a second release must not free a slot someone else holds
    await next;
    expect(second).toBe(true);
    const again = await q.acquire('p', opts);
    let third = false;
    const blocked = q.run(
      'p',
      async () => {
        third = true;
      },
      opts,
    );
    await tick();
    expect(third).toBe(false);
    again();
    await blocked;
  });

  it('acquire() on a provider without limits resolves to a harmless release', async () => {
    const q = queues([provider('open')]);
    const release = await q.acquire('open', { signal: signal(), deadline: 0 });
    expect(() => release()).not.toThrow();
  });

  it('passes the call’s own failure through and frees its slot', async () => {
    const q = queues([provider('p', { concurrency: 1 })]);
    const opts = { signal: signal(), deadline: far() };
    const err = await rejection(q.run('p', async () => Promise.reject(new Error('upstream 500')), opts));
    expect((err as Error).message).toBe('upstream 500');
    expect(await q.run('p', async () => 'next', opts)).toBe('next');
  });

  it('fails fast with 429 and retry-after when the rpm window is spent and the deadline is near', async () => {
    const now = 1_000_000;
    const q = queues([provider('p', { rpm: 2 })], { now: () => now });
    const opts = { signal: signal(), deadline: now + 10_000 };
    await q.run('p', async () => 1, opts);
    await q.run('p', async () => 2, opts);
    let called = false;
    const err = await rejection(
      q.run(
        'p',
        async () => {
          called = true;
        },
        opts,
      ),
    );
    expect(err).toBeInstanceOf(GatewayError);
    const ge = err as GatewayError;
    expect(ge.status).toBe(429);
    expect(ge.kind).toBe('rate_limit_exceeded');
    expect(ge.headers?.['retry-after']).toBe('60'); // the window refills 60 s after it started
    expect(ge.headers?.['retry-after-ms']).toBe('60000');
    expect(ge.message).toMatch(
      /^p is at its configured limit \(rpm 2.*deadline would pass.*Retry after 60 s\.$/,
    );
    expect(called).toBe(false);
  });

  it('queues a call over the rpm limit until the refill when the deadline allows', async () => {
    fakeWindowClock();
    const q = queues([provider('p', { rpm: 2 })]);
    const opts = { signal: signal(), deadline: Date.now() + 120_000 };
    await q.run('p', async () => 1, opts);
    await q.run('p', async () => 2, opts);
    const third = q.run('p', async () => 3, opts);
    const state = watch(third);
    await vi.advanceTimersByTimeAsync(59_999);
    await tick(); // Bottleneck's real yields run: the call would start now if it could
    expect(state.settled).toBe(false); // still queued just before the window refills
    await vi.advanceTimersByTimeAsync(1);
    expect(await third).toBe(3);
  });

  it('estimates concurrency waits from measured call durations', async () => {
    let now = 0;
    const q = queues([provider('p', { concurrency: 1 })], { now: () => now });
    const deadline = 1_000_000;
    // One call "takes" 10 s on the injected clock.
    await q.run(
      'p',
      async () => {
        now += 10_000;
      },
      { signal: signal(), deadline },
    );
    const busy = deferred();
    const running = q.run('p', () => busy.promise, { signal: signal(), deadline });
    await tick();
    const err = (await rejection(
      q.run('p', async () => 'never', { signal: signal(), deadline: now + 5_000 }),
    )) as GatewayError;
    expect(err.status).toBe(429);
    expect(err.headers?.['retry-after']).toBe('10');
    busy.resolve('done');
    expect(await running).toBe('done');
  });

  it('rejects a queued call with 429 when its deadline passes, and never calls it', async () => {
    vi.useFakeTimers();
    const q = queues([provider('p', { concurrency: 1 })]);
    const busy = deferred();
    const running = q.run('p', () => busy.promise, { signal: signal(), deadline: far() });
    let called = false;
    const queued = rejection(
      q.run(
        'p',
        async () => {
          called = true;
        },
        { signal: signal(), deadline: Date.now() + 50 },
      ),
    );
    const state = watch(queued);
    await vi.advanceTimersByTimeAsync(49);
    expect(state.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1); // rejected at the deadline, while the slot is still taken
    expect(state.settled).toBe(true);
    const err = (await queued) as GatewayError;
    expect(err.status).toBe(429);
    expect(err.message).toMatch(/deadline passed while it waited/);
    busy.resolve('done');
    await vi.advanceTimersByTimeAsync(100);
    expect(await running).toBe('done');
    expect(called).toBe(false);
  });

  it('rejects a queued call with the abort reason when the client leaves, and never calls it', async () => {
    const q = queues([provider('p', { concurrency: 1 })]);
    const busy = deferred();
    const running = q.run('p', () => busy.promise, { signal: signal(), deadline: far() });
    const client = new AbortController();
    let called = false;
    const queued = q.run(
      'p',
      async () => {
        called = true;
      },
      { signal: client.signal, deadline: far() },
    );
    const after = q.run('p', async () => 'after', { signal: signal(), deadline: far() });
    await tick();
    const reason = new Error('client went away');
    client.abort(reason);
    expect(await rejection(queued)).toBe(reason);
    busy.resolve('done');
    await running;
    expect(await after).toBe('after'); // the abandoned slot does not block the queue
    expect(called).toBe(false);
  });

  it('queues without a deadline timer when the deadline is Infinity', async () => {
    const q = queues([provider('p', { concurrency: 1 })]);
    const busy = deferred();
    const running = q.run('p', () => busy.promise, { signal: signal(), deadline: Infinity });
    const queued = q.run('p', async () => 'later', { signal: signal(), deadline: Infinity });
    await tick();
    busy.resolve('done');
    expect(await running).toBe('done');
    expect(await queued).toBe('later');
  });

  it('rejects at once when the signal is already aborted', async () => {
    const q = queues([provider('p', { rpm: 5 })]);
    const client = new AbortController();
    client.abort(new Error('gone'));
    const err = await rejection(q.run('p', async () => 'x', { signal: client.signal, deadline: far() }));
    expect((err as Error).message).toBe('gone');
  });

  it('gives an abandoned call’s rpm start back, so it does not cost a live call a window', async () => {
    fakeWindowClock();
    const q = queues([provider('p', { rpm: 1 })]);
    const deadline = Date.now() + 300_000;
    await q.run('p', async () => 1, { signal: signal(), deadline });
    const client = new AbortController();
    const abandoned = q.run('p', async () => 2, { signal: client.signal, deadline });
    const live = q.run('p', async () => 3, { signal: signal(), deadline });
    const state = watch(live);
    client.abort(new Error('gone'));
    await rejection(abandoned);
    // Served by the first refill (60 s), not the second (120 s).
    await vi.advanceTimersByTimeAsync(60_000);
    // The clock never reaches the second refill: only the given-back start can serve it.
    await vi.waitFor(() => expect(state.settled).toBe(true));
    expect(await live).toBe(3);
  });

  it('stop() rejects calls still queued', async () => {
    const q = new ProviderQueues([provider('p', { concurrency: 1 })]);
    const busy = deferred();
    const running = q.run('p', () => busy.promise, { signal: signal(), deadline: far() });
    const queued = q.run('p', async () => 'x', { signal: signal(), deadline: far() });
    await tick();
    const stopped = q.stop();
    expect(((await rejection(queued)) as GatewayError).kind).toBe('not_ready');
    busy.resolve('done');
    await running;
    await stopped;
  });
});
