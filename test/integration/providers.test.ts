/**
 * The first promise: an app changes only its baseURL and key, and its OpenAI SDK code works unchanged
 * against every provider type. Each test runs through the real gateway, the real provider SDK and a fake
 * upstream speaking that provider's wire protocol.
 */
import type { APIError, default as OpenAI } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeServer } from '../fakes/harness.ts';
import {
  type Fakes,
  fakesConfig,
  PROVIDERS,
  startFakes,
  startGateway,
  type TestGateway,
} from './helpers/gateway.ts';

let fakes: Fakes;
let gw: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  fakes = await startFakes();
  gw = await startGateway(fakesConfig(fakes));
  client = gw.client();
});
afterAll(async () => {
  await gw.close();
  await fakes.close();
});
beforeEach(() => {
  fakes.openai.reset();
  fakes.anthropic.reset();
  fakes.gemini.reset();
});

/** Where each provider's wire format puts things, for checking what the upstream received. */
const wire = {
  openai: {
    userParts: (body: any) => body.messages.at(-1).content,
    hasImage: (body: any, url: string) => JSON.stringify(body.messages).includes(url.slice(0, 40)),
    jsonRequested: (body: any) => body.response_format?.type === 'json_object',
    toolNames: (body: any) => body.tools.map((t: any) => t.function.name),
    toolResults: (body: any) =>
      body.messages.filter((m: any) => m.role === 'tool').map((m: any) => m.content),
  },
  anthropic: {
    hasImage: (body: any, url: string) =>
      JSON.stringify(body.messages).includes(url.startsWith('data:') ? url.split(',')[1]!.slice(0, 40) : url),
    jsonRequested: (body: any) => /JSON/.test(JSON.stringify(body.system ?? '')),
    toolNames: (body: any) => body.tools.map((t: any) => t.name),
    toolResults: (body: any) =>
      body.messages
        .flatMap((m: any) => (Array.isArray(m.content) ? m.content : []))
        .filter((b: any) => b.type === 'tool_result')
        .map((b: any) =>
          typeof b.content === 'string' ? b.content : b.content.map((c: any) => c.text).join(''),
        ),
  },
  gemini: {
    hasImage: (body: any, url: string) =>
      JSON.stringify(body.contents).includes(url.startsWith('data:') ? url.split(',')[1]!.slice(0, 40) : url),
    jsonRequested: (body: any) => body.generationConfig?.responseMimeType === 'application/json',
    toolNames: (body: any) =>
      body.tools.flatMap((t: any) => t.functionDeclarations ?? []).map((d: any) => d.name),
    toolResults: (body: any) =>
      body.contents
        .flatMap((c: any) => c.parts)
        .filter((p: any) => p.functionResponse)
        .map((p: any) => JSON.stringify(p.functionResponse.response)),
  },
};

const weatherTools: OpenAI.Chat.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather for a city',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' } },
        required: ['city'],
        additionalProperties: false,
      },
    },
  },
  {
    type: 'function',
    function: { name: 'get_time', parameters: { type: 'object', properties: { tz: { type: 'string' } } } },
  },
];

// A 1×1 PNG.
const PNG =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

