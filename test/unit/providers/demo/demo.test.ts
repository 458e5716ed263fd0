import { describe, expect, it } from 'vitest';
import type { ChatRequest, ChatResult, StreamEvent } from '../../../../src/chat/index.ts';
import { arithmetic, demoAnswer } from '../../../../src/providers/demo/answer.ts';
import { createDemoAdapter, DEMO_MODELS } from '../../../../src/providers/demo/index.ts';
import { UpstreamError } from '../../../../src/providers/upstream-error.ts';

const adapter = createDemoAdapter({ id: 'demo', type: 'demo', timeout_ms: 60_000, max_retries: 1 });

function request(overrides: Partial<ChatRequest> = {}): ChatRequest {
  return {
    model: 'demo',
    messages: [{ role: 'user', content: 'Tell me about consensus.' }],
    ...overrides,
  } as ChatRequest;
}

function complete(
  req: ChatRequest,
  model = 'demo-fast',
  signal = new AbortController().signal,
): Promise<ChatResult> {
  return adapter.complete({ model, request: req, signal });
}

async function collect(req: ChatRequest, model = 'demo-fast'): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of adapter.stream({ model, request: req, signal: new AbortController().signal }))
    out.push(e);
  return out;
}

const WEATHER = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string' },
        days: { type: 'integer' },
        units: { type: 'string', enum: ['celsius', 'fahrenheit'] },
        hourly: { type: 'boolean' },
        tags: { type: 'array', items: { type: 'string' } },
        where: { type: 'object', properties: { lat: { type: 'number' }, lon: { type: 'number' } } },
      },
      required: ['city'],
    },
  },
};
const CLOCK = {
  type: 'function' as const,
  function: { name: 'get_time', parameters: { type: 'object', properties: {} } },
};

/** Whether `value` has the JSON-schema `schema`'s shape (types, enums, properties, items). */
function matches(value: unknown, schema: Record<string, unknown>): boolean {
  if (Array.isArray(schema.enum)) return schema.enum.includes(value);
  switch (schema.type) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value) && value.every((v) => matches(v, schema.items as Record<string, unknown>));
    case 'object': {
      if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
      const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
      return Object.entries(props).every(
        ([k, s]) => k in value && matches((value as Record<string, unknown>)[k], s),
      );
    }
    default:
      return true;
  }
}

describe('demo answers', () => {
  it('are deterministic: the same request gets the same answer', async () => {
    const a = await complete(request());
    const b = await complete(request());
    expect(b).toEqual(a);
    expect(a.content).toBeTruthy();
    expect(a.finish_reason).toBe('stop');
  });

  it('name the model that answered and echo what the user said', async () => {
    const fast = await complete(request(), 'demo-fast');
    const smart = await complete(request(), 'demo-smart');
    expect(fast.content).toContain('demo-fast');
    expect(smart.content).toContain('demo-smart');
    expect(fast.content).toContain('Tell me about consensus.');
    expect(fast.upstream_model).toBe('demo-fast');
  });

  it.each([
    ['What is 12 * (3+4)?', 84],
    ['2+2', 4],
    ['compute 10 / 4 please', 2.5],
    ['-3 * 4', -12],
    ['2 * (3 + 4) - 5', 9],
  ])('answers the arithmetic in %j with %d', async (question, value) => {
    const r = await complete(request({ messages: [{ role: 'user', content: question }] }));
    expect(r.content).toBe(`The answer is ${value}.`);
  });

  it('reads the latest user message, including text parts next to an image', async () => {
    const r = await complete(
      request({
        messages: [
          { role: 'user', content: 'What is 1 + 1?' },
          { role: 'assistant', content: 'The answer is 2.' },
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
              { type: 'text', text: 'And 6 * 7?' },
            ],
          },
        ],
      }),
    );
    expect(r.content).toBe('The answer is 42.');
  });

  it('reports usage: prompt tokens grow with the prompt, completion tokens with the answer', async () => {
    const short = await complete(request({ messages: [{ role: 'user', content: 'hi' }] }));
    const long = await complete(request({ messages: [{ role: 'user', content: 'hi '.repeat(400) }] }));
    expect(short.usage.prompt_tokens).toBeGreaterThan(0);
    expect(long.usage.prompt_tokens).toBeGreaterThan(short.usage.prompt_tokens + 200);
    expect(short.usage.completion_tokens).toBeGreaterThan(0);
  });

  it('arithmetic() returns null for text without an expression', () => {
    expect(arithmetic('hello there')).toBeNull();
    expect(arithmetic('I have 5 apples')).toBeNull();
    expect(arithmetic('1 / 0')).toBeNull();
  });
});

