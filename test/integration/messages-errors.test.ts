/**
 * Every failure on the Messages surface answers in Anthropic's error shape with Anthropic's status codes
 * — bad input, keys, models, upstream failures — never a 500; and an Anthropic upstream that fails is
 * retried and fallen back from across the chain's Anthropic deployments.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AnthropicFakeReply, startFakeAnthropic } from '../fakes/anthropic.ts';
import { type FakeServer, sleep } from '../fakes/harness.ts';
import { type Fakes, fakesConfig, startFakes, startGateway, type TestGateway } from './helpers/gateway.ts';

const KEY = 'qk-messages-errors-0001';
const LIMITED = 'qk-messages-limited-0002';
let fakes: Fakes;
/** A second Anthropic upstream: `an-backup`, the fallback of `an-model`. */
let backup: FakeServer;
let gw: TestGateway;
/** The health tracker's clock: each test starts an hour later, every circuit closed again. */
let now = Date.now();

beforeAll(async () => {
  fakes = await startFakes();
  backup = await startFakeAnthropic();
  const config = fakesConfig(fakes);
  gw = await startGateway(
    {
      ...config,
      providers: [
        ...(config.providers as object[]),
        { id: 'an2', type: 'anthropic', base_url: backup.url, api_key: 'sk-ant-backup', max_retries: 0 },
      ],
      models: [
        ...(config.models as object[]),
        {
          id: 'an-backup',
          provider: 'an2',
          upstream: 'claude-backup',
          context_window: 200000,
          max_output_tokens: 8192,
          price: { input: 3, output: 15 },
          capabilities: ['tools', 'streaming'],
        },
      ],
      routing: { fallbacks: { 'an-model': ['oa-model', 'an-backup'] } },
      server: { max_body_bytes: 20_000 },
      teams: [{ id: 'coders' }, { id: 'narrow', models: ['oa-model'] }],
      keys: [
        { key: KEY, team: 'coders', name: 'ci' },
        { key: LIMITED, team: 'narrow', name: 'narrow' },
      ],
    },
    { gateway: { health: { now: () => now } } },
  );
});
afterAll(async () => {
  await gw?.close();
  await backup?.close();
  await fakes?.close();
});
beforeEach(() => {
  now += 3_600_000;
  fakes.anthropic.reset();
  fakes.openai.reset();
  backup.reset();
});

const hi = { max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] };

