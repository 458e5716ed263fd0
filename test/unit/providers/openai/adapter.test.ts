/**
 * The OpenAI-compatible adapter against the fake OpenAI server: the request the upstream receives
 * (the body and headers the `openai` SDK sent before), answers and streams turned into the gateway's
 * results and events, and the provider's errors mapped — status, code, retry-after, secrets redacted.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatRequest, StreamEvent } from '../../../../src/chat/index.ts';
import { ProviderSchema } from '../../../../src/config/schema.ts';
import { createOpenAIAdapter } from '../../../../src/providers/openai/index.ts';
import type { ProviderAdapter } from '../../../../src/providers/types.ts';
import { UpstreamError } from '../../../../src/providers/upstream-error.ts';
import type { FakeServer } from '../../../fakes/harness.ts';
import { startFakeOpenAI } from '../../../fakes/openai.ts';

let fake: FakeServer;
let adapter: ProviderAdapter;
const adapters: ProviderAdapter[] = [];

const adapterFor = (overrides: Record<string, unknown> = {}) => {
  const created = createOpenAIAdapter(
    ProviderSchema.parse({
      id: 'oa',
      type: 'openai',
      base_url: `${fake.url}/v1`,
      api_key: 'sk-test-key',
      ...overrides,
    }),
  );
  adapters.push(created);
  return created;
};

const call = (request: Partial<ChatRequest> = {}, signal = new AbortController().signal) => ({
  model: 'gpt-upstream',
  request: {
    model: 'client-name',
    messages: [{ role: 'user', content: 'Hello there' }],
    ...request,
  } as ChatRequest,
  signal,
});

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpstreamError);
  return err as UpstreamError;
}

async function streamed(events: AsyncIterable<StreamEvent>) {
  const out: StreamEvent[] = [];
  try {
    for await (const e of events) out.push(e);
    return { events: out, error: undefined };
  } catch (error) {
    return { events: out, error: error as UpstreamError };
  }
}

beforeAll(async () => {
  fake = await startFakeOpenAI();
  adapter = adapterFor();
});
afterAll(async () => {
  await Promise.all(adapters.map((a) => a.close?.()));
  await fake.close();
});
beforeEach(() => fake.reset());

describe('openai adapter: the request upstream', () => {
  it('forwards the client body whole (unknown fields too) with the upstream model, minus quorum and stream options', async () => {
    await adapter.complete(
      call({
        temperature: 0.2,
        seed: 7,
        stream: true,
        stream_options: { include_usage: false },
        quorum: { fallbacks: [] },
        reasoning_effort: 'low',
      } as Partial<ChatRequest>),
    );
    const req = fake.received[0]!;
    expect(req.path).toBe('/v1/chat/completions');
    // Key order as the SDK sent it: the client's fields, then model, then stream.
    expect(Object.keys(req.body)).toEqual([
      'messages',
      'temperature',
      'seed',
      'reasoning_effort',
      'model',
      'stream',
    ]);
    expect(req.body).toEqual({
      messages: [{ role: 'user', content: 'Hello there' }],
      temperature: 0.2,
      seed: 7,
      reasoning_effort: 'low',
      model: 'gpt-upstream',
      stream: false,
    });
  });

  it('a stream always asks for usage, whatever the client asked', async () => {
    await streamed(
      adapter.stream(call({ stream_options: { include_usage: false } } as Partial<ChatRequest>)),
    );
    expect(fake.received[0]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('sends the key, the JSON headers, the SDK user agent and the provider’s extra headers', async () => {
    const withHeaders = adapterFor({ headers: { 'OpenAI-Organization': 'org-1', 'X-Extra': 'e' } });
    await withHeaders.complete(call());
    const headers = fake.received[0]!.headers;
    expect(headers).toMatchObject({
      authorization: 'Bearer sk-test-key',
      'content-type': 'application/json',
      accept: 'application/json',
      'openai-organization': 'org-1',
      'x-extra': 'e',
    });
    expect(headers['user-agent']).toMatch(/^OpenAI\/JS \d+\.\d+\.\d+/);
    expect(headers['content-length']).toBe(String(Buffer.byteLength(JSON.stringify(fake.received[0]!.body))));
  });

  it('a provider header overrides ours by name, whatever its case; the content type stays JSON', async () => {
    const overriding = adapterFor({ headers: { Authorization: 'Basic abc', 'Content-Type': 'text/plain' } });
    await overriding.complete(call());
    expect(fake.received[0]!.headers.authorization).toBe('Basic abc');
    expect(fake.received[0]!.headers['content-type']).toBe('application/json');
  });

  it('a provider without a key sends the placeholder the SDK sent', async () => {
    await adapterFor({ api_key: undefined }).complete(call());
    expect(fake.received[0]!.headers.authorization).toBe('Bearer unused');
  });

  it('organisation and project from the environment are sent, as the SDK did', async () => {
    process.env.OPENAI_ORG_ID = 'org-env';
    process.env.OPENAI_PROJECT_ID = 'proj-env';
    try {
      await adapterFor().complete(call());
    } finally {
      delete process.env.OPENAI_ORG_ID;
      delete process.env.OPENAI_PROJECT_ID;
    }
    expect(fake.received[0]!.headers).toMatchObject({
      'openai-organization': 'org-env',
      'openai-project': 'proj-env',
    });
  });

  it('a base URL with a trailing slash or a query string (Azure’s api-version) reaches the same path, query kept', async () => {
    const seen: string[] = [];
    const local = createServer((req, res) => {
      seen.push(req.url ?? '');
      req.resume();
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"x"}}');
    });
    await new Promise<void>((r) => local.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(local.address() as AddressInfo).port}`;
    try {
      await failure(adapterFor({ base_url: `${base}/v1/` }).complete(call()));
      await failure(
        adapterFor({ base_url: `${base}/openai/deployments/d?api-version=2024-10-21` }).complete(call()),
      );
      expect(seen).toEqual([
        '/v1/chat/completions',
        '/openai/deployments/d/chat/completions?api-version=2024-10-21',
      ]);
    } finally {
      local.closeAllConnections();
      await new Promise((r) => local.close(r));
    }
  });
});

describe('openai adapter: answers', () => {
  it('turns a completion into the gateway’s result: text, finish reason, usage with cached and reasoning tokens', async () => {
    fake.respond({ text: 'Hi!', usage: { input: 11, output: 3, cached: 4, reasoning: 2 } });
    const result = await adapter.complete(call());
    expect(result).toEqual({
      content: 'Hi!',
      refusal: null,
      finish_reason: 'stop',
      usage: { prompt_tokens: 11, completion_tokens: 3, cached_tokens: 4, reasoning_tokens: 2 },
      upstream_model: 'gpt-upstream-2025-01-01',
    });
  });

  it('passes tool calls on', async () => {
    fake.respond({ toolCalls: [{ id: 'call_1', name: 'lookup', arguments: '{"q":"x"}' }] });
    const result = await adapter.complete(call());
    expect(result.finish_reason).toBe('tool_calls');
    expect(result.tool_calls).toEqual([
      { id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } },
    ]);
  });

  it('streams model, text deltas, tool-call pieces, finish and usage in order', async () => {
    fake.respond({
      text: 'one two',
      toolCalls: [{ id: 'call_1', name: 'lookup', arguments: '{"q":"x"}' }],
      usage: { input: 5, output: 4 },
    });
    const { events, error } = await streamed(adapter.stream(call()));
    expect(error).toBeUndefined();
    expect(events).toEqual([
      { type: 'model', model: 'gpt-upstream-2025-01-01' },
      { type: 'text', text: 'one ' },
      { type: 'text', text: 'two' },
      { type: 'tool_call', index: 0, id: 'call_1', name: 'lookup' },
      { type: 'tool_call', index: 0, arguments: '{"q":' },
      { type: 'tool_call', index: 0, arguments: '"x"}' },
      { type: 'finish', reason: 'tool_calls' },
      { type: 'usage', usage: { prompt_tokens: 5, completion_tokens: 4 } },
    ]);
  });

  it('an answer without choices, or not JSON at all, is the provider failing', async () => {
    fake.respond({ raw: '{"id":"x","choices":[]}' });
    expect(await failure(adapter.complete(call()))).toMatchObject({ failure: 'bad_response', status: 200 });
    fake.respond({ raw: '<html>oops</html>' });
    expect(await failure(adapter.complete(call()))).toMatchObject({
      failure: 'bad_response',
      message: 'the provider sent an unreadable answer',
    });
  });
});

describe('openai adapter: errors', () => {
  it('maps status, code and retry-after, and redacts a key the provider quotes', async () => {
    fake.respond({
      error: {
        status: 429,
        message: 'Rate limited for key sk-abc***wxyz, slow down',
        code: 'rate_limit_exceeded',
        retryAfterSeconds: 2,
      },
    });
    const err = await failure(adapter.complete(call()));
    expect(err).toMatchObject({
      status: 429,
      code: 'rate_limit_exceeded',
      retryAfterMs: 2000,
      failure: 'http',
    });
    expect(err.message).toBe('Rate limited for key [redacted], slow down');
    expect(err.message).not.toMatch(/sk-abc/);
  });

  it('without a code, the error type is the code; a context-length 400 is recognised', async () => {
    fake.respond({ error: { status: 400, message: "This model's maximum context length is 8192 tokens" } });
    const err = await failure(adapter.complete(call()));
    expect(err).toMatchObject({ status: 400, code: 'invalid_request_error', failure: 'context_length' });
  });

  it('an error body of another shape is quoted with its status, as the SDK did', async () => {
    fake.respond({ raw: '<html>Bad Gateway</html>', rawStatus: 502 });
    expect(await failure(adapter.complete(call()))).toMatchObject({
      status: 502,
      message: '502 <html>Bad Gateway</html>',
      code: null,
    });
    fake.respond({ raw: '{"detail":"no such model"}', rawStatus: 404 });
    expect(await failure(adapter.complete(call()))).toMatchObject({
      status: 404,
      message: '404 {"detail":"no such model"}',
    });
    fake.respond({ raw: '{"error":"overloaded"}', rawStatus: 503 });
    expect(await failure(adapter.complete(call()))).toMatchObject({
      status: 503,
      message: '503 "overloaded"',
    });
  });

  it('a stream request refused with an error status fails with the provider’s error', async () => {
    fake.respond({
      error: { status: 401, message: 'Incorrect API key provided: sk-test***key', code: 'invalid_api_key' },
    });
    const { events, error } = await streamed(adapter.stream(call()));
    expect(events).toEqual([]);
    expect(error).toMatchObject({
      status: 401,
      code: 'invalid_api_key',
      message: 'Incorrect API key provided: [redacted]',
    });
  });

  it('an error event mid-stream is the provider failing, with its message', async () => {
    const local = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"model":"m","choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n');
      res.end(
        'data: {"error":{"message":"The server had an error (key sk-live-secret123)","type":"server_error"}}\n\n',
      );
    });
    await new Promise<void>((r) => local.listen(0, '127.0.0.1', r));
    try {
      const midway = adapterFor({ base_url: `http://127.0.0.1:${(local.address() as AddressInfo).port}/v1` });
      const { events, error } = await streamed(midway.stream(call()));
      expect(events.some((e) => e.type === 'text')).toBe(true);
      expect(error).toMatchObject({ status: 500, code: 'server_error', failure: 'http' });
      expect(error!.message).toBe('The server had an error (key [redacted])');
    } finally {
      local.closeAllConnections();
      await new Promise((r) => local.close(r));
    }
  });

  it('no answer within timeout_ms is a timeout', async () => {
    fake.respond({ hang: true });
    const slow = adapterFor({ timeout_ms: 50 });
    expect(await failure(slow.complete(call()))).toMatchObject({ failure: 'timeout', status: 0 });
  });

  it('aborting mid-stream fails as aborted and the upstream sees the client leave', async () => {
    fake.respond({ text: 'a b c d e f g h', chunkDelayMs: 30 });
    const controller = new AbortController();
    const events: StreamEvent[] = [];
    const err = await (async () => {
      for await (const e of adapter.stream(call({}, controller.signal))) {
        events.push(e);
        if (e.type === 'text') controller.abort();
      }
    })().catch((e) => e);
    expect(err).toMatchObject({ failure: 'aborted' });
    await fake.received[0]!.done;
    expect(fake.received[0]!.aborted).toBe(true);
  });

  it('a refused connection is a connection failure naming the socket code', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const err = await failure(adapterFor({ base_url: `http://127.0.0.1:${port}/v1` }).complete(call()));
    expect(err).toMatchObject({
      failure: 'connection',
      message: 'connection to the provider failed (ECONNREFUSED)',
    });
  });
});

describe('openai adapter: close', () => {
  afterEach(() => fake.reset());

  it('after close, calls fail as connection failures instead of reaching the upstream', async () => {
    const closing = adapterFor();
    await closing.complete(call());
    await closing.close!();
    expect(await failure(closing.complete(call()))).toMatchObject({ failure: 'connection' });
    expect(fake.received).toHaveLength(1);
  });
});