describe('demo tool calls', () => {
  it('calls the first tool with arguments shaped like its JSON schema', async () => {
    const r = await complete(request({ tools: [WEATHER, CLOCK] }));
    expect(r.finish_reason).toBe('tool_calls');
    expect(r.content).toBeNull();
    expect(r.tool_calls).toHaveLength(1);
    const call = r.tool_calls![0]!;
    expect(call.type).toBe('function');
    expect(call.id).toMatch(/\S/);
    expect(call.function.name).toBe('get_weather');
    const args = JSON.parse(call.function.arguments);
    expect(matches(args, WEATHER.function.parameters)).toBe(true);
    expect(Object.keys(args).sort()).toEqual(Object.keys(WEATHER.function.parameters.properties).sort());
    expect(WEATHER.function.parameters.properties.units.enum).toContain(args.units);
  });

  it('calls the tool named by tool_choice', async () => {
    const r = await complete(
      request({ tools: [WEATHER, CLOCK], tool_choice: { type: 'function', function: { name: 'get_time' } } }),
    );
    expect(r.tool_calls![0]!.function.name).toBe('get_time');
    expect(JSON.parse(r.tool_calls![0]!.function.arguments)).toEqual({});
  });

  it('answers with text when tool_choice is none', async () => {
    const r = await complete(request({ tools: [WEATHER], tool_choice: 'none' }));
    expect(r.finish_reason).toBe('stop');
    expect(r.tool_calls).toBeUndefined();
    expect(r.content).toBeTruthy();
  });

  it('after a tool result answers with text that uses it', async () => {
    const first = await complete(request({ tools: [WEATHER] }));
    const call = first.tool_calls![0]!;
    const r = await complete(
      request({
        tools: [WEATHER],
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: call.id, content: '{"temp_c": 21, "sky": "clear"}' },
        ],
      }),
    );
    expect(r.finish_reason).toBe('stop');
    expect(r.tool_calls).toBeUndefined();
    expect(r.content).toContain('21');
    expect(r.content).toContain('clear');
  });
});

describe('demo response formats, stop and max_tokens', () => {
  it('json_object → a valid JSON object', async () => {
    const r = await complete(request({ response_format: { type: 'json_object' } }));
    const parsed = JSON.parse(r.content!);
    expect(parsed).toBeTypeOf('object');
    expect(Array.isArray(parsed)).toBe(false);
  });

  it("json_schema → an object with the schema's properties and types", async () => {
    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string' },
        age: { type: 'integer' },
        score: { type: 'number' },
        active: { type: 'boolean' },
        role: { type: 'string', enum: ['admin', 'user'] },
        tags: { type: 'array', items: { type: 'string' } },
        address: { type: 'object', properties: { city: { type: 'string' } } },
      },
      required: ['name'],
    };
    const r = await complete(
      request({ response_format: { type: 'json_schema', json_schema: { name: 'person', schema } } }),
    );
    const parsed = JSON.parse(r.content!);
    expect(Object.keys(parsed).sort()).toEqual(Object.keys(schema.properties).sort());
    expect(matches(parsed, schema)).toBe(true);
  });

  it('a stop sequence truncates the answer before it', async () => {
    const full = await complete(request());
    const stop = 'demo model';
    expect(full.content).toContain(stop);
    const r = await complete(request({ stop }));
    expect(r.content).toBe(full.content!.slice(0, full.content!.indexOf(stop)));
    expect(r.finish_reason).toBe('stop');
    const list = await complete(request({ stop: ['zzz-never', stop] }));
    expect(list.content).toBe(r.content);
  });

  it("max_tokens cuts the answer short with finish_reason 'length'", async () => {
    const full = await complete(request());
    const r = await complete(request({ max_tokens: 3 }));
    expect(r.finish_reason).toBe('length');
    expect(r.content!.length).toBeLessThan(full.content!.length);
    expect(full.content!.startsWith(r.content!)).toBe(true);
    expect(r.usage.completion_tokens).toBeLessThanOrEqual(3);
  });

  it('max_completion_tokens works like max_tokens, and a generous limit changes nothing', async () => {
    const r = await complete(request({ max_completion_tokens: 2 }));
    expect(r.finish_reason).toBe('length');
    const full = await complete(request());
    expect(await complete(request({ max_tokens: 4000 }))).toEqual(full);
  });
});

