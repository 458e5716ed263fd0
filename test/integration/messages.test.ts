/**
 * The Anthropic Messages surface through the official `@anthropic-ai/sdk` pointed at Quorum: each case
 * against an Anthropic-typed fake (the passthrough: the upstream must receive the client's bytes with
 * only `model` changed) and an OpenAI-typed fake (the translation through the chat pipeline).
 */
import Anthropic from '@anthropic-ai/sdk';
import type { MessageParam, Tool } from '@anthropic-ai/sdk/resources/messages';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AnthropicFakeReply } from '../fakes/anthropic.ts';
import type { FakeServer } from '../fakes/harness.ts';
import { type Fakes, fakesConfig, startFakes, startGateway, type TestGateway } from './helpers/gateway.ts';

const KEY = 'qk-messages-team-0001';
let fakes: Fakes;
let gw: TestGateway;
/** Each body the SDK sent, as text. */
let sent: string[] = [];

function sdk(options: { apiKey?: string; authToken?: string; headers?: Record<string, string> } = {}) {
  return new Anthropic({
    baseURL: gw.url,
    ...(options.authToken
      ? { authToken: options.authToken, apiKey: null }
      : { apiKey: options.apiKey ?? KEY }),
    maxRetries: 0,
    ...(options.headers ? { defaultHeaders: options.headers } : {}),
    fetch: async (url: string | URL | Request, init?: RequestInit) => {
      if (typeof init?.body === 'string') sent.push(init.body);
      return fetch(url, init);
    },
  });
}

beforeAll(async () => {
  fakes = await startFakes();
  gw = await startGateway(
    fakesConfig(fakes, {
      teams: [{ id: 'coders' }],
      keys: [{ key: KEY, team: 'coders', name: 'claude-code' }],
    }),
  );
});
afterAll(async () => {
  await gw?.close();
  await fakes?.close();
});
beforeEach(() => {
  fakes.anthropic.reset();
  fakes.openai.reset();
  sent = [];
});

/** What the Anthropic upstream must receive: the client's body, its model renamed, nothing else. */
const upstreamBody = (clientBody: string) => clientBody.replace('"model":"an-model"', '"model":"claude-up"');

