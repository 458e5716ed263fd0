/** How a call over the pool (pool.ts) failed before or while reading the answer; adapters map these. */

/** Our own signal aborted the call (client gone, deadline, cancel). */
export class CallAbortedError extends Error {
  constructor(reason?: unknown) {
    super('the call was aborted', reason === undefined ? undefined : { cause: reason });
    this.name = 'AbortError';
  }
}

/** No answer (for a stream: no response headers) before the call's timeout. */
export class CallTimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/**
 * The connection failed or dropped, or the answer is none we accept (cut short, framing broken, past a
 * size bound). `cause` holds the underlying error (a socket error carries its code there).
 */
export class TransportError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TransportError';
  }
}