describe.each(PROVIDERS)('through the OpenAI SDK to a $type upstream', ({ type, model, upstream }) => {
  const fake = (): FakeServer => fakes[type];

  it('answers text with the catalog model name, usage and an exact cost', async () => {
    fake().enqueue({ text: 'Paris is the capital of France.', usage: { input: 100, output: 20 } });
    const { data, response } = await client.chat.completions
      .create({
        model,
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Capital of France?' },
        ],
      })
      .withResponse();
    expect(data.choices[0]!.message.content).toBe('Paris is the capital of France.');
    expect(data.choices[0]!.finish_reason).toBe('stop');
    expect(data.model).toBe(model);
    expect(data.usage).toMatchObject({ prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 });
    const price = fakesConfig(fakes).models as { id: string; price: { input: number; output: number } }[];
    const p = price.find((m) => m.id === model)!.price;
    const expected = (100 * p.input + 20 * p.output) / 1e6;
    expect(Number(response.headers.get('x-quorum-cost-usd'))).toBe(expected);
    expect(response.headers.get('x-quorum-model')).toBe(model);
    expect(response.headers.get('x-quorum-request-id')).toMatch(/^[0-9a-f]{32}$/);
    // A number of milliseconds, present: Number(null) would be 0 and pass.
    expect(response.headers.get('x-quorum-overhead-ms')).toMatch(/^\d+(\.\d+)?$/);
    expect((data as any).quorum).toMatchObject({
      cost_usd: expected,
      attempts: [{ model, status: 200 }],
    });
    // The upstream was asked for the upstream name, not the client's.
    expect(
      JSON.stringify(fake().received[0]!.body).includes(upstream) ||
        fake().received[0]!.path.includes(upstream),
    ).toBe(true);
  });

  it('streams deltas in order and ends with usage and the quorum record', async () => {
    fake().enqueue({ text: 'one two three four five', usage: { input: 30, output: 5 } });
    const stream = await client.chat.completions.create({
      model,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Count to five' }],
    });
    const pieces: string[] = [];
    const chunks: any[] = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      const delta = chunk.choices[0]?.delta?.content;
      if (delta) pieces.push(delta);
    }
    expect(pieces.join('')).toBe('one two three four five');
    expect(pieces.length).toBeGreaterThan(1);
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(finish.choices[0].finish_reason).toBe('stop');
    const last = chunks.at(-1);
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 30, completion_tokens: 5, total_tokens: 35 });
    expect(last.quorum.cost_usd).toBeGreaterThan(0);
    expect(last.quorum.attempts).toEqual([{ model, provider: expect.any(String), status: 200 }]);
    expect(chunks.every((c) => c.model === model)).toBe(true);
  });

  it('puts usage on the finishing chunk when include_usage is not set', async () => {
    fake().enqueue({ text: 'short answer', usage: { input: 7, output: 2 } });
    const stream = await client.chat.completions.create({
      model,
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const chunks: any[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1);
    expect(last.choices[0].finish_reason).toBe('stop');
    expect(last.usage.total_tokens).toBe(9);
    expect(last.quorum.request_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('returns parallel tool calls and accepts their results on the next turn', async () => {
    fake().enqueue({
      toolCalls: [
        { id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { id: 'call_b', name: 'get_time', arguments: '{"tz":"Europe/Paris"}' },
      ],
    });
    const first = await client.chat.completions.create({
      model,
      tools: weatherTools,
      tool_choice: 'auto',
      messages: [{ role: 'user', content: 'Weather and time in Paris?' }],
    });
    const msg = first.choices[0]!.message;
    expect(first.choices[0]!.finish_reason).toBe('tool_calls');
    expect(
      msg.tool_calls?.map(
        (c) => c.type === 'function' && [c.function.name, JSON.parse(c.function.arguments)],
      ),
    ).toEqual([
      ['get_weather', { city: 'Paris' }],
      ['get_time', { tz: 'Europe/Paris' }],
    ]);
    expect(wire[type].toolNames(fake().received[0]!.body)).toEqual(['get_weather', 'get_time']);

    fake().enqueue({ text: 'Sunny, and it is noon.' });
    const second = await client.chat.completions.create({
      model,
      tools: weatherTools,
      messages: [
        { role: 'user', content: 'Weather and time in Paris?' },
        msg as OpenAI.Chat.ChatCompletionMessageParam,
        ...msg.tool_calls!.map((c, i) => ({
          role: 'tool' as const,
          tool_call_id: c.id,
          content: i === 0 ? '{"temp_c":21}' : '12:00',
        })),
      ],
    });
    expect(second.choices[0]!.message.content).toBe('Sunny, and it is noon.');
    const results = wire[type].toolResults(fake().received[1]!.body).join(' ');
    expect(results).toContain('21');
    expect(results).toContain('12:00');
  });

  it('streams tool-call deltas that keep their indices and ids', async () => {
    fake().enqueue({
      text: type === 'gemini' ? '' : 'Let me check.',
      toolCalls: [
        { id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { id: 'call_b', name: 'get_time', arguments: '{"tz":"UTC"}' },
      ],
    });
    const stream = await client.chat.completions.create({
      model,
      stream: true,
      tools: weatherTools,
      messages: [{ role: 'user', content: 'Weather and time?' }],
    });
    const calls: { id?: string; name?: string; args: string }[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const d of chunk.choices[0]?.delta?.tool_calls ?? []) {
        calls[d.index] ??= { args: '' };
        const call = calls[d.index]!;
        if (d.id) call.id = d.id;
        if (d.function?.name) call.name = d.function.name;
        call.args += d.function?.arguments ?? '';
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(calls).toHaveLength(2);
    expect(calls.map((c) => c.name)).toEqual(['get_weather', 'get_time']);
    expect(calls.map((c) => JSON.parse(c.args))).toEqual([{ city: 'Paris' }, { tz: 'UTC' }]);
    expect(calls.every((c) => typeof c.id === 'string' && c.id.length > 0)).toBe(true);
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);
    expect(finish).toBe('tool_calls');
  });

  it('supports JSON mode', async () => {
    fake().enqueue({
      text:
        type === 'anthropic'
          ? '```json\n{"city":"Paris","country":"France"}\n```'
          : '{"city":"Paris","country":"France"}',
    });
    const res = await client.chat.completions.create({
      model,
      response_format: { type: 'json_object' },
      messages: [{ role: 'user', content: 'Return the capital of France as JSON' }],
    });
    expect(JSON.parse(res.choices[0]!.message.content!)).toEqual({ city: 'Paris', country: 'France' });
    expect(wire[type].jsonRequested(fake().received[0]!.body)).toBe(true);
  });

  it('passes images given as data URLs and http URLs', async () => {
    fake().enqueue({ text: 'A red dot.' }, { text: 'A cat.' });
    for (const url of [PNG, 'https://example.com/cat.jpg']) {
      const res = await client.chat.completions.create({
        model,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in this image?' },
              { type: 'image_url', image_url: { url } },
            ],
          },
        ],
      });
      expect(res.choices[0]!.message.content).toMatch(/A (red dot|cat)\./);
    }
    expect(wire[type].hasImage(fake().received[0]!.body, PNG)).toBe(true);
    expect(wire[type].hasImage(fake().received[1]!.body, 'https://example.com/cat.jpg')).toBe(true);
  });

  it("relays a provider's 400 (context too long) as a 400 with the provider's message", async () => {
    const message =
      type === 'gemini'
        ? 'The input token count (2000001) exceeds the maximum number of tokens allowed (1048576).'
        : 'prompt is too long: 250000 tokens > 200000 maximum';
    fake().enqueue({ error: { status: 400, message } });
    const err = await client.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'very long' }] })
      .catch((e) => e as APIError);
    expect(err).toBeInstanceOf(Error);
    expect((err as APIError).status).toBe(400);
    expect((err as APIError).error).toMatchObject({
      type: 'invalid_request_error',
      code: 'context_length_exceeded',
    });
    expect((err as APIError).message).toContain(message.slice(0, 30));
  });

  it('answers 502 upstream_failed naming the attempt when the provider fails', async () => {
    fake().enqueue({ error: { status: 500, message: 'upstream exploded' } });
    const err = (await client.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e) => e)) as APIError;
    expect(err.status).toBe(502);
    expect(err.error).toMatchObject({ type: 'upstream_error', code: 'upstream_failed' });
    expect(err.message).toContain(model);
    expect(err.message).toContain('500');
  });
});