const weather: Tool[] = [
  {
    name: 'get_weather',
    description: 'Current weather for a city',
    input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
];

const PATHS = [
  { path: 'passthrough', model: 'an-model', fake: 'anthropic' as const },
  { path: 'translated', model: 'oa-model', fake: 'openai' as const },
];

describe.each(PATHS)('the $path path ($model)', ({ path, model, fake }) => {
  const upstream = (): FakeServer => fakes[fake];

  it('answers a system prompt of several blocks, naming the catalog model, with x-quorum headers', async () => {
    upstream().enqueue({ text: 'Bonjour.', usage: { input: 40, output: 3 } });
    const { data, response } = await sdk()
      .messages.create({
        model,
        max_tokens: 64,
        system: [
          { type: 'text', text: 'You are terse.' },
          { type: 'text', text: 'Answer in French.' },
        ],
        messages: [{ role: 'user', content: 'Say hello.' }],
      })
      .withResponse();
    expect(data.type).toBe('message');
    expect(data.role).toBe('assistant');
    expect(data.model).toBe(model);
    expect(data.content).toEqual([expect.objectContaining({ type: 'text', text: 'Bonjour.' })]);
    expect(data.stop_reason).toBe('end_turn');
    expect(data.usage.input_tokens + (data.usage.cache_read_input_tokens ?? 0)).toBe(40);
    expect(data.usage.output_tokens).toBe(3);
    expect(response.headers.get('x-quorum-model')).toBe(model);
    expect(Number(response.headers.get('x-quorum-cost-usd'))).toBeGreaterThan(0);
    expect(response.headers.get('x-quorum-request-id')).toMatch(/^[0-9a-f]{32}$/);
    // Anthropic's SDKs read the request id from `request-id`.
    expect(response.headers.get('request-id')).toBe(response.headers.get('x-quorum-request-id'));
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('x-quorum-overhead-ms')).not.toBeNull();

    const received = upstream().received[0]!;
    if (path === 'passthrough') {
      expect(received.raw).toBe(upstreamBody(sent[0]!));
    } else {
      // One system message of two parts, not two system messages.
      const systems = received.body.messages.filter((m: any) => m.role === 'system');
      expect(systems).toEqual([
        {
          role: 'system',
          content: [
            { type: 'text', text: 'You are terse.' },
            { type: 'text', text: 'Answer in French.' },
          ],
        },
      ]);
      expect(received.body.model).toBe('gpt-up');
    }
  });

  it('calls a tool, then reads its result in the second turn', async () => {
    upstream().enqueue({
      toolCalls: [{ id: 'toolu_01', name: 'get_weather', arguments: '{"city":"Paris"}' }],
    });
    const client = sdk();
    const question: MessageParam = { role: 'user', content: 'Weather in Paris?' };
    const first = await client.messages.create({
      model,
      max_tokens: 200,
      tools: weather,
      messages: [question],
    });
    expect(first.stop_reason).toBe('tool_use');
    const call = first.content.find((b) => b.type === 'tool_use')!;
    expect(call).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'Paris' } });

    upstream().enqueue({ text: 'It is sunny in Paris.' });
    const second = await client.messages.create({
      model,
      max_tokens: 200,
      tools: weather,
      messages: [
        question,
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: call.id, content: '21°C, sunny' }],
        },
      ],
    });
    expect(second.content).toEqual([
      expect.objectContaining({ type: 'text', text: 'It is sunny in Paris.' }),
    ]);

    const received = upstream().received[1]!;
    if (path === 'passthrough') {
      expect(received.raw).toBe(upstreamBody(sent[1]!));
    } else {
      const messages = received.body.messages;
      expect(messages.at(-2)).toMatchObject({
        role: 'assistant',
        tool_calls: [{ id: call.id, type: 'function', function: { name: 'get_weather' } }],
      });
      expect(JSON.parse(messages.at(-2).tool_calls[0].function.arguments)).toEqual({ city: 'Paris' });
      expect(messages.at(-1)).toEqual({ role: 'tool', tool_call_id: call.id, content: '21°C, sunny' });
      expect(received.body.tools[0].function).toMatchObject({
        name: 'get_weather',
        parameters: weather[0]!.input_schema,
      });
    }
  });

  it('streams an answer whose final message carries the usage', async () => {
    upstream().enqueue({ text: 'one two three four', usage: { input: 12, output: 4 } });
    const stream = sdk().messages.stream({
      model,
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Count to four.' }],
    });
    const texts: string[] = [];
    stream.on('text', (t) => texts.push(t));
    const final = await stream.finalMessage();
    expect(texts.join('')).toBe('one two three four');
    expect(final.model).toBe(model);
    expect(final.content).toEqual([expect.objectContaining({ type: 'text', text: 'one two three four' })]);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.output_tokens).toBe(4);
    expect(final.usage.input_tokens + (final.usage.cache_read_input_tokens ?? 0)).toBe(12);
    if (path === 'passthrough') expect(upstream().received[0]!.raw).toBe(upstreamBody(sent[0]!));
  });

  it('streams tool calls as tool_use blocks', async () => {
    upstream().enqueue({
      toolCalls: [{ id: 'toolu_02', name: 'get_weather', arguments: '{"city":"Oslo"}' }],
    });
    const final = await sdk()
      .messages.stream({
        model,
        max_tokens: 100,
        tools: weather,
        messages: [{ role: 'user', content: 'Oslo?' }],
      })
      .finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content.find((b) => b.type === 'tool_use')).toMatchObject({
      name: 'get_weather',
      input: { city: 'Oslo' },
    });
  });

  it('counts tokens', async () => {
    upstream().enqueue({ usage: { input: 321 } });
    const count = await sdk().messages.countTokens({
      model,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'How many tokens is this sentence?' }],
    });
    if (path === 'passthrough') {
      // The provider's own count, asked with the client's body.
      expect(count).toEqual({ input_tokens: 321 });
      expect(upstream().received[0]!.path).toBe('/v1/messages/count_tokens');
      expect(upstream().received[0]!.raw).toBe(upstreamBody(sent[0]!));
    } else {
      // Quorum's own estimate: no upstream call.
      expect(count.input_tokens).toBeGreaterThan(5);
      expect(count.input_tokens).toBeLessThan(40);
      expect(upstream().received).toHaveLength(0);
    }
  });
});