describe('demo streaming', () => {
  it('yields text deltas that concatenate to the non-stream content, then finish and usage', async () => {
    const req = request();
    const whole = await complete(req);
    const events = await collect(req);
    const texts = events.filter((e) => e.type === 'text');
    expect(texts.length).toBeGreaterThan(1);
    expect(texts.map((e) => e.text).join('')).toBe(whole.content);
    expect(events[0]).toEqual({ type: 'model', model: 'demo-fast' });
    const finishAt = events.findIndex((e) => e.type === 'finish');
    const usageAt = events.findIndex((e) => e.type === 'usage');
    expect(events[finishAt]).toEqual({ type: 'finish', reason: 'stop' });
    expect(events[usageAt]).toEqual({ type: 'usage', usage: whole.usage });
    // Text comes before the end of the stream.
    expect(events.findLastIndex((e) => e.type === 'text')).toBeLessThan(finishAt);
  });

  it("streams a length-limited answer with finish 'length'", async () => {
    const req = request({ max_tokens: 3 });
    const events = await collect(req);
    expect(events.find((e) => e.type === 'finish')).toEqual({ type: 'finish', reason: 'length' });
    expect(
      events
        .filter((e) => e.type === 'text')
        .map((e) => e.text)
        .join(''),
    ).toBe((await complete(req)).content);
  });

  it('streams a tool call with its id, name and arguments', async () => {
    const req = request({ tools: [WEATHER] });
    const whole = await complete(req);
    const events = await collect(req);
    expect(events.filter((e) => e.type === 'text')).toEqual([]);
    const call = events.find((e) => e.type === 'tool_call');
    expect(call).toEqual({
      type: 'tool_call',
      index: 0,
      id: whole.tool_calls![0]!.id,
      name: 'get_weather',
      arguments: whole.tool_calls![0]!.function.arguments,
    });
    expect(events.find((e) => e.type === 'finish')).toEqual({ type: 'finish', reason: 'tool_calls' });
  });

  it("aborting the signal stops the stream with an UpstreamError of failure 'aborted'", async () => {
    const controller = new AbortController();
    const seen: StreamEvent[] = [];
    let error: unknown;
    try {
      for await (const e of adapter.stream({
        model: 'demo-fast',
        request: request(),
        signal: controller.signal,
      })) {
        seen.push(e);
        if (e.type === 'text') controller.abort();
      }
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).failure).toBe('aborted');
    expect((error as UpstreamError).provider).toBe('demo');
    expect(seen.filter((e) => e.type === 'text')).toHaveLength(1);
    expect(seen.some((e) => e.type === 'finish' || e.type === 'usage')).toBe(false);
  });

  it("an already-aborted signal fails the stream with 'aborted' before any text", async () => {
    const controller = new AbortController();
    controller.abort();
    const seen: StreamEvent[] = [];
    let error: unknown;
    try {
      for await (const e of adapter.stream({
        model: 'demo-fast',
        request: request(),
        signal: controller.signal,
      })) {
        seen.push(e);
      }
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).failure).toBe('aborted');
    expect(seen.some((e) => e.type === 'text' || e.type === 'finish')).toBe(false);
  });

  it("complete() with an aborted signal rejects with failure 'aborted'", async () => {
    const controller = new AbortController();
    controller.abort();
    const err = await complete(request(), 'demo-fast', controller.signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).failure).toBe('aborted');
    expect((err as UpstreamError).retryable).toBe(false);
  });
});

describe('demo models', () => {
  it('have non-zero prices so cost and budgets can be tried (an embedding model writes no output)', () => {
    for (const m of DEMO_MODELS) {
      expect(m.provider).toBe('demo');
      expect(m.price.input).toBeGreaterThan(0);
      if (m.capabilities.includes('embeddings')) expect(m.price.output).toBe(0);
      else expect(m.price.output).toBeGreaterThan(0);
    }
  });

  it("answer through demoAnswer the same way as the adapter's complete()", async () => {
    const req = request({ messages: [{ role: 'user', content: '3 * 3' }] });
    expect(demoAnswer('demo-smart', req)).toEqual(await complete(req, 'demo-smart'));
  });
});

describe('demo arithmetic edge cases', () => {
  it.each([
    ['(2+3)*4', 20],
    ['what is (1 + 2) * (3 + 4) - 5?', 16],
    ['-3 + 5', 2],
    ['10 / 4', 2.5],
  ])('%s = %s', (text, value) => {
    expect(arithmetic(text)).toBe(value);
  });

  it.each(['born on 2024-01-01', 'no numbers here', '42', '(1 + 2'])('%s is not arithmetic', (text) => {
    expect(arithmetic(text)).toBeNull();
  });
});
