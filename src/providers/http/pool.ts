/**
 * Calls to one upstream origin over a keep-alive pool of undici connections, for the adapters that
 * build their requests themselves (OpenAI-compatible servers). undici's dispatch API with a handler of
 * our own is the cheapest HTTP client Node has: no WHATWG Request/Response, no web streams, no Readable
 * per answer. A whole answer is collected into one buffer; a server-sent-events answer is split into
 * events as its bytes arrive and parsed once, by the caller's reader.
 *
 * Every bound of node-fetch.ts holds here too (limits.ts): an idle connection is closed by us before
 * the server would, whole answers share one memory bound, an event line is bounded. Whatever the
 * upstream sends and whenever the caller gives up, nothing here throws outside the call: each exchange
 * settles once, and undici's callbacks after that are ignored.
 */
import { createRequire } from 'node:module';
import type { Dispatcher, Pool as UndiciPool } from 'undici';
import { CallAbortedError, CallTimeoutError, TransportError } from './errors.ts';
import { claimBuffered, IDLE_SOCKET_MS, MAX_LINE_BYTES, openLineBytes, releaseBuffered } from './limits.ts';
import { SseSplitter } from './sse.ts';

// undici's index also loads fetch, WebSocket, caches and mocks (~15 MB and ~70 ms at start-up); the
// pool is all this uses. (The package has no exports map: its files are reachable by path.)
const Pool = createRequire(import.meta.url)('undici/lib/dispatcher/pool.js') as typeof UndiciPool;

/** Events read ahead of the consumer before the socket is paused (the consumer is the client's pace). */
const HIGH_WATER = 256;
/**
 * How long the end of an answer may trail its terminator (`[DONE]`) before the connection is closed
 * instead of kept: the end usually arrives with it, and a connection kept saves the next call a
 * handshake.
 */
const TERMINATOR_GRACE_MS = 1_000;

export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** One POST to the pool's origin. */
export interface PoolCall {
  /** Path and query, e.g. `/v1/chat/completions`. */
  path: string;
  /** Flat `[name, value, name, value, …]`, built once per adapter. */
  headers: string[];
  body: string;
  /** Aborts the call and its connection: client gone, deadline passed, run cancelled. */
  signal: AbortSignal;
  /** Fails the call with CallTimeoutError unless the answer (a stream: its headers) arrives within this. */
  timeoutMs: number;
}

/** An answer read in full (non-streamed, or any non-2xx answer). */
export interface WholeAnswer {
  status: number;
  headers: ResponseHeaders;
  body: Buffer;
  events?: undefined;
}

/** A 2xx event-stream answer: its events arrive as the bytes do. */
export interface StreamAnswer<T> {
  status: number;
  headers: ResponseHeaders;
  events: AsyncGenerator<T>;
  body?: undefined;
}

/**
 * Turns each SSE event into items for the consumer (pushed onto `out`). Returns false at the stream's
 * terminator (nothing after it is read). Throwing fails the stream with that error.
 */
export interface SseReader<T> {
  event(data: string, name: string | undefined, out: T[]): boolean;
}

export interface UpstreamPoolOptions {
  /** How long a connection may take to open (0: no bound of its own; the call's timeout still holds). */
  connectTimeoutMs?: number;
}

export class UpstreamPool {
  readonly #pool: UndiciPool;

