/**
 * One call's exchange with undici: the handler its dispatcher calls back, turning the answer into a
 * buffer (whole answers, under the memory bounds) or a stream of items (event streams, split and read as
 * the bytes arrive, paused while the consumer is behind).
 */
import type { Dispatcher, Pool as UndiciPool } from 'undici';
import { CallAbortedError, CallTimeoutError, TransportError } from './errors.ts';
import { claimBuffered, MAX_LINE_BYTES, openLineBytes, releaseBuffered } from './limits.ts';
import { SseSplitter } from './sse.ts';
import type { PoolCall, ResponseHeaders, SseReader, StreamAnswer, WholeAnswer } from './types.ts';

/** Events read ahead of the consumer before the socket is paused (the consumer is the client's pace). */
const HIGH_WATER = 256;
/**
 * How long the end of an answer may trail its terminator (`[DONE]`) before the connection is closed
 * instead of kept: the end usually arrives with it, and a connection kept saves the next call a
 * handshake.
 */
const TERMINATOR_GRACE_MS = 1_000;

/**
 * One request and its answer: the handler undici calls back, and the state both sides read. It settles
 * once (resolved, or failed with a CallAbortedError / CallTimeoutError / TransportError / the reader's
 * error); undici's callbacks after that only release what the exchange held.
 */
export class Exchange<T> implements Dispatcher.DispatchHandler {
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
