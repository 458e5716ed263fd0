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
 * (exchange.ts) settles once, and undici's callbacks after that are ignored.
 */
import { createRequire } from 'node:module';
import type { Pool as UndiciPool } from 'undici';
import { Exchange } from './exchange.ts';
import { IDLE_SOCKET_MS } from './limits.ts';
import type { PoolCall, SseReader, StreamAnswer, WholeAnswer } from './types.ts';

export type { PoolCall, ResponseHeaders, SseReader, StreamAnswer, WholeAnswer } from './types.ts';
export { headerValue } from './types.ts';

// undici's index also loads fetch, WebSocket, caches and mocks (~15 MB and ~70 ms at start-up); the
// pool is all this uses. (The package has no exports map: its files are reachable by path.)
const Pool = createRequire(import.meta.url)('undici/lib/dispatcher/pool.js') as typeof UndiciPool;

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
