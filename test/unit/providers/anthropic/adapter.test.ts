import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../../../src/chat/index.ts';
import { ProviderSchema } from '../../../../src/config/schema.ts';
import { createAnthropicAdapter, DEFAULT_MAX_TOKENS } from '../../../../src/providers/anthropic/index.ts';
import type { ProviderAdapter } from '../../../../src/providers/types.ts';
import { UpstreamError } from '../../../../src/providers/upstream-error.ts';
import { type AnthropicFakeReply, startFakeAnthropic } from '../../../fakes/anthropic.ts';
import type { FakeServer } from '../../../fakes/harness.ts';

let fake: FakeServer;
let adapter: ProviderAdapter;

const providerConfig = (overrides: Record<string, unknown> = {}) =>
  ProviderSchema.parse({
    id: 'claude',
    type: 'anthropic',
    base_url: fake.url,
    api_key: 'sk-ant-test',
    ...overrides,
  });

const call = (request: Partial<ChatRequest>, signal = new AbortController().signal) => ({
  model: 'claude-test',
  request: {
    model: 'claude-haiku',
    messages: [{ role: 'user', content: 'Hello there' }],
    ...request,
  } as ChatRequest,
  signal,
});

/** The body the fake received for the n-th request. */
const sent = (n = 0) => fake.received[n]?.body;

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpstreamError);
  return err as UpstreamError;
}

