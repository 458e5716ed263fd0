/**
 * Batches rows off the request path. `append` only pushes onto an array — it never touches the
 * database, so a slow or unreachable database cannot slow a request. A timer (unref'd: it never keeps
 * the process alive) writes the buffer every `flushIntervalMs`, sooner once `batchSize` rows wait; each
 * batch is one multi-row INSERT, which each engine commits atomically. Rows leave the buffer only once
 * written, so a failed write is retried (with backoff) and reported through `onError`. If the database
 * stays down until `maxBuffered` rows wait, new rows are dropped (and reported) rather than exhausting
 * memory.
 */

export interface LedgerWriterOptions {
  /** Longest a row waits before a write starts (default 250 ms). */
  flushIntervalMs?: number;
  /** Rows per INSERT; a full batch is written at once (default 500). */
  batchSize?: number;
  /** Rows held while writes fail before new ones are dropped (default 100 000). */
  maxBuffered?: number;
  /** Failed background writes and dropped rows; the writer keeps going. */
  onError?: (err: unknown) => void;
}

const MAX_BACKOFF_MS = 5000;

export class LedgerWriter<T> {
  readonly #write: (rows: T[]) => Promise<void>;
  readonly #intervalMs: number;
  readonly #batchSize: number;
  readonly #maxBuffered: number;
  readonly #onError: (err: unknown) => void;

  #buffer: T[] = [];
  /** Rows ever accepted / ever written: `flush()` waits until the second catches up with the first. */
  #appended = 0;
  #written = 0;
  #dropped = 0;
  /** Set from the first drop until the buffer has room again, so an outage is reported once. */
  #dropping = false;
  #inFlight: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #timerDue = Number.POSITIVE_INFINITY;
  #failures = 0;
  #closed = false;

  constructor(write: (rows: T[]) => Promise<void>, options: LedgerWriterOptions = {}) {
    this.#write = write;
    this.#intervalMs = options.flushIntervalMs ?? 250;
    this.#batchSize = Math.max(1, options.batchSize ?? 500);
    this.#maxBuffered = options.maxBuffered ?? 100_000;
    this.#onError = options.onError ?? (() => {});
  }

  /** Rows waiting to be written. */
  get pending(): number {
    return this.#buffer.length;
  }

  /** Rows dropped because the buffer was full (or the writer closed). */
  get dropped(): number {
    return this.#dropped;
  }

  /** The rows not yet written, oldest first (a read-only view of the buffer, to be read at once). */
  get unwritten(): readonly T[] {
    return this.#buffer;
  }

  /**
   * Synchronous and O(1): queues the row; never waits for, nor throws because of, the database. False
   * when the row was dropped (the writer is closed, or full while the database does not answer).
   */
  append(row: T): boolean {
    if (this.#closed || this.#buffer.length >= this.#maxBuffered) {
      this.#dropped++;
      if (!this.#dropping) {
        this.#dropping = true;
        this.#onError(
          new Error(
            this.#closed
              ? 'ledger writer is closed: row dropped'
              : `ledger buffer full (${this.#maxBuffered} rows unwritten): dropping rows until the database accepts writes`,
          ),
        );
      }
      return false;
    }
    this.#buffer.push(row);
    this.#appended++;
    // While writes fail, the retry loop owns the timer: appends must not cut its backoff short.
    if (this.#failures === 0) this.#schedule(this.#buffer.length >= this.#batchSize ? 0 : this.#intervalMs);
    return true;
  }

  /** Writes every row appended before the call; rejects if a write fails (the rows stay queued). */
  async flush(): Promise<void> {
    const target = this.#appended;
    while (this.#written < target) await this.#step();
  }

  /** Stops the timer and writes what is left; rows appended afterwards are dropped and reported. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#dropping = false;
    this.#clearTimer();
    await this.flush();
  }

  /** One batch at a time: concurrent flushes share the write in flight. */
  #step(): Promise<void> {
    this.#inFlight ??= this.#writeBatch().finally(() => {
      this.#inFlight = null;
    });
    return this.#inFlight;
  }

  async #writeBatch(): Promise<void> {
    const batch = this.#buffer.slice(0, this.#batchSize);
    if (batch.length === 0) return;
    await this.#write(batch);
    this.#buffer.splice(0, batch.length);
    this.#written += batch.length;
    if (!this.#closed && this.#buffer.length < this.#maxBuffered) this.#dropping = false;
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    const due = Date.now() + delayMs;
    if (this.#timer && this.#timerDue <= due) return;
    this.#clearTimer();
    this.#timerDue = due;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#timerDue = Number.POSITIVE_INFINITY;
      void this.#background();
    }, delayMs);
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerDue = Number.POSITIVE_INFINITY;
  }

  async #background(): Promise<void> {
    try {
      await this.flush();
      this.#failures = 0;
    } catch (err) {
      this.#failures++;
      this.#onError(err);
    }
    if (this.#buffer.length === 0) return;
    const backoff = Math.min(this.#intervalMs * 2 ** this.#failures, MAX_BACKOFF_MS);
    this.#schedule(
      this.#failures > 0 ? backoff : this.#buffer.length >= this.#batchSize ? 0 : this.#intervalMs,
    );
  }
}