async function post(body: unknown, options: { key?: string | null; path?: string; raw?: string } = {}) {
  const key = options.key === undefined ? KEY : options.key;
  const res = await fetch(`${gw.url}${options.path ?? '/v1/messages'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { 'x-api-key': key } : {}) },
    body: options.raw ?? JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

/** The body is Anthropic's error shape, of this type. */
function anthropicShaped(body: any, type: string) {
  expect(body).toEqual({
    type: 'error',
    error: { type, message: expect.any(String), details: { error_code: expect.any(String) } },
    request_id: expect.stringMatching(/^[0-9a-f]{32}$/),
  });
  expect(body.error.message.length).toBeGreaterThan(10);
}

describe('bad input is a 4xx in Anthropic shape', () => {
  const cases: [
    string,
    unknown,
    { status: number; type: string; message: RegExp; raw?: string; path?: string },
  ][] = [
    [
      'malformed JSON',
      null,
      { status: 400, type: 'invalid_request_error', message: /not valid JSON/, raw: '{"model":' },
    ],
    [
      'a body that is not an object',
      null,
      { status: 400, type: 'invalid_request_error', message: /body/, raw: '[1]' },
    ],
    [
      'a missing max_tokens',
      { model: 'an-model', messages: hi.messages },
      { status: 400, type: 'invalid_request_error', message: /^max_tokens: Field required/ },
    ],
    [
      'a negative max_tokens',
      { model: 'an-model', ...hi, max_tokens: -1 },
      { status: 400, type: 'invalid_request_error', message: /^max_tokens/ },
    ],
    [
      'no messages',
      { model: 'an-model', max_tokens: 5, messages: [] },
      { status: 400, type: 'invalid_request_error', message: /^messages/ },
    ],
    [
      'a bad role',
      { model: 'an-model', max_tokens: 5, messages: [{ role: 'tool', content: 'x' }] },
      { status: 400, type: 'invalid_request_error', message: /^messages\[0\]\.role/ },
    ],
    [
      'a content of the wrong type',
      { model: 'an-model', max_tokens: 5, messages: [{ role: 'user', content: 7 }] },
      { status: 400, type: 'invalid_request_error', message: /^messages\[0\]\.content/ },
    ],
    [
      'a text block without text',
      { model: 'an-model', max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'text' }] }] },
      { status: 400, type: 'invalid_request_error', message: /^messages\[0\]\.content\[0\]\.text/ },
    ],
    [
      'a thinking block without its signature',
      {
        model: 'an-model',
        max_tokens: 5,
        messages: [{ role: 'assistant', content: [{ type: 'thinking', thinking: 'x' }] }],
      },
      { status: 400, type: 'invalid_request_error', message: /signature/ },
    ],
    [
      'a temperature above 1',
      { model: 'an-model', ...hi, temperature: 1.5 },
      { status: 400, type: 'invalid_request_error', message: /^temperature/ },
    ],
    [
      'an unknown model',
      { model: 'claude-nope', ...hi },
      { status: 404, type: 'not_found_error', message: /claude-nope/ },
    ],
    [
      'an unknown routing policy',
      { model: 'auto:cheapest', ...hi },
      { status: 404, type: 'not_found_error', message: /auto:cheapest/ },
    ],
    [
      'a body over server.max_body_bytes',
      { model: 'an-model', ...hi, system: 'x'.repeat(30_000) },
      { status: 413, type: 'request_too_large', message: /max_body_bytes/ },
    ],
    [
      'a count with a bad role',
      { model: 'an-model', messages: [{ role: 'bot', content: 'x' }] },
      { status: 400, type: 'invalid_request_error', message: /role/, path: '/v1/messages/count_tokens' },
    ],
    [
      'a count for an unknown model',
      { model: 'nope', messages: hi.messages },
      { status: 404, type: 'not_found_error', message: /nope/, path: '/v1/messages/count_tokens' },
    ],
  ];
  it.each(cases)('%s', async (_name, body, want) => {
    const res = await post(body, {
      ...(want.raw ? { raw: want.raw } : {}),
      ...(want.path ? { path: want.path } : {}),
    });
    expect(res.status).toBe(want.status);
    anthropicShaped(res.body, want.type);
    expect(res.body.error.message).toMatch(want.message);
    expect(fakes.anthropic.received).toHaveLength(0);
  });

  it('keys: missing, wrong, or for a team that may not use the model', async () => {
    const missing = await post({ model: 'an-model', ...hi }, { key: null });
    expect(missing.status).toBe(401);
    anthropicShaped(missing.body, 'authentication_error');
    const wrong = await post({ model: 'an-model', ...hi }, { key: 'qk-not-a-key' });
    expect(wrong.status).toBe(401);
    anthropicShaped(wrong.body, 'authentication_error');
    const denied = await post({ model: 'an-model', ...hi }, { key: LIMITED });
    expect(denied.status).toBe(403);
    anthropicShaped(denied.body, 'permission_error');
    expect(denied.body.error.details.error_code).toBe('model_not_allowed');
    const deniedCount = await post(
      { model: 'an-model', messages: hi.messages },
      { key: LIMITED, path: '/v1/messages/count_tokens' },
    );
    expect(deniedCount.status).toBe(403);
    expect(fakes.anthropic.received).toHaveLength(0);
  });

  it('the SDK raises its own error classes', async () => {
    const client = (apiKey: string) => new Anthropic({ baseURL: gw.url, apiKey, maxRetries: 0 });
    const params = { model: 'an-model', max_tokens: 5, messages: [{ role: 'user' as const, content: 'x' }] };
    await expect(client('qk-bad').messages.create(params)).rejects.toBeInstanceOf(
      Anthropic.AuthenticationError,
    );
    await expect(client(LIMITED).messages.create(params)).rejects.toBeInstanceOf(
      Anthropic.PermissionDeniedError,
    );
    await expect(client(KEY).messages.create({ ...params, model: 'gone' })).rejects.toBeInstanceOf(
      Anthropic.NotFoundError,
    );
  });

  it('an unknown path under /v1/messages is a not_found_error', async () => {
    const res = await post({ model: 'an-model', ...hi }, { path: '/v1/messages/batches' });
    expect(res.status).toBe(404);
    anthropicShaped(res.body, 'not_found_error');
  });

  it('the rest of the API keeps the OpenAI shape', async () => {
    const res = await post({ model: 'nope', messages: hi.messages }, { path: '/v1/chat/completions' });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: expect.objectContaining({ type: 'invalid_request_error', code: 'model_not_found' }),
    });
  });
});

describe('translation refusals name the feature', () => {
  const refused: [string, Record<string, unknown>, RegExp][] = [
    [
      'a server tool',
      { tools: [{ type: 'web_search_20250305', name: 'web_search' }] },
      /tools\[0\]\.type.*web_search_20250305/,
    ],
    [
      'a document by URL',
      {
        messages: [
          { role: 'user', content: [{ type: 'document', source: { type: 'url', url: 'https://x/a.pdf' } }] },
        ],
      },
      /messages\[0\]\.content\[0\]\.source.*document/,
    ],
    [
      'citations',
      {
        messages: [
          {
            role: 'user',
            content: [
              {
                type: 'document',
                source: { type: 'text', media_type: 'text/plain', data: 'x' },
                citations: { enabled: true },
              },
            ],
          },
        ],
      },
      /citations/,
    ],
    ['top_k', { top_k: 5 }, /^top_k/],
    ['an Anthropic-only field', { container: 'c_1' }, /^container/],
    [
      'a search result block',
      {
        messages: [
          { role: 'user', content: [{ type: 'search_result', source: 'x', title: 't', content: [] }] },
        ],
      },
      /search_result/,
    ],
  ];
  it.each(refused)('%s', async (_name, extra, message) => {
    const res = await post({ model: 'oa-model', ...hi, ...extra });
    expect(res.status).toBe(400);
    anthropicShaped(res.body, 'invalid_request_error');
    expect(res.body.error.message).toMatch(message);
    expect(res.body.error.message).toContain('oa-model');
    expect(fakes.openai.received).toHaveLength(0);
  });

  it('images and plain-text documents carry over', async () => {
    fakes.openai.enqueue({ text: 'seen' });
    const png =
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
    const res = await post({
      model: 'oa-model',
      ...hi,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
            {
              type: 'document',
              title: 'Notes',
              source: { type: 'text', media_type: 'text/plain', data: 'line one' },
            },
            { type: 'text', text: 'What is this?' },
          ],
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(fakes.openai.received[0]!.body.messages[0].content).toEqual([
      { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
      { type: 'text', text: 'Notes\n\nline one' },
      { type: 'text', text: 'What is this?' },
    ]);
  });
});

describe('upstream failures on the passthrough', () => {
  it('falls back to the next Anthropic deployment, skipping the non-Anthropic fallback', async () => {
    fakes.anthropic.enqueue({ error: { status: 529, type: 'overloaded_error', message: 'Overloaded' } });
    backup.enqueue({ text: 'from the backup' });
    const res = await post({ model: 'an-model', ...hi });
    expect(res.status).toBe(200);
    expect(res.body.content[0].text).toBe('from the backup');
    // The answer names the deployment that answered.
    expect(res.body.model).toBe('an-backup');
    expect(res.headers.get('x-quorum-model')).toBe('an-backup');
    expect(backup.received[0]!.body.model).toBe('claude-backup');
    expect(backup.received[0]!.headers['x-api-key']).toBe('sk-ant-backup');
    expect(fakes.openai.received).toHaveLength(0);
  });

  it('every deployment overloaded: 529 overloaded_error, as Anthropic would say it', async () => {
    const overloaded = { error: { status: 529, type: 'overloaded_error', message: 'Overloaded' } };
    fakes.anthropic.enqueue(overloaded);
    backup.enqueue(overloaded);
    const res = await post({ model: 'an-model', ...hi });
    expect(res.status).toBe(529);
    anthropicShaped(res.body, 'overloaded_error');
    expect(res.body.error.message).toMatch(/an-model via an: 529.*an-backup via an2: 529/);
  });

  it('mixed failures: 502 api_error listing each attempt', async () => {
    fakes.anthropic.enqueue({ error: { status: 500, message: 'boom' } });
    backup.enqueue({ error: { status: 401, type: 'authentication_error', message: 'invalid x-api-key' } });
    const res = await post({ model: 'an-model', ...hi });
    expect(res.status).toBe(502);
    anthropicShaped(res.body, 'api_error');
    expect(res.body.error.message).toMatch(/500.*401/);
  });

  it('the provider refusing the request itself is passed on as a 400 in its words, without fallback', async () => {
    fakes.anthropic.enqueue({
      error: { status: 400, type: 'invalid_request_error', message: 'messages.0: unexpected role' },
    });
    const res = await post({ model: 'an-model', ...hi });
    expect(res.status).toBe(400);
    anthropicShaped(res.body, 'invalid_request_error');
    expect(res.body.error.message).toContain('messages.0: unexpected role');
    expect(backup.received).toHaveLength(0);
  });

  it('a stream that fails before its answer begins falls back; one that fails after passes the error event on', async () => {
    fakes.anthropic.enqueue({
      text: '',
      streamError: { type: 'overloaded_error', message: 'Overloaded' },
    } as AnthropicFakeReply);
    backup.enqueue({ text: 'backup stream' });
    const client = new Anthropic({ baseURL: gw.url, apiKey: KEY, maxRetries: 0 });
    // The fake's error comes after an (empty) text block has begun: the answer had begun.
    const err = await client.messages
      .stream({ model: 'an-model', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] })
      .finalMessage()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).type).toBe('overloaded_error');
    expect(backup.received).toHaveLength(0);

    // An overloaded answer before the stream begins: the backup answers.
    fakes.anthropic.enqueue({ error: { status: 529, type: 'overloaded_error', message: 'Overloaded' } });
    const final = await client.messages
      .stream({ model: 'an-model', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] })
      .finalMessage();
    expect(final.content[0]).toMatchObject({ text: 'backup stream' });
    expect(final.model).toBe('an-backup');
  });

  it('an unreadable answer falls back, plain or streamed', async () => {
    fakes.anthropic.enqueue({ raw: '<html>gateway error</html>' });
    backup.enqueue({ text: 'readable' });
    const plain = await post({ model: 'an-model', ...hi });
    expect(plain.status).toBe(200);
    expect(plain.body.content[0].text).toBe('readable');

    fakes.anthropic.enqueue({ raw: 'event: message_start\ndata: {not json\n\n' });
    backup.enqueue({ text: 'readable stream' });
    const client = new Anthropic({ baseURL: gw.url, apiKey: KEY, maxRetries: 0 });
    const final = await client.messages
      .stream({ model: 'an-model', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] })
      .finalMessage();
    expect(final.content[0]).toMatchObject({ text: 'readable stream' });
  });

  it('a stream cut mid-answer ends with an error event, never a clean stop', async () => {
    fakes.anthropic.enqueue({ text: 'one two three four five six', dropAfterChunks: 5, chunkDelayMs: 5 });
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify({ model: 'an-model', ...hi, stream: true }),
    });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toContain('event: content_block_delta');
    expect(text).not.toContain('event: message_stop');
    const last = text.trim().split('\n\n').at(-1)!;
    expect(last).toMatch(/^event: error\ndata: /);
    const data = JSON.parse(last.split('\n')[1]!.slice('data: '.length));
    expect(data).toMatchObject({
      type: 'error',
      error: { type: 'api_error', message: expect.stringMatching(/an-model/) },
    });
  });

  it('a client that leaves mid-stream stops the upstream call', async () => {
    fakes.anthropic.enqueue({ text: 'a b c d e f g h i j k l m n o p', chunkDelayMs: 50 });
    const controller = new AbortController();
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify({ model: 'an-model', ...hi, stream: true }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await fakes.anthropic.received[0]!.done;
    await sleep(20);
    expect(fakes.anthropic.received[0]!.aborted).toBe(true);
  });
});