beforeAll(async () => {
  fake = await startFakeAnthropic();
  adapter = createAnthropicAdapter(providerConfig());
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

describe('anthropic adapter: complete', () => {
  it('answers a text prompt through the Messages API with the key, version and a default max_tokens', async () => {
    const result = await adapter.complete(call({}));

    expect(result.content).toBe('anthropic says: Hello there');
    expect(result.finish_reason).toBe('stop');
    expect(result.upstream_model).toBe('claude-test-20250101');
    const req = fake.received[0]!;
    expect(req.path).toBe('/v1/messages');
    expect(req.headers.authorization).toBe('Bearer sk-ant-test');
    expect(req.headers['anthropic-version']).toBeTruthy();
    expect(req.body).toMatchObject({ model: 'claude-test', max_tokens: DEFAULT_MAX_TOKENS });
    expect(req.body.messages).toEqual([{ role: 'user', content: 'Hello there' }]);
  });

  it('accepts a base_url written with /v1 and sends the configured extra headers', async () => {
    const other = createAnthropicAdapter(
      providerConfig({ base_url: `${fake.url}/v1/`, headers: { 'x-team': 'research' } }),
    );
    const result = await other.complete(call({}));
    expect(result.content).toBe('anthropic says: Hello there');
    expect(fake.received[0]!.path).toBe('/v1/messages');
    expect(fake.received[0]!.headers['x-team']).toBe('research');
  });

  it('moves system and developer messages into the top-level system prompt', async () => {
    await adapter.complete(
      call({
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
          { role: 'user', content: 'Hi' },
        ],
      }),
    );
    expect(sent().system).toBe('You are terse.\n\nAnswer in French.');
    expect(sent().messages).toEqual([{ role: 'user', content: 'Hi' }]);
  });

  it('merges consecutive same-role messages into alternating turns', async () => {
    await adapter.complete(
      call({
        messages: [
          { role: 'user', content: 'First question.' },
          { role: 'user', content: [{ type: 'text', text: 'Second part.' }] },
          { role: 'assistant', content: 'Answer one.' },
          { role: 'assistant', content: [{ type: 'text', text: 'Answer two.' }] },
          { role: 'user', content: 'Thanks' },
        ],
      }),
    );
    expect(sent().messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'First question.' },
          { type: 'text', text: 'Second part.' },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Answer one.' },
          { type: 'text', text: 'Answer two.' },
        ],
      },
      { role: 'user', content: 'Thanks' },
    ]);
  });

  it('sends a system-only conversation as a user turn instead of an empty message list', async () => {
    const result = await adapter.complete(call({ messages: [{ role: 'system', content: 'Say hi.' }] }));
    expect(result.content).toBe('anthropic says: Say hi.');
    expect(sent().system).toBeUndefined();
  });

  it('maps tools, tool_choice and parallel_tool_calls, and returns tool calls in OpenAI shape', async () => {
    fake.enqueue({
      toolCalls: [
        { id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { id: 'toolu_2', name: 'get_time', arguments: '{}' },
      ],
    });
    const result = await adapter.complete(
      call({
        tools: [
          {
            type: 'function',
            function: {
              name: 'get_weather',
              description: 'Weather for a city',
              parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
            },
          },
          { type: 'function', function: { name: 'get_time' } },
        ],
        tool_choice: 'required',
        parallel_tool_calls: false,
      }),
    );

    expect(sent().tools).toEqual([
      {
        name: 'get_weather',
        description: 'Weather for a city',
        input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
      { name: 'get_time', input_schema: { type: 'object', properties: {} } },
    ]);
    expect(sent().tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
    expect(result.finish_reason).toBe('tool_calls');
    expect(result.content).toBeNull();
    expect(result.tool_calls).toEqual([
      { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { id: 'toolu_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
    ]);
  });

  it.each([
    ['none', { type: 'none' }],
    ['auto', { type: 'auto' }],
    [
      { type: 'function', function: { name: 'lookup' } },
      { type: 'tool', name: 'lookup' },
    ],
  ] as const)('maps tool_choice %j to %j', async (choice, expected) => {
    await adapter.complete(
      call({
        tools: [{ type: 'function', function: { name: 'lookup' } }],
        tool_choice: choice as ChatRequest['tool_choice'],
      }),
    );
    expect(sent().tool_choice).toEqual(expected);
  });

  it('sends the assistant tool calls as tool_use and merges parallel tool results into one user turn', async () => {
    await adapter.complete(
      call({
        messages: [
          { role: 'user', content: 'Weather and time in Paris?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'toolu_a',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
              { id: 'toolu_b', type: 'function', function: { name: 'get_time', arguments: 'not json' } },
            ],
          },
          { role: 'tool', tool_call_id: 'toolu_a', content: '18°C' },
          { role: 'tool', tool_call_id: 'toolu_b', content: [{ type: 'text', text: '14:00' }] },
        ],
      }),
    );
    expect(sent().messages).toEqual([
      { role: 'user', content: 'Weather and time in Paris?' },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'toolu_a', name: 'get_weather', input: { city: 'Paris' } },
          // Malformed arguments from an earlier turn are replayed as an empty input.
          { type: 'tool_use', id: 'toolu_b', name: 'get_time', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_a', content: '18°C' },
          { type: 'tool_result', tool_use_id: 'toolu_b', content: '14:00' },
        ],
      },
    ]);
  });

  it('sends data-URL images as base64 sources and http URLs as url sources', async () => {
    await adapter.complete(
      call({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Compare these.' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
            ],
          },
        ],
      }),
    );
    expect(sent().messages[0].content).toEqual([
      { type: 'text', text: 'Compare these.' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
  });

  it('refuses audio input with a 400 before calling upstream', async () => {
    const err = await failure(
      adapter.complete(
        call({
          messages: [
            {
              role: 'user',
              content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }],
            },
          ],
        }),
      ),
    );
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/audio/);
    expect(fake.received).toHaveLength(0);
  });

  it('implements json_object with a system instruction and strips a ```json fence from the answer', async () => {
    fake.enqueue({ text: '```json\n{"answer": 42}\n```' });
    const result = await adapter.complete(
      call({
        messages: [
          { role: 'system', content: 'Be precise.' },
          { role: 'user', content: 'Answer?' },
        ],
        response_format: { type: 'json_object' },
      }),
    );
    expect(result.content).toBe('{"answer": 42}');
    expect(sent().system).toMatch(/^Be precise\.\n\n.*valid JSON object/s);
  });

  it('puts the json_schema schema into the instruction', async () => {
    fake.enqueue({ text: '{"name":"Ada"}' });
    const schema = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
    const result = await adapter.complete(
      call({ response_format: { type: 'json_schema', json_schema: { name: 'person', schema } } }),
    );
    expect(result.content).toBe('{"name":"Ada"}');
    expect(sent().system).toContain('"person"');
    expect(sent().system).toContain(JSON.stringify(schema));
  });

  it('leaves a fence alone when JSON mode was not asked for', async () => {
    fake.enqueue({ text: '```json\n{}\n```' });
    const result = await adapter.complete(call({}));
    expect(result.content).toBe('```json\n{}\n```');
  });

  it('maps stop and max tokens, preferring max_completion_tokens', async () => {
    await adapter.complete(call({ stop: 'END', max_tokens: 50, max_completion_tokens: 80 }));
    expect(sent()).toMatchObject({ stop_sequences: ['END'], max_tokens: 80 });
    await adapter.complete(call({ stop: ['a', 'b'], max_tokens: 50 }));
    expect(sent(1)).toMatchObject({ stop_sequences: ['a', 'b'], max_tokens: 50 });
  });

  it('drops temperature and top_p, which API version 2026-10-21 rejects, so the request still succeeds', async () => {
    const result = await adapter.complete(call({ temperature: 1.7, top_p: 0.9 }));
    expect(result.content).toBe('anthropic says: Hello there');
    expect(sent()).not.toHaveProperty('temperature');
    expect(sent()).not.toHaveProperty('top_p');
  });

  it('sends temperature clamped to 1 and top_p when the operator pins anthropic-version 2023-06-01', async () => {
    const legacy = createAnthropicAdapter(providerConfig({ headers: { 'anthropic-version': '2023-06-01' } }));
    await legacy.complete(call({ temperature: 1.7, top_p: 0.9 }));
    expect(fake.received[0]!.headers['anthropic-version']).toBe('2023-06-01');
    expect(sent()).toMatchObject({ temperature: 1, top_p: 0.9 });
    await legacy.complete(call({ temperature: 0.3 }));
    expect(sent(1).temperature).toBe(0.3);
  });

  it('counts cache reads and writes into prompt tokens and reports cached tokens', async () => {
    const reply: AnthropicFakeReply = {
      text: 'ok',
      usage: { input: 100, output: 20, cached: 30 },
      cacheCreation: 10,
    };
    fake.enqueue(reply);
    const result = await adapter.complete(call({}));
    expect(result.usage).toEqual({ prompt_tokens: 100, completion_tokens: 20, cached_tokens: 30 });
  });

  it.each([
    ['length', 'max_tokens', 'length'],
    ['content_filter', 'refusal', 'content_filter'],
  ] as const)('maps finish %s (Anthropic %s) back to %s', async (finish, _stopReason, expected) => {
    fake.enqueue({ text: 'partial', finish });
    const result = await adapter.complete(call({}));
    expect(result.finish_reason).toBe(expected);
  });
});