  /** `origin`: protocol, host and port only (`https://api.openai.com`). */
  constructor(origin: string, options: UpstreamPoolOptions = {}) {
    this.#pool = new Pool(origin, {
      // As many connections as calls in flight, like node:http's agent: a queue here would add latency
      // and hide the provider's own limits (the config's `limits` bound calls before they get here).
      connections: null,
      pipelining: 1,
      keepAliveTimeout: IDLE_SOCKET_MS,
      // A server hinting a longer keep-alive does not make us keep idle connections longer; a shorter
      // hint makes us close a second before it.
      keepAliveMaxTimeout: IDLE_SOCKET_MS,
      keepAliveTimeoutThreshold: 1_000,
      // Each call has its own timeout and signal; undici's would fail long streams and slow answers.
      headersTimeout: 0,
      bodyTimeout: 0,
      connectTimeout: options.connectTimeoutMs ?? 0,
    });
  }

  /** A whole answer, collected into one buffer under the size bounds. */
  post(call: PoolCall): Promise<WholeAnswer> {
    return new Exchange<never>(this.#pool, call, undefined).answer as Promise<WholeAnswer>;
  }

  /**
   * An event-stream answer: resolves at the response headers, its events read by `reader` as the bytes
   * arrive. A non-2xx answer is read whole instead (it carries the provider's error).
   */
  postStream<T>(call: PoolCall, reader: SseReader<T>): Promise<WholeAnswer | StreamAnswer<T>> {
    return new Exchange<T>(this.#pool, call, reader).answer;
  }

  /** Closes the idle connections and refuses new calls; calls still in flight get `graceMs` to end. */
  async close(graceMs = 2_000): Promise<void> {
    if (this.#pool.closed || this.#pool.destroyed) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
      timer.unref();
    });
    await Promise.race([this.#pool.close(), late]);
    clearTimeout(timer);
    if (!this.#pool.destroyed) await this.#pool.destroy();
  }
}

/**
 * One request and its answer: the handler undici calls back, and the state both sides read. It settles
 * once (resolved, or failed with a CallAbortedError / CallTimeoutError / TransportError / the reader's
 * error); undici's callbacks after that only release what the exchange held.
 */
class Exchange<T> implements Dispatcher.DispatchHandler {
  readonly answer: Promise<WholeAnswer | StreamAnswer<T>>;
  readonly #call: PoolCall;
  readonly #reader: SseReader<T> | undefined;
  #resolve!: (answer: WholeAnswer | StreamAnswer<T>) => void;
  #reject!: (err: unknown) => void;
  #controller: Dispatcher.DispatchController | null = null;
  #timer: NodeJS.Timeout | undefined;
  /** Why we gave up on the upstream request (set once); undici is told as soon as it can be. */
  #abortReason: Error | null = null;

  #status = 0;
  #headers: ResponseHeaders = {};
  /** The answer promise has settled. */
  #settled = false;
  /** Nothing more reaches the consumer: the answer ended, its terminator came, or the call failed. */
  #finished = false;
  /** undici is done with the request (answer read to its end, or failed). */
  #complete = false;

  // A whole answer.
  #chunks: Buffer[] = [];
  #size = 0;

  // An event stream.
  #splitter: SseSplitter | null = null;
  #lineBytes = 0;
  #items: T[] = [];
  #head = 0;
  #paused = false;
  /** The reader saw the stream's terminator. */
  #terminated = false;
  #failed = false;
  #error: unknown;
  #wake: (() => void) | null = null;

  constructor(pool: UndiciPool, call: PoolCall, reader: SseReader<T> | undefined) {
    this.#call = call;
    this.#reader = reader;
    this.answer = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    const signal = call.signal;
    if (signal.aborted) {
      this.#settled = this.#finished = this.#complete = true;
      this.#reject(new CallAbortedError(signal.reason));
      return;
    }
    signal.addEventListener('abort', this.#onAbort, { once: true });
    this.#timer = setTimeout(this.#onTimeout, call.timeoutMs);
    pool.dispatch({ path: call.path, method: 'POST', headers: call.headers, body: call.body }, this);
  }

  // ------------------------------------------------------------------------------ undici's callbacks

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#abortReason) controller.abort(this.#abortReason);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    status: number,
    headers: ResponseHeaders,
  ): void {
    if (status < 200 || this.#finished) return;
    this.#status = status;
    this.#headers = headers;
    if (this.#reader && status < 300) {
      clearTimeout(this.#timer);
      this.#splitter = new SseSplitter();
      this.#settled = true;
      this.#resolve({ status, headers, events: this.#drain() });
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#finished) return;
    const splitter = this.#splitter;
    if (!splitter) {
      const refusal = claimBuffered(this.#size, chunk.byteLength);
      if (refusal) {
        this.#giveUp(new TransportError(refusal));
        return;
      }
      this.#size += chunk.byteLength;
      this.#chunks.push(chunk);
      return;
    }
    this.#lineBytes = openLineBytes(this.#lineBytes, chunk);
    if (this.#lineBytes > MAX_LINE_BYTES) {
      this.#giveUp(new TransportError(`an event line longer than ${MAX_LINE_BYTES} bytes`));
      return;
    }
    try {
      if (!splitter.push(chunk, this.#onEvent)) this.#finished = this.#terminated = true;
    } catch (err) {
      this.#giveUp(err);
      return;
    }
    if (!this.#paused && this.#items.length - this.#head > HIGH_WATER) {
      this.#paused = true;
      controller.pause();
    }
    this.#wakeUp();
  }

  onResponseEnd(): void {
    this.#complete = true;
    if (!this.#finished) {
      this.#finished = true;
      if (!this.#splitter) {
        const body = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#size);
        this.#settled = true;
        this.#resolve({ status: this.#status, headers: this.#headers, body });
      }
      // A stream: whatever follows the last blank line is no complete event, and is dropped.
    }
    this.#release();
    this.#wakeUp();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.#complete = true;
    if (!this.#finished) this.#fail(new TransportError('the connection failed', err));
    this.#release();
  }

  // ------------------------------------------------------------------------------------ our side

  readonly #onEvent = (data: string, name: string | undefined): boolean =>
    this.#reader!.event(data, name, this.#items);

  readonly #onAbort = (): void => {
    this.#giveUp(new CallAbortedError(this.#call.signal.reason));
  };

  readonly #onLateEnd = (): void => {
    this.#abortUpstream(new CallAbortedError());
  };

  readonly #onTimeout = (): void => {
    this.#giveUp(new CallTimeoutError(this.#call.timeoutMs));
  };

  /** Fails the call with `err` and stops the upstream request (its connection is closed). */
  #giveUp(err: unknown): void {
    if (!this.#finished) this.#fail(err);
    this.#abortUpstream(err instanceof Error ? err : new CallAbortedError());
  }

  #abortUpstream(reason: Error): void {
    if (this.#complete || this.#abortReason) return;
    this.#abortReason = reason;
    // Before undici has started the request there is no controller yet: onRequestStart aborts it.
    // Paused first: when this runs inside onResponseData, undici's parser must stop at this chunk.
    this.#controller?.pause();
    this.#controller?.abort(reason);
    this.#release();
  }

  #fail(err: unknown): void {
    this.#finished = true;
    if (!this.#settled) {
      this.#settled = true;
      this.#reject(err);
    } else {
      this.#failed = true;
      this.#error = err;
      this.#wakeUp();
    }
  }

  /** Lets go of the timer, the signal and the buffered bytes (each once). */
  #release(): void {
    clearTimeout(this.#timer);
    this.#call.signal.removeEventListener('abort', this.#onAbort);
    if (this.#size) {
      releaseBuffered(this.#size);
      this.#size = 0;
      this.#chunks = [];
    }
  }

  #wakeUp(): void {
    const wake = this.#wake;
    if (wake) {
      this.#wake = null;
      wake();
    }
  }

  /** The stream's items in order, then its end or its failure. Leaving early closes the connection. */
  async *#drain(): AsyncGenerator<T> {
    try {
      for (;;) {
        const items = this.#items;
        while (this.#head < items.length) yield items[this.#head++]!;
        items.length = 0;
        this.#head = 0;
        if (this.#paused) {
          this.#paused = false;
          this.#controller?.resume();
        }
        if (this.#failed) throw this.#error;
        if (this.#finished) return;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
      }
    } finally {
      this.#finished = true;
      if (!this.#complete) {
        if (this.#terminated && !this.#failed) {
          // Only the end of the answer is still to come: the connection is kept if it comes soon.
          this.#timer = setTimeout(this.#onLateEnd, TERMINATOR_GRACE_MS);
          this.#timer.unref();
        } else {
          // The consumer left mid-answer: the rest is never read, so the connection cannot be reused.
          this.#abortUpstream(new CallAbortedError());
        }
      }
    }
  }
}

/** A response header as `Headers.get` gives it: repeated values joined by `, `. */
export function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
