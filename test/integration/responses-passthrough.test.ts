/**
 * The Responses API passed through raw to an OpenAI provider that serves it (`responses: true`), driven
 * by the official `openai` SDK against a real gateway with a SQLite store: the fake upstream must
 * receive the client's own bytes — only `model`, `store`, `quorum` and a follow-up's history edited —
 * and the client must get the upstream's answer under Quorum's id, stored, charged and recorded; models
 * on other providers, and chains mixing both, keep the translation.
 */
import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/index.ts';
import type { ResponsesFakeReply } from '../fakes/openai-responses.ts';
import {
  type Fakes,
  fakesConfig,
  startFakes,
  startGateway,
  type TestGateway,
  tempStore,
} from './helpers/gateway.ts';
import { WEATHER } from './helpers/responses-tools.ts';

const MASTER = 'mk-responses-pass-master';
const ALPHA = 'qk-responses-pass-alpha-0001';
const BETA = 'qk-responses-pass-beta-0002';
const POOR = 'qk-responses-pass-poor-0003';
const LEAN = 'qk-responses-pass-lean-0004';

let temp: Awaited<ReturnType<typeof tempStore>> | undefined;
let fakes: Fakes;
let store: Store;
let gw: TestGateway;
/** Each body the SDK sent, as text. */
let sent: string[] = [];

const RESP_ID = /^resp_[0-9a-f]{48}$/;
// oa-resp: $1 / $2 per 1M tokens, cached input $0.50.
const usd = (nanos: number) => nanos / 1e9;

function client(apiKey = ALPHA): OpenAI {
  return new OpenAI({
    baseURL: `${gw.url}/v1`,
    apiKey,
    maxRetries: 0,
    fetch: async (url: string | URL | Request, init?: RequestInit) => {
      if (typeof init?.body === 'string') sent.push(init.body);
      return fetch(url, init);
    },
  });
}

const PRICED = {
  context_window: 128000,
  max_output_tokens: 4096,
  price: { input: 1, output: 2, cached_input: 0.5 },
};

beforeAll(async () => {
  fakes = await startFakes();
  temp = await tempStore('quorum-responses-pass-');
  store = temp.store;
  const config = fakesConfig(fakes, {
    teams: [
      { id: 'alpha' },
      { id: 'beta' },
      // Its floor keeps a request's own max_output_tokens (up to 4000) from being lowered to fit.
      { id: 'poor', budget: { limit_usd: 0.001, period: 'total', min_output_tokens: 4000 } },
      { id: 'lean', budget: { limit_usd: 0.001, period: 'total' } },
    ],
    keys: [
      { key: ALPHA, team: 'alpha', name: 'alpha-ci' },
      { key: BETA, team: 'beta', name: 'beta-ci' },
      { key: POOR, team: 'poor', name: 'poor-ci' },
      { key: LEAN, team: 'lean', name: 'lean-ci' },
    ],
    routing: { fallbacks: { 'oa-flaky': ['oa-steady'] } },
  }) as { providers: Record<string, unknown>[]; models: Record<string, unknown>[] };
  const upstream = { type: 'openai', base_url: `${fakes.openai.url}/v1`, max_retries: 0, responses: true };
  config.providers.push(
    { ...upstream, id: 'oar', api_key: 'sk-upstream-responses' },
    { ...upstream, id: 'oar-flaky', api_key: 'sk-upstream-flaky' },
    { ...upstream, id: 'oar-steady', api_key: 'sk-upstream-steady' },
  );
  config.models.push(
    { id: 'oa-resp', provider: 'oar', upstream: 'gpt-resp-up', ...PRICED },
    { id: 'oa-flaky', provider: 'oar-flaky', upstream: 'gpt-flaky-up', ...PRICED },
    { id: 'oa-steady', provider: 'oar-steady', upstream: 'gpt-steady-up', ...PRICED },
  );
  gw = await startGateway(config, { masterKey: MASTER, store });
});
afterAll(async () => {
  await gw?.close();
  await fakes?.close();
  await temp?.close();
});
beforeEach(() => {
  fakes.openai.reset();
  fakes.anthropic.reset();
  sent = [];
});