describe('anthropic adapter: errors', () => {
  it('reports "prompt is too long" as context_length with the provider message', async () => {
    fake.enqueue({ error: { status: 400, message: 'prompt is too long: 210000 tokens > 200000 maximum' } });
    const err = await failure(adapter.complete(call({})));
    expect(err).toMatchObject({
      status: 400,
      failure: 'context_length',
      code: 'invalid_request_error',
      provider: 'claude',
    });
    expect(err.message).toBe('prompt is too long: 210000 tokens > 200000 maximum');
    expect(err.retryable).toBe(false);
  });

  it('reports other 400s as client errors, not retryable', async () => {
    fake.enqueue({ error: { status: 400, message: 'messages.0.content: Field required' } });
    const err = await failure(adapter.complete(call({})));
    expect(err).toMatchObject({ status: 400, failure: 'http', isClientError: true, retryable: false });
  });

  it('carries retry-after from a 429', async () => {
    fake.enqueue({
      error: {
        status: 429,
        message: 'Number of request tokens has exceeded your rate limit',
        retryAfterSeconds: 7,
      },
    });
    const err = await failure(adapter.complete(call({})));
    expect(err).toMatchObject({ status: 429, code: 'rate_limit_error', retryAfterMs: 7000, retryable: true });
    // maxRetries 0: the SDK must not retry on its own; the gateway decides.
    expect(fake.received).toHaveLength(1);
  });

  it('marks 500 and 529 overloaded as retryable', async () => {
    fake.enqueue({ error: { status: 500, message: 'Internal server error' } });
    fake.enqueue({ error: { status: 529, message: 'Overloaded' } });
    const e500 = await failure(adapter.complete(call({})));
    const e529 = await failure(adapter.complete(call({})));
    expect(e500).toMatchObject({ status: 500, code: 'api_error', retryable: true });
    expect(e529).toMatchObject({
      status: 529,
      code: 'overloaded_error',
      message: 'Overloaded',
      retryable: true,
    });
  });

  it('prefers the error_code detail as the code when the API gives one', async () => {
    fake.enqueue({ error: { status: 400, message: 'Image too large', code: 'image_dimensions_too_large' } });
    const err = await failure(adapter.complete(call({})));
    expect(err.code).toBe('image_dimensions_too_large');
  });

  it('times out after timeout_ms', async () => {
    const slow = createAnthropicAdapter(providerConfig({ timeout_ms: 150 }));
    fake.enqueue({ latencyMs: 2000 });
    const err = await failure(slow.complete(call({})));
    expect(err).toMatchObject({ status: 0, failure: 'timeout', retryable: true });
    expect(fake.received).toHaveLength(1);
  });

  it('reports a refused connection as a connection failure', async () => {
    const down = createAnthropicAdapter(providerConfig({ base_url: 'http://127.0.0.1:1' }));
    const err = await failure(down.complete(call({})));
    expect(err).toMatchObject({ status: 0, failure: 'connection', retryable: true });
  });

  it('reports an unparseable 200 body as bad_response', async () => {
    fake.enqueue({ raw: '{"type":"message","content":' });
    const err = await failure(adapter.complete(call({})));
    expect(err.failure).toBe('bad_response');
  });

  it('reports our own abort as aborted, and the fake sees the client go away', async () => {
    const controller = new AbortController();
    fake.enqueue({ hang: true });
    const pending = adapter.complete(call({}, controller.signal));
    while (fake.received.length === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    const err = await failure(pending);
    expect(err.failure).toBe('aborted');
    await fake.received[0]!.done;
    expect(fake.received[0]!.aborted).toBe(true);
  });
});
