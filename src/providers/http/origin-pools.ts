/**
 * Keep-alive pools by origin for raw calls — bodies the gateway passes on as they came (the Anthropic
 * Messages passthrough) rather than builds itself. Each pool is made on first use, so a gateway that
 * never passes a call through never loads the HTTP client for it.
 */
import type { UpstreamPool } from './pool.ts';

export class OriginPools {
  readonly #pools = new Map<string, Promise<UpstreamPool>>();
  #closed = false;

  /**
   * The pool for `url`'s origin. Calls with different connect bounds (providers with different
   * timeouts) get pools of their own.
   */
  pool(url: URL, connectTimeoutMs: number): Promise<UpstreamPool> {
    if (this.#closed) return Promise.reject(new Error('the gateway is closing'));
    const key = `${url.origin} ${connectTimeoutMs}`;
    let pool = this.#pools.get(key);
    if (!pool) {
      pool = import('./pool.ts').then(
        ({ UpstreamPool }) => new UpstreamPool(url.origin, { connectTimeoutMs }),
      );
      this.#pools.set(key, pool);
    }
    return pool;
  }

  /** Closes every pool (calls in flight get the pool's grace period); later calls are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map(async (p) => (await p).close()));
  }
}