describe('thinking blocks', () => {
  const SIGNATURE = 'EqQBCkYIBRgCKkBzaWduYXR1cmUvKz0=';

  it('passthrough: the signature goes back upstream in the next turn byte for byte', async () => {
    fakes.anthropic.enqueue({
      text: 'The answer is 42.',
      thinking: { thinking: 'Six times seven…', signature: SIGNATURE },
      redactedThinking: 'ENCRYPTED/+=',
    } as AnthropicFakeReply);
    const client = sdk();
    const question: MessageParam = { role: 'user', content: 'What is six times seven?' };
    const first = await client.messages.create({
      model: 'an-model',
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [question],
    });
    expect(first.content[0]).toEqual({
      type: 'thinking',
      thinking: 'Six times seven…',
      signature: SIGNATURE,
    });
    expect(first.content[1]).toEqual({ type: 'redacted_thinking', data: 'ENCRYPTED/+=' });

    fakes.anthropic.enqueue({ text: 'Yes.' });
    await client.messages.create({
      model: 'an-model',
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [question, { role: 'assistant', content: first.content }, { role: 'user', content: 'Sure?' }],
    });
    const raw = fakes.anthropic.received[1]!.raw;
    expect(raw).toBe(upstreamBody(sent[1]!));
    expect(raw).toContain(`"signature":"${SIGNATURE}"`);
    expect(raw).toContain('"data":"ENCRYPTED/+="');
  });

  it('passthrough: a streamed thinking block arrives with its signature (thinking_delta, signature_delta)', async () => {
    fakes.anthropic.enqueue({
      text: 'Done.',
      thinking: { thinking: 'Let me think about this carefully.', signature: SIGNATURE },
    } as AnthropicFakeReply);
    const stream = sdk().messages.stream({
      model: 'an-model',
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: 'Think.' }],
    });
    const thinking: string[] = [];
    stream.on('thinking', (delta) => thinking.push(delta));
    const final = await stream.finalMessage();
    expect(thinking.join('')).toBe('Let me think about this carefully.');
    expect(final.content[0]).toEqual({
      type: 'thinking',
      thinking: 'Let me think about this carefully.',
      signature: SIGNATURE,
    });
    expect(final.content[1]).toMatchObject({ type: 'text', text: 'Done.' });
  });

  it('translated: thinking in the history is refused naming the feature, and nothing is called', async () => {
    const err = await sdk()
      .messages.create({
        model: 'oa-model',
        max_tokens: 100,
        messages: [
          { role: 'user', content: 'Hi' },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'hmm', signature: SIGNATURE },
              { type: 'text', text: 'Hello' },
            ],
          },
          { role: 'user', content: 'And?' },
        ],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    const e = err as InstanceType<typeof Anthropic.BadRequestError>;
    expect(e.status).toBe(400);
    expect(e.type).toBe('invalid_request_error');
    expect(e.message).toMatch(/messages\[1\]\.content\[0\].*thinking.*oa-model/);
    expect(fakes.openai.received).toHaveLength(0);
  });

  it('translated: thinking enabled for a non-Anthropic model is refused', async () => {
    const err = await sdk()
      .messages.create({
        model: 'oa-model',
        max_tokens: 2048,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: [{ role: 'user', content: 'Think hard.' }],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as Error).message).toMatch(/thinking.*extended thinking.*oa-model/);
    expect(fakes.openai.received).toHaveLength(0);
  });
});

describe('prompt caching', () => {
  const cached = {
    model: 'an-model',
    max_tokens: 100,
    system: [
      {
        type: 'text' as const,
        text: 'A long shared preamble.',
        cache_control: { type: 'ephemeral' as const, ttl: '1h' as const },
      },
    ],
    messages: [
      {
        role: 'user' as const,
        content: [{ type: 'text' as const, text: 'Question', cache_control: { type: 'ephemeral' as const } }],
      },
    ],
  };

  it('passthrough: cache_control reaches the upstream intact, and cache usage comes back', async () => {
    fakes.anthropic.enqueue({
      text: 'ok',
      usage: { input: 1000, output: 5, cached: 600 },
      cacheCreation: 300,
    } as AnthropicFakeReply);
    const message = await sdk().messages.create(cached);
    const raw = fakes.anthropic.received[0]!.raw;
    expect(raw).toBe(upstreamBody(sent[0]!));
    expect(fakes.anthropic.received[0]!.body.system[0].cache_control).toEqual({
      type: 'ephemeral',
      ttl: '1h',
    });
    expect(message.usage).toMatchObject({
      input_tokens: 100,
      cache_read_input_tokens: 600,
      cache_creation_input_tokens: 300,
      output_tokens: 5,
    });
  });

  it('translated: cache markers are left out (OpenAI-compatible upstreams cache prefixes themselves)', async () => {
    fakes.openai.enqueue({ text: 'ok', usage: { input: 1000, output: 5, cached: 600 } });
    const message = await sdk().messages.create({ ...cached, model: 'oa-model' });
    expect(fakes.openai.received[0]!.raw).not.toContain('cache_control');
    expect(message.usage).toMatchObject({
      input_tokens: 400,
      cache_read_input_tokens: 600,
      output_tokens: 5,
    });
  });
});

