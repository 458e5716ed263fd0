/** What a call over the pool sends and gets back (pool.ts, exchange.ts). */

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

/** A response header as `Headers.get` gives it: repeated values joined by `, `. */
export function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
