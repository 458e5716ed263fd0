import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeGemini } from '../../../fakes/gemini.ts';
import type { FakeServer } from '../../../fakes/harness.ts';
import { adapterFor, call, upstreamError } from './helpers.ts';

let fake: FakeServer;
let adapter: ReturnType<typeof adapterFor>;

beforeAll(async () => {
  fake = await startFakeGemini();
  adapter = adapterFor(fake.url);
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

/** A port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('gemini adapter: errors', () => {
  it('input over the context window is context_length, with the provider message', async () => {
    const message = 'The input token count (1204301) exceeds the maximum number of tokens allowed (1048576).';
    fake.enqueue({ error: { status: 400, message } });
    const err = await upstreamError(adapter.complete(call({})));
    expect(err).toMatchObject({ provider: 'gemini', status: 400, failure: 'context_length', message });
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.retryable).toBe(false);
  });

  it('any other 400 is a client error, not retried', async () => {
    fake.enqueue({ error: { status: 400, message: 'Request contains an invalid argument.' } });
    const err = await upstreamError(adapter.complete(call({})));
    expect(err).toMatchObject({
      status: 400,
      failure: 'http',
      message: 'Request contains an invalid argument.',
    });
    expect(err.isClientError).toBe(true);
    expect(err.retryable).toBe(false);
  });

  it('429 is retryable, carries the RetryInfo delay, and the SDK did not retry on its own', async () => {
    fake.enqueue({
      error: {
        status: 429,
        message: 'Resource has been exhausted (e.g. check quota).',
        retryAfterSeconds: 7,
      },
    });
    const err = await upstreamError(adapter.complete(call({})));
    expect(err).toMatchObject({ status: 429, code: 'RESOURCE_EXHAUSTED', retryAfterMs: 7_000 });
    expect(err.retryable).toBe(true);
    expect(fake.received).toHaveLength(1);
  });

  it('503 is retryable with the provider message', async () => {
    fake.enqueue({ error: { status: 503, message: 'The model is overloaded. Please try again later.' } });
    const err = await upstreamError(adapter.complete(call({})));
    expect(err).toMatchObject({
      status: 503,
      code: 'UNAVAILABLE',
      message: 'The model is overloaded. Please try again later.',
    });
    expect(err.retryable).toBe(true);
    expect(fake.received).toHaveLength(1);
  });

  it('no answer within timeout_ms is a timeout, and the upstream request is closed', async () => {
    const slow = adapterFor(fake.url, { timeout_ms: 150 });
    fake.enqueue({ hang: true });
    const err = await upstreamError(slow.complete(call({})));
    expect(err).toMatchObject({ status: 0, failure: 'timeout' });
    expect(err.retryable).toBe(true);
    await fake.received[0]!.done;
    expect(fake.received[0]!.aborted).toBe(true);
  });

  it("the gateway's abort is reported as aborted, not as a timeout", async () => {
    fake.enqueue({ hang: true });
    const controller = new AbortController();
    const pending = upstreamError(adapter.complete(call({}, controller.signal)));
    setTimeout(() => controller.abort(), 50);
    const err = await pending;
    expect(err).toMatchObject({ status: 0, failure: 'aborted' });
    expect(err.retryable).toBe(false);
    await fake.received[0]!.done;
    expect(fake.received[0]!.aborted).toBe(true);
  });

  it('nothing listening is a connection failure', async () => {
    const dead = adapterFor(`http://127.0.0.1:${await closedPort()}`);
    const err = await upstreamError(dead.complete(call({})));
    expect(err).toMatchObject({ status: 0, failure: 'connection' });
    expect(err.retryable).toBe(true);
  });
});
