import { GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeGemini } from '../../../fakes/gemini.ts';
import type { FakeServer } from '../../../fakes/harness.ts';
import { adapterFor, call, MODEL, upstreamError } from './helpers.ts';

let fake: FakeServer;
let adapter: ReturnType<typeof adapterFor>;

beforeAll(async () => {
  fake = await startFakeGemini();
  adapter = adapterFor(fake.url, { headers: { 'x-org': 'acme' } });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const body = (i = 0) => fake.received[i]!.body;

/** A typical app schema as zod-to-json-schema emits it: Gemini refuses several of its keywords. */
const weatherSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  properties: {
    city: { type: 'string', description: 'City name' },
    unit: { $ref: '#/definitions/Unit' },
  },
  required: ['city'],
  additionalProperties: false,
  definitions: { Unit: { type: 'string', enum: ['C', 'F'] } },
};

describe('gemini adapter: complete', () => {
  it('answers a text request through generateContent with the key and configured headers', async () => {
    const result = await adapter.complete(call({}));
    expect(result).toMatchObject({
      content: 'gemini says: Hello there',
      finish_reason: 'stop',
      upstream_model: `${MODEL}-001`,
    });
    expect(result.tool_calls).toBeUndefined();
    const req = fake.received[0]!;
    expect(req.path).toBe(`/v1beta/models/${MODEL}:generateContent`);
    expect(req.headers['x-goog-api-key']).toBe('test-key');
    expect(req.headers['x-org']).toBe('acme');
    expect(req.body.contents).toEqual([{ role: 'user', parts: [{ text: 'Hello there' }] }]);
  });

  it('sends system and developer messages as systemInstruction, not as turns', async () => {
    await adapter.complete(
      call({
        messages: [
          { role: 'system', content: 'Be terse.' },
          { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
          { role: 'user', content: 'Bonjour' },
        ],
      }),
    );
    expect(body().systemInstruction.parts).toEqual([{ text: 'Be terse.' }, { text: 'Answer in French.' }]);
    expect(body().contents).toEqual([{ role: 'user', parts: [{ text: 'Bonjour' }] }]);
  });

  it('maps assistant turns to model and merges consecutive same-role messages', async () => {
    const result = await adapter.complete(
      call({
        messages: [
          { role: 'user', content: 'My name is Ada.' },
          { role: 'user', content: 'Remember it.' },
          { role: 'assistant', content: 'Noted, Ada.' },
          { role: 'user', content: 'What is my name?' },
        ],
      }),
    );
    expect(body().contents).toEqual([
      { role: 'user', parts: [{ text: 'My name is Ada.' }, { text: 'Remember it.' }] },
      { role: 'model', parts: [{ text: 'Noted, Ada.' }] },
      { role: 'user', parts: [{ text: 'What is my name?' }] },
    ]);
    expect(result.content).toBe('gemini says: What is my name?');
  });

  it('sends generation parameters: stop, temperature, topP, max_completion_tokens over max_tokens', async () => {
    await adapter.complete(
      call({
        stop: 'END',
        temperature: 0.3,
        top_p: 0.9,
        max_tokens: 50,
        max_completion_tokens: 200,
        seed: 7,
      }),
    );
    expect(body().generationConfig).toMatchObject({
      stopSequences: ['END'],
      temperature: 0.3,
      topP: 0.9,
      maxOutputTokens: 200,
      seed: 7,
    });
    await adapter.complete(call({ stop: ['a', 'b'], max_tokens: 64 }));
    expect(body(1).generationConfig).toMatchObject({ stopSequences: ['a', 'b'], maxOutputTokens: 64 });
    expect(body(1).generationConfig.temperature).toBeUndefined();
  });

  it('declares tools with cleaned parameters and maps tool_choice to functionCallingConfig', async () => {
    const tools = [
      {
        type: 'function' as const,
        function: { name: 'get_weather', description: 'Weather', parameters: weatherSchema },
      },
      {
        type: 'function' as const,
        function: { name: 'get_time', parameters: { type: 'object', properties: {} } },
      },
    ];
    // Resolving at all means the fake (like Gemini) accepted the declarations.
    await adapter.complete(call({ tools, tool_choice: 'required' }));
    const declarations = body().tools[0].functionDeclarations;
    expect(declarations).toEqual([
      {
        name: 'get_weather',
        description: 'Weather',
        parameters: {
          type: 'OBJECT',
          properties: {
            city: { type: 'STRING', description: 'City name' },
            unit: { type: 'STRING', enum: ['C', 'F'], format: 'enum' },
          },
          required: ['city'],
        },
      },
      // A parameterless tool is declared without parameters (Gemini refuses empty objects).
      { name: 'get_time' },
    ]);
    expect(body().toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } });

    for (const [choice, expected] of [
      ['none', { mode: 'NONE' }],
      ['auto', { mode: 'AUTO' }],
      [
        { type: 'function', function: { name: 'get_time' } },
        { mode: 'ANY', allowedFunctionNames: ['get_time'] },
      ],
    ] as const) {
      fake.reset();
      await adapter.complete(call({ tools, tool_choice: choice }));
      expect(body().toolConfig.functionCallingConfig).toEqual(expected);
    }
  });

  it('returns function calls as tool_calls with ids, JSON arguments and finish tool_calls', async () => {
    fake.enqueue({
      toolCalls: [
        { name: 'get_weather', arguments: '{"city":"Paris"}' },
        { name: 'get_weather', arguments: '{"city":"Rome","unit":"C"}' },
      ],
    });
    const result = await adapter.complete(call({}));
    expect(result.content).toBeNull();
    expect(result.finish_reason).toBe('tool_calls');
    expect(result.tool_calls).toHaveLength(2);
    const [a, b] = result.tool_calls!;
    expect(a!.function).toEqual({ name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect(JSON.parse(b!.function.arguments)).toEqual({ city: 'Rome', unit: 'C' });
    expect(a!.id).toMatch(/^call_[0-9a-f]{24}$/);
    expect(a!.id).not.toBe(b!.id);
  });

  it("keeps Gemini's own function call id when it sends one", async () => {
    fake.enqueue({ text: 'Checking.', toolCalls: [{ id: 'fc-123', name: 'lookup', arguments: '{}' }] });
    const result = await adapter.complete(call({}));
    expect(result.content).toBe('Checking.');
    expect(result.tool_calls![0]).toEqual({
      id: 'fc-123',
      type: 'function',
      function: { name: 'lookup', arguments: '{}' },
    });
  });

  it('replays tool calls as functionCall parts and tool results as one functionResponse turn', async () => {
    await adapter.complete(
      call({
        messages: [
          { role: 'user', content: 'Weather in Paris and Rome?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_a',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
              {
                id: 'call_b',
                type: 'function',
                function: { name: 'get_forecast', arguments: '{"city":"Rome"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'call_b', content: '{"temp":21,"sky":"clear"}' },
          { role: 'tool', tool_call_id: 'call_a', content: 'rainy, 14C' },
        ],
      }),
    );
    const [user, model, results] = body().contents;
    expect(user.role).toBe('user');
    expect(model.role).toBe('model');
    expect(model.parts.map((p: any) => p.functionCall)).toEqual([
      { name: 'get_weather', args: { city: 'Paris' } },
      { name: 'get_forecast', args: { city: 'Rome' } },
    ]);
    // Gemini 3 refuses replayed calls without a thought signature; the documented bypass is sent.
    expect(model.parts[0].thoughtSignature).toBe('skip_thought_signature_validator');
    expect(results).toEqual({
      role: 'user',
      parts: [
        { functionResponse: { name: 'get_forecast', response: { temp: 21, sky: 'clear' } } },
        { functionResponse: { name: 'get_weather', response: { content: 'rainy, 14C' } } },
      ],
    });
    expect(body().contents).toHaveLength(3);
  });

  it('sends data-URL images inline and http images as fileData with a guessed mime type', async () => {
    await adapter.complete(
      call({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Compare these' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.webp?size=large' } },
              { type: 'image_url', image_url: { url: 'https://example.com/photo' } },
            ],
          },
        ],
      }),
    );
    expect(body().contents[0].parts).toEqual([
      { text: 'Compare these' },
      { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
      { fileData: { fileUri: 'https://example.com/cat.webp?size=large', mimeType: 'image/webp' } },
      { fileData: { fileUri: 'https://example.com/photo', mimeType: 'image/jpeg' } },
    ]);
  });

  it('asks for JSON with json_object', async () => {
    fake.enqueue({ text: '{"ok":true}' });
    const result = await adapter.complete(call({ response_format: { type: 'json_object' } }));
    expect(body().generationConfig.responseMimeType).toBe('application/json');
    expect(body().generationConfig.responseSchema).toBeUndefined();
    expect(JSON.parse(result.content!)).toEqual({ ok: true });
  });

  it('sends json_schema as a cleaned responseSchema that Gemini accepts', async () => {
    fake.enqueue({ text: '{"city":"Paris"}' });
    const result = await adapter.complete(
      call({
        response_format: { type: 'json_schema', json_schema: { name: 'weather', schema: weatherSchema } },
      }),
    );
    expect(result.content).toBe('{"city":"Paris"}');
    expect(body().generationConfig).toMatchObject({
      responseMimeType: 'application/json',
      responseSchema: {
        type: 'OBJECT',
        properties: { city: { type: 'STRING' }, unit: { type: 'STRING', enum: ['C', 'F'] } },
        required: ['city'],
        propertyOrdering: ['city', 'unit'],
      },
    });
  });

  it('(proof) the same schema sent uncleaned is refused by the fake, as by Gemini', async () => {
    const { $schema: _, ...withoutDialect } = weatherSchema; // with $schema the SDK would switch fields
    const raw = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: fake.url } });
    const err = await raw.models
      .generateContent({
        model: MODEL,
        contents: 'hi',
        config: { responseMimeType: 'application/json', responseSchema: withoutDialect },
      })
      .then(
        () => null,
        (e: unknown) => e as { status: number; message: string },
      );
    expect(err?.status).toBe(400);
    expect(err?.message).toContain('Unknown name \\"$ref\\"');
  });

  it('reports usage with cached and thinking tokens, and leaves thought text out of the answer', async () => {
    fake.enqueue({ text: 'Forty-two.', usage: { input: 120, output: 8, cached: 100, reasoning: 30 } });
    const result = await adapter.complete(call({}));
    expect(result.content).toBe('Forty-two.');
    expect(result.usage).toEqual({
      prompt_tokens: 120,
      completion_tokens: 38,
      cached_tokens: 100,
      reasoning_tokens: 30,
    });
  });

  it('maps MAX_TOKENS to length and SAFETY to content_filter', async () => {
    fake.enqueue({ text: 'Once upon a', finish: 'length' }, { text: '', finish: 'content_filter' });
    expect((await adapter.complete(call({}))).finish_reason).toBe('length');
    const filtered = await adapter.complete(call({}));
    expect(filtered).toMatchObject({ content: '', finish_reason: 'content_filter' });
  });

  it('answers a blocked prompt as content_filter with empty content', async () => {
    fake.enqueue({
      raw: JSON.stringify({
        promptFeedback: { blockReason: 'PROHIBITED_CONTENT' },
        usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 },
        modelVersion: 'gemini-2.5-flash-001',
      }),
    });
    const result = await adapter.complete(call({}));
    expect(result).toMatchObject({
      content: '',
      finish_reason: 'content_filter',
      usage: { prompt_tokens: 9, completion_tokens: 0 },
    });
  });

  it('reports an unreadable 200 answer as bad_response', async () => {
    fake.enqueue({ raw: 'this is not json' });
    const err = await upstreamError(adapter.complete(call({})));
    expect(err.failure).toBe('bad_response');
    expect(err.retryable).toBe(false);
  });
});
