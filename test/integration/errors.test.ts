/**
 * Every row of the contract's error table that the gateway core owns, through the real server. Bad
 * input is always a 4xx in the OpenAI error shape, never a 500.
 */
import OpenAI, { type APIError } from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Fakes, fakesConfig, startFakes, startGateway, type TestGateway } from './helpers/gateway.ts';

let fakes: Fakes;
let gw: TestGateway;
const KEY = 'qk-research-0123456789';
const LIMITED_KEY = 'qk-limited-0123456789';

beforeAll(async () => {
  fakes = await startFakes();
});
afterAll(async () => {
  await fakes.close();
});
// A fresh gateway per test: circuit breakers remember failures, and each test scripts its own.
beforeEach(async () => {
  fakes.openai.reset();
  fakes.anthropic.reset();
  fakes.gemini.reset();
  const base = fakesConfig(fakes);
  (base.providers as any[])[0].max_retries = 1;
  gw = await startGateway({
    ...base,
    server: { max_body_bytes: 4096, request_timeout_ms: 1500 },
    routing: { fallbacks: { 'oa-model': ['an-model'] } },
    teams: [{ id: 'research' }, { id: 'limited', models: ['ge-model'] }],
    keys: [
      { key: KEY, team: 'research', name: 'research-ci' },
      { key: LIMITED_KEY, team: 'limited', name: 'limited-ci' },
    ],
  });
});
afterEach(async () => {
  await gw.close();
});

async function post(body: string | object, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    // an SSE body
  }
  return { status: res.status, headers: res.headers, text, json };
}

const upstreamCalls = () =>
  fakes.openai.received.length + fakes.anthropic.received.length + fakes.gemini.received.length;

const hello = [{ role: 'user', content: 'hello' }];

describe('400 invalid_body', () => {
  it('malformed JSON: param is null', async () => {
    const res = await post('{"model": "ge-model", "messages": [');
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'invalid_body',
      param: null,
    });
    expect(res.json.error.message).toMatch(/not valid JSON/);
  });

  it.each([
    [{ messages: hello }, 'model'],
    [{ model: 'ge-model' }, 'messages'],
    [{ model: 'ge-model', messages: [] }, 'messages'],
    [{ model: 'ge-model', messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role'],
    [{ model: 'ge-model', messages: [{ role: 'user', content: 42 }] }, 'messages[0].content'],
    [{ model: 'ge-model', messages: [...hello, { role: 'tool', content: 'x' }] }, 'messages[1].tool_call_id'],
    [{ model: 'ge-model', messages: hello, temperature: 7 }, 'temperature'],
    [{ model: 'ge-model', messages: hello, max_tokens: -1 }, 'max_tokens'],
    [{ model: 'ge-model', messages: hello, response_format: { type: 'yaml' } }, 'response_format.type'],
    [
      { model: 'ge-model', messages: hello, tools: [{ type: 'function', function: { name: 'bad name!' } }] },
      'tools[0].function.name',
    ],
    [
      { model: 'ge-model', messages: hello, quorum: { ensemble: { strategy: 'coin_flip' } } },
      'quorum.ensemble.strategy',
    ],
    [{ model: 'ge-model', messages: hello, n: 3 }, 'n'],
  ])('schema violation %# names the field (%s)', async (body, param) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_body', param });
    expect(res.json.error.message.startsWith(`${param}:`)).toBe(true);
    expect(upstreamCalls()).toBe(0);
  });

  it.each(['[]', 'null', '"text"', '42', '{"model":1,"messages":"hi"}'])(
    'odd JSON %s is a 400, not a 500',
    async (body) => {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('invalid_body');
      expect(upstreamCalls()).toBe(0);
    },
  );

  it('refuses a body sent without a JSON content type (curl -d) with 415', async () => {
    const res = await post(
      { model: 'ge-model', messages: hello },
      { 'content-type': 'application/x-www-form-urlencoded' },
    );
    expect(res.status).toBe(415);
    expect(res.json.error.code).toBe('unsupported_media_type');
  });
});

describe('401 invalid_api_key', () => {
  it.each([
    ['missing', {}],
    ['unknown', { authorization: 'Bearer qk-not-a-real-key' }],
    ['malformed header', { authorization: 'Basic abc' }],
  ])('%s key', async (_label, headers) => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: 'ge-model', messages: hello }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error).toMatchObject({
      type: 'authentication_error',
      code: 'invalid_api_key',
    });
    expect(res.headers.get('x-quorum-request-id')).toBeTruthy();
  });

  it('accepts the key in x-api-key too', async () => {
    const res = await post({ model: 'ge-model', messages: hello }, { authorization: '', 'x-api-key': KEY });
    expect(res.status).toBe(200);
  });

  it('the OpenAI SDK sees an AuthenticationError', async () => {
    const err = await gw
      .client('wrong-key')
      .chat.completions.create({ model: 'ge-model', messages: [{ role: 'user', content: 'x' }] })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('also guards GET /v1/models', async () => {
    expect((await fetch(`${gw.url}/v1/models`)).status).toBe(401);
  });
});

