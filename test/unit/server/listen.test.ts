/** The listener's bounds: what the operator configured is what Node enforces, and soon enough. */
import { describe, expect, it } from 'vitest';
import { listen, serverOptions } from '../../../src/server/listen.ts';

describe('listen', () => {
  it('starts with a body bound shorter than the headers bound (Node alone would refuse to start)', async () => {
    const server = await listen(() => new Response('ok'), {
      port: 0,
      hostname: '127.0.0.1',
      timeouts: { headers_timeout_ms: 5_000, body_timeout_ms: 1_000, keep_alive_timeout_ms: 2_000 },
    });
    try {
      const s = server as unknown as {
        headersTimeout: number;
        requestTimeout: number;
        keepAliveTimeout: number;
      };
      expect([s.headersTimeout, s.requestTimeout, s.keepAliveTimeout]).toEqual([5_000, 5_000, 2_000]);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('checks the bounds often enough that a 10 s bound holds within a second, not Node’s 30 s', () => {
    const options = serverOptions({
      headers_timeout_ms: 10_000,
      body_timeout_ms: 30_000,
      keep_alive_timeout_ms: 5_000,
    });
    expect(options.connectionsCheckingInterval).toBeLessThanOrEqual(1_000);
    expect(
      serverOptions({ headers_timeout_ms: 300, body_timeout_ms: 600, keep_alive_timeout_ms: 300 })
        .connectionsCheckingInterval,
    ).toBeLessThanOrEqual(75);
  });
});