const received = () => fakes.openai.received;
const lastReceived = () => received().at(-1)!;

/** The stored response, as GET /v1/responses/{id} serves it. */
async function stored(id: string, key = ALPHA) {
  const res = await fetch(`${gw.url}/v1/responses/${id}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, json: (await res.json()) as any };
}

async function post(body: unknown, key = ALPHA) {
  const res = await fetch(`${gw.url}/v1/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: JSON.parse(text) as any };
}

describe('a model on a provider that serves the Responses API', () => {
  it('passes the request through: the client bytes upstream, the answer back under Quorum’s id', async () => {
    fakes.openai.respond({ text: 'Hello from upstream.', usage: { input: 12, output: 5 } });
    const { data, response } = await client()
      .responses.create({ model: 'oa-resp', input: 'Say hello', instructions: 'Be brief.' })
      .withResponse();
    expect(data.id).toMatch(RESP_ID);
    expect(data).toMatchObject({
      object: 'response',
      status: 'completed',
      model: 'oa-resp',
      instructions: 'Be brief.',
      store: true,
      previous_response_id: null,
      usage: { input_tokens: 12, output_tokens: 5, total_tokens: 17 },
    });
    expect(data.output_text).toBe('Hello from upstream.');
    expect(response.headers.get('x-quorum-model')).toBe('oa-resp');
    expect(Number(response.headers.get('x-quorum-cost-usd'))).toBe(usd(12 * 1000 + 5 * 2000));
    expect(response.headers.get('x-quorum-request-id')).toMatch(/^[0-9a-f]{32}$/);
    expect(Number(response.headers.get('x-quorum-overhead-ms'))).toBeGreaterThanOrEqual(0);
    expect(response.headers.get('content-type')).toBe('application/json');

    // Upstream: the Responses endpoint, its own key, the body as sent but for the model and `store`.
    const up = lastReceived();
    expect(up.path).toBe('/v1/responses');
    expect(up.headers.authorization).toBe('Bearer sk-upstream-responses');
    expect(up.raw).toBe(
      `${sent[0]!.replace('"model":"oa-resp"', '"model":"gpt-resp-up"').slice(0, -1)},"store":false}`,
    );

    // The answer is the upstream's, but for its id and model; it is stored as the client got it.
    const got = await stored(data.id);
    expect(got.status).toBe(200);
    // (`output_text` is the SDK's own, computed from `output`.)
    const { output_text: _text, ...answer } = data;
    expect(got.json).toEqual(JSON.parse(JSON.stringify(answer)));
  });

  it('edits only `model`, `quorum` and `store`: every other byte reaches the upstream as sent', async () => {
    const body =
      '{ "model" : "oa-resp",\n  "input": [{"role": "user", "content": "caf\\u00e9 \\/ 1.50"}],\n' +
      '  "temperature": 1.50, "metadata": {"k": "v"}, "quorum": {"tags": {"job": "nightly"}},\n' +
      '  "store": true }';
    fakes.openai.enqueue({ text: 'ok' });
    const { status, json, text } = await post(body);
    expect(status).toBe(200);
    expect(json.model).toBe('oa-resp');
    expect(json.store).toBe(true);
    expect(lastReceived().raw).toBe(
      '{ "model" : "gpt-resp-up",\n  "input": [{"role": "user", "content": "caf\\u00e9 \\/ 1.50"}],\n' +
        '  "temperature": 1.50, "metadata": {"k": "v"}, "store": false }',
    );
    // The answer's own bytes, but for the four members Quorum edits.
    expect(text).toContain('"model":"oa-resp"');
    expect(text).toContain(`"id":"${json.id}"`);
  });

  it('sends a field Quorum does not know on to the upstream, which decides (a 400 in its words)', async () => {
    const { status, json } = await post({ model: 'oa-resp', input: 'hi', temprature: 1 });
    expect(status).toBe(400);
    expect(json.error.message).toBe("Unknown parameter: 'temprature'.");
    expect(lastReceived().body.temprature).toBe(1);
    // The same request for a translated model is refused by Quorum itself, naming the field.
    const translated = await post({ model: 'oa-model', input: 'hi', temprature: 1 });
    expect(translated).toMatchObject({ status: 400, json: { error: { param: 'temprature' } } });
  });

  it('calls a function, then reads its output in a second turn the client assembles', async () => {
    fakes.openai.enqueue({
      toolCalls: [{ id: 'call_w1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
    });
    const first = await client().responses.create({
      model: 'oa-resp',
      input: 'Weather in Paris?',
      tools: [WEATHER],
    });
    const call = first.output.find((item) => item.type === 'function_call');
    expect(call).toMatchObject({
      type: 'function_call',
      call_id: 'call_w1',
      name: 'get_weather',
      arguments: '{"city":"Paris"}',
    });
    expect(lastReceived().body.tools).toEqual([WEATHER]);

    fakes.openai.enqueue({ text: 'Sunny, 24 °C.' });
    const second = await client().responses.create({
      model: 'oa-resp',
      tools: [WEATHER],
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        // An earlier response's output goes back as input, as OpenAI documents.
        ...(first.output as OpenAI.Responses.ResponseInputItem[]),
        { type: 'function_call_output', call_id: 'call_w1', output: '{"sky":"clear","c":24}' },
      ],
    });
    expect(second.output_text).toBe('Sunny, 24 °C.');
    const input = lastReceived().body.input;
    expect(input.at(-1)).toEqual({
      type: 'function_call_output',
      call_id: 'call_w1',
      output: '{"sky":"clear","c":24}',
    });
    expect(input[1]).toMatchObject({ type: 'function_call', call_id: 'call_w1' });
  });

  it('answers a JSON schema format (text.format) as the upstream wrote it', async () => {
    const format = {
      type: 'json_schema' as const,
      name: 'city',
      schema: {
        type: 'object',
        properties: { name: { type: 'string' } },
        required: ['name'],
        additionalProperties: false,
      },
      strict: true,
    };
    fakes.openai.enqueue({ text: '{"name":"Paris"}' });
    const res = await client().responses.create({
      model: 'oa-resp',
      input: 'Capital of France?',
      text: { format },
    });
    expect(JSON.parse(res.output_text)).toEqual({ name: 'Paris' });
    expect(res.text?.format).toEqual(format);
    expect(lastReceived().body.text).toEqual({ format });
  });

  it('streams the upstream events, numbered, with usage, under the id the response is stored with', async () => {
    fakes.openai.enqueue({ text: 'Streaming works fine.', usage: { input: 30, output: 6, cached: 10 } });
    const stream = await client().responses.create({
      model: 'oa-resp',
      input: 'Stream please',
      stream: true,
    });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events[0]!.type).toBe('response.created');
    const created = events[0] as Extract<ResponseStreamEvent, { type: 'response.created' }>;
    const done = events.at(-1) as Extract<ResponseStreamEvent, { type: 'response.completed' }>;
    expect(done.type).toBe('response.completed');
    expect(created.response.id).toMatch(RESP_ID);
    expect(done.response.id).toBe(created.response.id);
    expect(created.response.model).toBe('oa-resp');
    expect(done.response).toMatchObject({
      model: 'oa-resp',
      store: true,
      usage: { input_tokens: 30, input_tokens_details: { cached_tokens: 10 }, output_tokens: 6 },
    });
    const text = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : [])).join('');
    expect(text).toBe('Streaming works fine.');
    expect(lastReceived().body).toMatchObject({ stream: true, store: false, model: 'gpt-resp-up' });

    const got = await stored(created.response.id);
    expect(got.json).toEqual(JSON.parse(JSON.stringify(done.response)));
  });

  it('continues a conversation: the upstream gets the whole history and no previous_response_id', async () => {
    fakes.openai.enqueue({ text: '17 * 23 = 391.', reasoning: 'multiply' } as ResponsesFakeReply);
    const first = await client().responses.create({ model: 'oa-resp', input: 'What is 17 * 23?' });
    expect(first.output.map((i) => i.type)).toEqual(['reasoning', 'message']);

    fakes.openai.enqueue({ text: '18 * 23 = 414.' });
    const second = await client().responses.create({
      model: 'oa-resp',
      previous_response_id: first.id,
      input: 'And 18 * 23?',
      instructions: 'Be exact.',
    });
    expect(second.output_text).toBe('18 * 23 = 414.');
    expect(second.previous_response_id).toBe(first.id);
    const up = lastReceived();
    expect(up.body.previous_response_id).toBeUndefined();
    expect(up.body.store).toBe(false);
    expect(up.body.instructions).toBe('Be exact.');
    // The first turn's input and output, without ids; its reasoning (no encrypted content) left out.
    const message = first.output[1] as any;
    expect(up.body.input).toEqual([
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is 17 * 23?' }] },
      { type: message.type, status: message.status, role: 'assistant', content: message.content },
      { role: 'user', content: 'And 18 * 23?' },
    ]);
    // input_items lists this response's own input, with an id.
    const items = await client().responses.inputItems.list(second.id);
    expect(items.data).toEqual([
      {
        id: expect.stringMatching(/^msg_/),
        type: 'message',
        role: 'user',
        content: [{ type: 'input_text', text: 'And 18 * 23?' }],
      },
    ]);

    // A third turn goes back two responses; another team cannot continue the conversation.
    fakes.openai.enqueue({ text: 'Done.' });
    await client().responses.create({ model: 'oa-resp', previous_response_id: second.id, input: 'Thanks' });
    expect(lastReceived().body.input.map((i: any) => i.role)).toEqual([
      'user',
      'assistant',
      'user',
      'assistant',
      'user',
    ]);
    const err = await client(BETA)
      .responses.create({ model: 'oa-resp', previous_response_id: second.id, input: 'mine?' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 404, code: 'previous_response_not_found' });
  });

  it('carries reasoning into a follow-up when it came with encrypted content', async () => {
    fakes.openai.enqueue({ text: 'First.', reasoning: 'think' } as ResponsesFakeReply);
    const first = await client().responses.create({
      model: 'oa-resp',
      input: 'Go',
      include: ['reasoning.encrypted_content'],
    });
    const reasoning = first.output[0] as any;
    expect(reasoning.encrypted_content).toMatch(/^enc_/);
    fakes.openai.enqueue({ text: 'Second.' });
    await client().responses.create({ model: 'oa-resp', previous_response_id: first.id, input: 'On' });
    expect(lastReceived().body.input[1]).toEqual({
      type: 'reasoning',
      summary: reasoning.summary,
      encrypted_content: reasoning.encrypted_content,
    });
  });

  it('passes a built-in tool through (web search), which the translation refuses', async () => {
    const reply: ResponsesFakeReply = {
      text: 'Quorum is a gateway.',
      webSearch: { query: 'what is quorum', url: 'https://example.com/quorum', title: 'Quorum' },
    };
    fakes.openai.enqueue(reply);
    const res = await client().responses.create({
      model: 'oa-resp',
      input: 'What is Quorum?',
      tools: [{ type: 'web_search' }],
    });
    expect(res.output.map((i) => i.type)).toEqual(['web_search_call', 'message']);
    const message = res.output[1] as any;
    expect(message.content[0].annotations).toEqual([
      expect.objectContaining({ type: 'url_citation', url: 'https://example.com/quorum' }),
    ]);
    expect(lastReceived().body.tools).toEqual([{ type: 'web_search' }]);

    // Stored with its items; a follow-up replays the search call (without its id) to the upstream.
    fakes.openai.enqueue({ text: 'More.' });
    await client().responses.create({ model: 'oa-resp', previous_response_id: res.id, input: 'More?' });
    expect(lastReceived().body.input[1]).toEqual({
      type: 'web_search_call',
      status: 'completed',
      action: { type: 'search', query: 'what is quorum' },
    });

    const translated = await post({ model: 'oa-model', input: 'hi', tools: [{ type: 'web_search' }] });
    expect(translated).toMatchObject({ status: 400, json: { error: { param: 'tools[0].type' } } });
  });

  it('store: false keeps nothing, and says so', async () => {
    fakes.openai.enqueue({ text: 'ephemeral' });
    const res = await client().responses.create({ model: 'oa-resp', input: 'hi', store: false });
    expect((res as { store?: boolean }).store).toBe(false);
    expect((await stored(res.id)).status).toBe(404);
  });
});