describe('403 model_not_allowed', () => {
  it('refuses a model outside the team allow-list, before any upstream call', async () => {
    const res = await post(
      { model: 'oa-model', messages: hello },
      { authorization: `Bearer ${LIMITED_KEY}` },
    );
    expect(res.status).toBe(403);
    expect(res.json.error).toMatchObject({
      type: 'permission_error',
      code: 'model_not_allowed',
      param: 'model',
    });
    expect(fakes.openai.received).toHaveLength(0);
  });

  it('serves a model on the allow-list', async () => {
    const res = await post(
      { model: 'ge-model', messages: hello },
      { authorization: `Bearer ${LIMITED_KEY}` },
    );
    expect(res.status).toBe(200);
  });

  it('lists only allowed models', async () => {
    const res = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${LIMITED_KEY}` } });
    const ids = ((await res.json()) as any).data.map((m: { id: string }) => m.id);
    expect(ids.filter((id: string) => !id.startsWith('auto'))).toEqual(['ge-model']);
  });
});

describe('404', () => {
  it('model_not_found names the known models', async () => {
    const res = await post({ model: 'gpt-99', messages: hello });
    expect(res.status).toBe(404);
    expect(res.json.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'model_not_found',
      param: 'model',
    });
    expect(res.json.error.message).toContain('oa-model');
  });

  it('an unknown route answers in the OpenAI error shape', async () => {
    const res = await fetch(`${gw.url}/v1/engines`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.type).toBe('invalid_request_error');
  });
});

describe('413 body_too_large', () => {
  it('refuses a body over server.max_body_bytes', async () => {
    const res = await post({ model: 'ge-model', messages: [{ role: 'user', content: 'x'.repeat(10_000) }] });
    expect(res.status).toBe(413);
    expect(res.json.error).toMatchObject({ type: 'invalid_request_error', code: 'body_too_large' });
    expect(res.json.error.message).toContain('4096');
  });

  it('also when the body is chunked without a content-length', async () => {
    const big = JSON.stringify({
      model: 'ge-model',
      messages: [{ role: 'user', content: 'y'.repeat(10_000) }],
    });
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error.code).toBe('body_too_large');
  });
});

describe('retries and fallback', () => {
  it('retries the same provider on 429 and reports both attempts', async () => {
    fakes.openai.enqueue(
      { error: { status: 429, message: 'slow down', retryAfterSeconds: 0 } },
      { text: 'second time lucky' },
    );
    const res = await post({ model: 'oa-model', messages: hello });
    expect(res.status).toBe(200);
    expect(res.json.choices[0].message.content).toBe('second time lucky');
    expect(res.json.quorum.attempts).toEqual([
      { model: 'oa-model', provider: 'oa', status: 429, error: 'slow down' },
      { model: 'oa-model', provider: 'oa', status: 200 },
    ]);
  });

  it('falls back to the configured chain when the provider keeps failing', async () => {
    fakes.openai.respond({ error: { status: 503, message: 'overloaded' } });
    fakes.anthropic.enqueue({ text: 'from the fallback' });
    const res = await post({ model: 'oa-model', messages: hello });
    expect(res.status).toBe(200);
    expect(res.json.model).toBe('an-model');
    expect(res.headers.get('x-quorum-model')).toBe('an-model');
    expect(
      res.json.quorum.attempts.map((a: { model: string; status: number }) => [a.model, a.status]),
    ).toEqual([
      ['oa-model', 503],
      ['oa-model', 503],
      ['an-model', 200],
    ]);
  });

  it('`quorum.fallbacks: []` turns fallback off', async () => {
    fakes.openai.respond({ error: { status: 503, message: 'overloaded' } });
    const res = await post({ model: 'oa-model', messages: hello, quorum: { fallbacks: [] } });
    expect(res.status).toBe(502);
    expect(fakes.anthropic.received).toHaveLength(0);
  });

  it('502 upstream_failed lists every attempt', async () => {
    fakes.openai.respond({ error: { status: 500, message: 'primary down' } });
    fakes.anthropic.respond({ error: { status: 500, message: 'fallback down' } });
    const res = await post({ model: 'oa-model', messages: hello });
    expect(res.status).toBe(502);
    expect(res.json.error).toMatchObject({ type: 'upstream_error', code: 'upstream_failed' });
    expect(res.json.error.message).toContain('3 attempt(s)');
    expect(res.json.error.message).toContain('primary down');
    expect(res.json.error.message).toContain('an-model via an: 500 fallback down');
  });

  it('a prompt too long for the model moves on to a model with a larger context window', async () => {
    // oa-model (128k) falls back to an-model (200k) in this config.
    fakes.openai.enqueue({
      error: {
        status: 400,
        message: "This model's maximum context length is 128000 tokens",
        code: 'context_length_exceeded',
      },
    });
    fakes.anthropic.enqueue({ text: 'read it all' });
    const res = await post({ model: 'oa-model', messages: hello });
    expect(res.status).toBe(200);
    expect(res.json.model).toBe('an-model');
    expect(
      res.json.quorum.attempts.map((a: { model: string; status: number }) => [a.model, a.status]),
    ).toEqual([
      ['oa-model', 400],
      ['an-model', 200],
    ]);
    expect(fakes.openai.received).toHaveLength(1); // not retried on the same model
  });

  it('does not retry or fall back on a provider 400', async () => {
    fakes.openai.enqueue({
      error: { status: 400, message: "Invalid value for 'logit_bias'", code: 'invalid_value' },
    });
    const res = await post({ model: 'oa-model', messages: hello });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_value' });
    expect(res.json.error.message).toBe("Invalid value for 'logit_bias'");
    expect(fakes.openai.received).toHaveLength(1);
    expect(fakes.anthropic.received).toHaveLength(0);
  });

  it('a connection refused counts as a failed attempt, not a crash', async () => {
    const closed = await startFakes();
    const url = closed.gemini.url;
    await closed.close();
    const dead = await startGateway({
      ...fakesConfig(fakes),
      providers: [
        { id: 'ge', type: 'gemini', base_url: url, api_key: 'k', max_retries: 0 },
        ...(fakesConfig(fakes).providers as object[]).slice(0, 2),
      ],
    });
    try {
      const err = (await dead
        .client()
        .chat.completions.create({ model: 'ge-model', messages: [{ role: 'user', content: 'x' }] })
        .catch((e) => e)) as APIError;
      expect(err.status).toBe(502);
      expect(err.message).toMatch(/ge-model via ge: 502/);
    } finally {
      await dead.close();
    }
  });
});

describe('504 upstream_timeout', () => {
  it('answers 504 when the chain runs out of time, and the upstream sees the abort', async () => {
    fakes.gemini.enqueue({ hang: true });
    const res = await post({ model: 'ge-model', messages: hello });
    expect(res.status).toBe(504);
    expect(res.json.error).toMatchObject({ type: 'upstream_error', code: 'upstream_timeout' });
    await fakes.gemini.received[0]!.done;
    expect(fakes.gemini.received[0]!.aborted).toBe(true);
  });
});

describe('streams that fail', () => {
  it('a failure before the first byte is an ordinary JSON error', async () => {
    fakes.gemini.enqueue({ error: { status: 500, message: 'nope' } });
    const res = await post({ model: 'ge-model', messages: hello, stream: true });
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toContain('application/json');
  });

  it('a failure mid-stream ends with an error event and [DONE], never a hang', async () => {
    fakes.openai.enqueue({ text: 'one two three four five six', dropAfterChunks: 3, chunkDelayMs: 10 });
    const res = await post({ model: 'oa-model', messages: hello, stream: true });
    expect(res.status).toBe(200);
    const events = res.text.trim().split('\n\n');
    expect(events.at(-1)).toBe('data: [DONE]');
    const error = events.at(-2)!;
    expect(error.startsWith('event: error\ndata: ')).toBe(true);
    const body = JSON.parse(error.split('data: ')[1]!);
    expect(body.error).toMatchObject({ type: 'upstream_error', code: 'upstream_failed' });
    expect(events.filter((e) => e.includes('"content":"one "'))).toHaveLength(1);
  });

  it('the OpenAI SDK raises the mid-stream error to the app', async () => {
    fakes.anthropic.enqueue({
      text: 'alpha beta gamma delta epsilon zeta',
      dropAfterChunks: 7,
      chunkDelayMs: 10,
    });
    const stream = await gw.client(KEY).chat.completions.create({
      model: 'an-model',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const chunk of stream) seen.push(chunk.choices[0]?.delta?.content ?? '');
    })().catch((e) => e);
    expect(seen.join('')).toMatch(/^alpha /);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(String(err.message)).toMatch(/failed|connection/i);
  });
});