describe('headers and keys', () => {
  it('anthropic-version and anthropic-beta go upstream as the client sent them', async () => {
    fakes.anthropic.enqueue({ text: 'ok' });
    await sdk({
      headers: { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'context-1m-2025-08-07' },
    }).messages.create({
      model: 'an-model',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const headers = fakes.anthropic.received[0]!.headers;
    expect(headers['anthropic-version']).toBe('2023-06-01');
    expect(headers['anthropic-beta']).toBe('context-1m-2025-08-07');
    // The client's Quorum key never goes upstream; the provider's key does.
    expect(headers['x-api-key']).toBe('sk-ant-upstream-secret');
    expect(JSON.stringify(headers)).not.toContain(KEY);
  });

  it('accepts the key as x-api-key (ANTHROPIC_API_KEY) and as a bearer token (ANTHROPIC_AUTH_TOKEN)', async () => {
    fakes.anthropic.respond({ text: 'ok' });
    const viaHeader = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'an-model',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    expect(viaHeader.status).toBe(200);
    const viaToken = await sdk({ authToken: KEY }).messages.create({
      model: 'an-model',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(viaToken.content[0]).toMatchObject({ text: 'ok' });
  });

  it('passes the body on byte for byte: escapes, spacing, key order and unknown fields', async () => {
    fakes.anthropic.enqueue({ text: 'ok' });
    const body =
      '{ "messages" : [ {"role":"user","content":[{"type":"text","text":"caf\\u00e9 \\/ \\"quoted\\"","cache_control":{"type":"ephemeral"}}]} ],\n' +
      '  "model" :  "an-model", "max_tokens": 1.0e1, "a_future_field": {"x": [1, 2.50]} }';
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body,
    });
    expect(res.status).toBe(200);
    expect(fakes.anthropic.received[0]!.raw).toBe(body.replace('"an-model"', '"claude-up"'));
  });

  it("answers with the upstream's bytes, only the model renamed", async () => {
    const upstreamText =
      '{"id":"msg_1","type":"message","role":"assistant","model":"claude-up-20250101","content":[{"type":"text","text":"caf\\u00e9","citations":null}],' +
      '"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":2.0},"future":{"a":1}}';
    fakes.anthropic.enqueue({ raw: upstreamText });
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify({
        model: 'an-model',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(upstreamText.replace('"claude-up-20250101"', '"an-model"'));
  });

  it('a translated answer may carry the quorum record as one extra field', async () => {
    fakes.openai.enqueue({ text: 'ok', usage: { input: 10, output: 2 } });
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify({
        model: 'oa-model',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    const body = (await res.json()) as any;
    expect(body.id).toMatch(/^msg_/);
    expect(body.quorum).toMatchObject({ attempts: [{ model: 'oa-model', status: 200 }] });
    expect(body.quorum.cost_usd).toBe(Number(res.headers.get('x-quorum-cost-usd')));
  });
});

describe("Quorum's own field", () => {
  it('`quorum` is honoured (tags, fallbacks) and never sent upstream', async () => {
    fakes.anthropic.enqueue({ error: { status: 529, type: 'overloaded_error', message: 'Overloaded' } });
    const body = JSON.stringify({
      model: 'an-model',
      quorum: { fallbacks: [], tags: { feature: 'review' } },
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body,
    });
    // Fallback off: the overloaded model alone, so Anthropic's 529.
    expect(res.status).toBe(529);
    expect(fakes.anthropic.received[0]!.raw).toBe(
      '{"model":"claude-up","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}',
    );
  });
});

describe('fan-outs', () => {
  it('an inline ensemble fans out through the chat pipeline, whatever model the body names', async () => {
    fakes.anthropic.respond({ text: '391' });
    fakes.openai.respond({ text: '391' });
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify({
        model: 'an-model',
        max_tokens: 50,
        quorum: { ensemble: { strategy: 'consensus', models: ['an-model', 'oa-model'], judge: 'oa-model' } },
        messages: [{ role: 'user', content: 'What is 17 * 23?' }],
      }),
    });
    const body = (await res.json()) as any;
    expect(res.status).toBe(200);
    expect(body.type).toBe('message');
    expect(body.content[0].text).toBe('391');
    expect(body.quorum).toMatchObject({ strategy: 'consensus', agreement: 1 });
    expect(fakes.anthropic.received.length).toBeGreaterThan(0);
    expect(fakes.openai.received.length).toBeGreaterThan(0);
  });
});

describe('GET /openapi.json', () => {
  it('documents both paths, their Anthropic-shaped errors and the x-api-key scheme', async () => {
    const doc = (await (await fetch(`${gw.url}/openapi.json`)).json()) as any;
    const post = doc.paths['/v1/messages'].post;
    expect(post.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/MessagesRequest',
    );
    expect(Object.keys(post.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '404', '429', '529']),
    );
    expect(post.responses['401'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/AnthropicError',
    );
    expect(
      doc.paths['/v1/messages/count_tokens'].post.requestBody.content['application/json'].schema.$ref,
    ).toBe('#/components/schemas/MessagesCountTokensRequest');
    expect(doc.components.schemas.MessagesRequest.required).toEqual(
      expect.arrayContaining(['model', 'messages', 'max_tokens']),
    );
    expect(doc.components.securitySchemes.apiKey).toEqual({
      type: 'apiKey',
      in: 'header',
      name: 'x-api-key',
    });
  });
});