describe('what stays translated', () => {
  it('a model on an OpenAI-compatible server without `responses` goes to chat completions', async () => {
    fakes.openai.enqueue({ text: 'translated' });
    const res = await client().responses.create({ model: 'oa-model', input: 'hi' });
    expect(res.output_text).toBe('translated');
    expect(lastReceived().path).toBe('/v1/chat/completions');
  });

  it('a chain with a fallback that does not serve the Responses API is translated whole', async () => {
    fakes.openai.enqueue({ text: 'via chat' });
    const res = await post({ model: 'oa-resp', input: 'hi', quorum: { fallbacks: ['an-model'] } });
    expect(res.status).toBe(200);
    expect(res.json.quorum).toBeDefined();
    expect(lastReceived()).toMatchObject({ path: '/v1/chat/completions', body: { model: 'gpt-resp-up' } });
  });

  it('a translated refusal of what the passthrough would carry says why the model was translated', async () => {
    const body = { model: 'oa-resp', input: 'hi', tools: [{ type: 'web_search' }] };
    const mixed = await post({ ...body, quorum: { fallbacks: ['an-model'] } });
    expect(mixed.status).toBe(400);
    expect(mixed.json.error.param).toBe('tools[0].type');
    expect(mixed.json.error.message).toMatch(
      /serves the Responses API itself.*"quorum": \{"fallbacks": \[\]\}/,
    );
    expect(received()).toHaveLength(0);
    // A model that cannot pass through is refused without the note.
    const other = await post({ ...body, model: 'oa-model' });
    expect(other.json.error.message).not.toMatch(/Responses API itself/);
    // Alone, it passes through.
    fakes.openai.enqueue({ text: 'searched' });
    const alone = await post({ ...body, quorum: { fallbacks: [] } });
    expect(alone.status).toBe(200);
    expect(lastReceived().path).toBe('/v1/responses');
  });

  it('a passed-through conversation can be continued by a translated model (its reasoning and tool items left out)', async () => {
    fakes.openai.enqueue({
      text: 'Found it.',
      reasoning: 'search first',
      webSearch: { query: 'q', url: 'https://example.com', title: 'E' },
    } as ResponsesFakeReply);
    const first = await client().responses.create({
      model: 'oa-resp',
      input: 'Find it',
      tools: [{ type: 'web_search' }],
    });
    fakes.anthropic.enqueue({ text: 'Claude continues.' });
    const second = await client().responses.create({
      model: 'an-model',
      previous_response_id: first.id,
      input: 'And?',
    });
    expect(second.output_text).toBe('Claude continues.');
    const messages = fakes.anthropic.received.at(-1)!.body.messages;
    expect(messages.map((m: any) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(JSON.stringify(messages)).toContain('Found it.');
  });
});

describe('budgets and the ledger', () => {
  it('a team that cannot cover the hold gets a 429 and nothing is spent or sent', async () => {
    const err = await client(POOR)
      .responses.create({ model: 'oa-resp', input: 'hi', max_output_tokens: 4000 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 429, code: 'budget_exceeded' });
    expect(received()).toHaveLength(0);
    const budget = await fetch(`${gw.url}/v1/budget`, { headers: { authorization: `Bearer ${POOR}` } }).then(
      (r) => r.json() as Promise<any>,
    );
    expect(budget).toMatchObject({ spent_usd: 0, reserved_usd: 0 });

    // A smaller max_output_tokens fits, and is charged what the upstream reported.
    fakes.openai.enqueue({ text: 'ok', usage: { input: 10, output: 2 } });
    await client(POOR).responses.create({ model: 'oa-resp', input: 'hi', max_output_tokens: 100 });
    const after = await fetch(`${gw.url}/v1/budget`, { headers: { authorization: `Bearer ${POOR}` } }).then(
      (r) => r.json() as Promise<any>,
    );
    expect(after).toMatchObject({ spent_usd: usd(10 * 1000 + 2 * 2000), reserved_usd: 0 });
  });

  it('without max_output_tokens, a short budget sets the cap it can pay for in the body sent', async () => {
    fakes.openai.enqueue({ text: 'ok', usage: { input: 10, output: 2 } });
    const { response } = await client(LEAN)
      .responses.create({ model: 'oa-resp', input: 'hi' })
      .withResponse();
    const cap = Number(response.headers.get('x-quorum-max-tokens'));
    // $0.001 less the prompt's bound, at $2/M: just under 500 tokens (the allowance, 4096, would cost $0.008).
    expect(cap).toBeGreaterThan(450);
    expect(cap).toBeLessThan(500);
    expect(received()[0]!.body.max_output_tokens).toBe(cap);
  });

  it('a client that leaves a stream early stops the upstream call, is charged what it used, and holds nothing', async () => {
    const budget = async () =>
      (await fetch(`${gw.url}/v1/budget`, { headers: { authorization: `Bearer ${POOR}` } }).then((r) =>
        r.json(),
      )) as any;
    const spentBefore = (await budget()).spent_usd;
    fakes.openai.enqueue({ text: 'word '.repeat(200), chunkDelayMs: 20 });
    const stream = await client(POOR).responses.create({
      model: 'oa-resp',
      input: 'long',
      stream: true,
      max_output_tokens: 100,
    });
    for await (const event of stream) if (event.type === 'response.output_text.delta') break;
    await received()[0]!.done;
    expect(received()[0]!.aborted).toBe(true);
    await expect.poll(async () => (await budget()).reserved_usd).toBe(0);
    expect((await budget()).spent_usd).toBeGreaterThan(spentBefore);
  });

  it('one ledger row per call, priced from the reported usage, cached input at its price', async () => {
    const spend = async () => {
      await store.ledger.flush();
      const res = await fetch(`${gw.url}/admin/spend?team=beta&group_by=model`, {
        headers: { authorization: `Bearer ${MASTER}` },
      });
      return (
        ((await res.json()) as any).data.find((r: any) => r.group === 'oa-resp') ?? {
          requests: 0,
          input_tokens: 0,
          output_tokens: 0,
          cost_usd: 0,
        }
      );
    };
    const before = await spend();
    fakes.openai.enqueue({ text: 'a', usage: { input: 1000, output: 100, cached: 400 } });
    await client(BETA).responses.create({ model: 'oa-resp', input: 'ledger me' });
    fakes.openai.enqueue({ text: 'b', usage: { input: 200, output: 50 } });
    const stream = await client(BETA).responses.create({
      model: 'oa-resp',
      input: 'ledger me too',
      stream: true,
    });
    for await (const _ of stream) {
      // drain
    }
    const after = await spend();
    expect(after.requests - before.requests).toBe(2);
    expect(after.input_tokens - before.input_tokens).toBe(1200);
    expect(after.output_tokens - before.output_tokens).toBe(150);
    const cost = usd(600 * 1000 + 400 * 500 + 100 * 2000 + 200 * 1000 + 50 * 2000);
    expect(after.cost_usd - before.cost_usd).toBeCloseTo(cost, 12);
  });
});

describe('upstream failures', () => {
  it('a 500 falls back to the next deployment that serves the Responses API', async () => {
    fakes.openai.enqueue(
      { error: { status: 500, message: 'boom', type: 'server_error' } },
      { text: 'steady answer' },
    );
    const { data, response } = await client()
      .responses.create({ model: 'oa-flaky', input: 'hi' })
      .withResponse();
    expect(data.output_text).toBe('steady answer');
    expect(data.model).toBe('oa-steady');
    expect(response.headers.get('x-quorum-model')).toBe('oa-steady');
    expect(received().map((r) => [r.path, r.body.model])).toEqual([
      ['/v1/responses', 'gpt-flaky-up'],
      ['/v1/responses', 'gpt-steady-up'],
    ]);
  });

  it('a stream that fails before its answer begins falls back too', async () => {
    fakes.openai.enqueue(
      { failWith: { code: 'server_error', message: 'upstream fell over' } } as ResponsesFakeReply,
      {
        text: 'recovered',
      },
    );
    const stream = await client().responses.create({ model: 'oa-flaky', input: 'hi', stream: true });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events.map((e) => e.type)).not.toContain('response.failed');
    expect(events.at(-1)).toMatchObject({ type: 'response.completed', response: { model: 'oa-steady' } });
    expect(events[0]!.sequence_number).toBe(0);
    expect(received()).toHaveLength(2);
  });

  it('an input the upstream cannot resolve is the client’s 400 in the upstream’s words, without fallback', async () => {
    const { status, json } = await post({
      model: 'oa-flaky',
      input: [
        { type: 'reasoning', id: 'rs_never_stored', summary: [] },
        { role: 'user', content: 'hi' },
      ],
    });
    expect(status).toBe(400);
    expect(json.error.message).toMatch(/Item with id 'rs_never_stored' not found/);
    expect(received()).toHaveLength(1);
  });

  it('every deployment failing is a clear 502 naming the attempts', async () => {
    fakes.openai.enqueue(
      { error: { status: 500, message: 'boom', type: 'server_error' } },
      { error: { status: 503, message: 'down', type: 'server_error' } },
    );
    const { status, json } = await post({ model: 'oa-flaky', input: 'hi' });
    expect(status).toBe(502);
    expect(json.error.message).toMatch(/oa-flaky|oa-steady/);
  });

  it('an error event mid-answer reaches the client as the upstream sent it; the response is stored failed', async () => {
    fakes.openai.enqueue({
      text: 'partial answer here',
      streamError: { code: 'server_error', message: 'lost it' },
    } as ResponsesFakeReply);
    const stream = await client().responses.create({ model: 'oa-resp', input: 'hi', stream: true });
    let id = '';
    const err = await (async () => {
      for await (const event of stream) if (event.type === 'response.created') id = event.response.id;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as Error).message).toContain('lost it');
    const got = await stored(id);
    expect(got.json).toMatchObject({
      id,
      status: 'failed',
      error: { code: 'server_error', message: 'lost it' },
    });
  });

  it('a stream cut mid-answer ends with Quorum’s error event, numbered after the last one', async () => {
    fakes.openai.enqueue({ text: 'one two three four five', dropAfterChunks: 6, chunkDelayMs: 5 });
    const res = await fetch(`${gw.url}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ALPHA}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'oa-resp', input: 'hi', stream: true }),
    });
    expect(res.status).toBe(200);
    const frames = (await res.text()).trim().split('\n\n');
    const data = frames.map((f) =>
      JSON.parse(
        f
          .split('\n')
          .find((l) => l.startsWith('data: '))!
          .slice(6),
      ),
    );
    expect(data.map((d) => d.sequence_number)).toEqual(data.map((_, i) => i));
    expect(data.at(-1)).toMatchObject({ type: 'error', error: { type: expect.any(String) } });
    const id = data[0].response.id;
    expect((await stored(id)).json).toMatchObject({ status: 'failed' });
  });
});

describe('bad input', () => {
  it.each([
    ['no model', { input: 'hi' }, 400, 'model'],
    [
      'a negative max_output_tokens',
      { model: 'oa-resp', input: 'hi', max_output_tokens: -1 },
      400,
      'max_output_tokens',
    ],
    ['an input that is a number', { model: 'oa-resp', input: 5 }, 400, 'input'],
    ['background mode', { model: 'oa-resp', input: 'hi', background: true }, 400, 'background'],
    ['a hosted conversation', { model: 'oa-resp', input: 'hi', conversation: 'conv_1' }, 400, 'conversation'],
    [
      'an unknown previous response',
      { model: 'oa-resp', input: 'hi', previous_response_id: 'resp_nope' },
      404,
      'previous_response_id',
    ],
    ['an unknown model', { model: 'no-such-model', input: 'hi' }, 404, 'model'],
  ])('%s: the status and param said, and nothing sent upstream', async (_name, body, status, param) => {
    const res = await post(body);
    expect(res.status).toBe(status);
    expect(res.json.error.param).toBe(param);
    expect(received()).toHaveLength(0);
  });

  it('malformed JSON is a 400', async () => {
    const res = await post('{"model": "oa-resp", "input": ');
    expect(res.status).toBe(400);
    expect(received()).toHaveLength(0);
  });
});
