/**
 * The OpenAI Responses API on a real gateway with a SQLite store, driven by the official `openai` SDK:
 * text, tools and a function output, structured output, the event stream, conversations continued
 * with `previous_response_id` — against OpenAI-, Anthropic- and Gemini-typed upstreams — then stored
 * responses per team, budgets and the ledger, and every kind of bad input.
 */
import type OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/index.ts';
import type { FakeServer } from '../fakes/harness.ts';
import {
  type Fakes,
  fakesConfig,
  PROVIDERS,
  startFakes,
  startGateway,
  type TestGateway,
  tempStore,
} from './helpers/gateway.ts';
import { WEATHER } from './helpers/responses-tools.ts';

const MASTER = 'mk-responses-master';
const ALPHA = 'qk-responses-alpha-0001';
const BETA = 'qk-responses-beta-0002';
const POOR = 'qk-responses-poor-0003';
const NARROW = 'qk-responses-narrow-0004';
const CAPPED = 'qk-responses-capped-0005';

let temp: Awaited<ReturnType<typeof tempStore>> | undefined;
let fakes: Fakes;
let store: Store;
let gw: TestGateway;
let alpha: OpenAI;
let beta: OpenAI;

beforeAll(async () => {
  fakes = await startFakes();
  temp = await tempStore('quorum-responses-');
  store = temp.store;
  gw = await startGateway(
    fakesConfig(fakes, {
      teams: [
        { id: 'alpha' },
        { id: 'beta' },
        { id: 'poor', budget: { limit_usd: 0.0001, period: 'total' } },
        { id: 'narrow', models: ['oa-model'] },
        { id: 'capped', budget: { limit_usd: 10, period: 'total' } },
      ],
      keys: [
        { key: ALPHA, team: 'alpha', name: 'alpha-ci' },
        { key: BETA, team: 'beta', name: 'beta-ci' },
        { key: POOR, team: 'poor', name: 'poor-ci' },
        { key: NARROW, team: 'narrow', name: 'narrow-ci' },
        { key: CAPPED, team: 'capped', name: 'capped-ci' },
      ],
      ensembles: { pair: { strategy: 'best_of_n', models: ['oa-model', 'an-model'], judge: 'ge-model' } },
    }),
    { masterKey: MASTER, store },
  );
  alpha = gw.client(ALPHA);
  beta = gw.client(BETA);
});
afterAll(async () => {
  await gw?.close();
  await fakes?.close();
  await temp?.close();
});
beforeEach(() => {
  fakes.openai.reset();
  fakes.anthropic.reset();
  fakes.gemini.reset();
});

const fakeOf = (name: (typeof PROVIDERS)[number]['fake']): FakeServer => fakes[name];
/** What the upstream was last sent, as text: enough to see a conversation's turns in any wire format. */
const lastSent = (fake: FakeServer) => JSON.stringify(fake.received.at(-1)?.body);

describe.each(PROVIDERS)('Responses through a $type upstream', ({ model, fake }) => {
  it('answers text, in the Response shape, with usage and the catalog id as model', async () => {
    fakeOf(fake).respond({ text: 'Hello from upstream.', usage: { input: 12, output: 5 } });
    const { data: response, response: raw } = await alpha.responses
      .create({ model, input: 'Say hello', instructions: 'Be brief.' })
      .withResponse();
    expect(response.id).toMatch(/^resp_[0-9a-f]{48}$/);
    expect(response).toMatchObject({
      object: 'response',
      status: 'completed',
      model,
      instructions: 'Be brief.',
      store: true,
      error: null,
      incomplete_details: null,
      previous_response_id: null,
      usage: {
        input_tokens: 12,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 5,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 17,
      },
    });
    expect(response.output_text).toBe('Hello from upstream.');
    expect(response.output).toEqual([
      {
        id: expect.stringMatching(/^msg_/),
        type: 'message',
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text: 'Hello from upstream.', annotations: [], logprobs: [] }],
      },
    ]);
    expect((response as any).quorum).toMatchObject({ attempts: [{ model, status: 200 }] });
    expect(raw.headers.get('x-quorum-model')).toBe(model);
    expect(Number(raw.headers.get('x-quorum-cost-usd'))).toBeGreaterThan(0);
    expect(raw.headers.get('x-quorum-request-id')).toMatch(/^[0-9a-f]{32}$/);
    expect(Number(raw.headers.get('x-quorum-overhead-ms'))).toBeGreaterThanOrEqual(0);
    expect(raw.headers.get('content-type')).toBe('application/json');
    // The instructions and the input reached the upstream.
    expect(lastSent(fakeOf(fake))).toContain('Be brief.');
    expect(lastSent(fakeOf(fake))).toContain('Say hello');
  });

  it('calls a function tool, then answers with its output in a second turn', async () => {
    fakeOf(fake).enqueue({
      toolCalls: [{ id: 'call_w1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
    });
    const first = await alpha.responses.create({ model, input: 'Weather in Paris?', tools: [WEATHER] });
    const call = first.output.find((item) => item.type === 'function_call');
    expect(call).toMatchObject({
      type: 'function_call',
      id: expect.stringMatching(/^fc_/),
      name: 'get_weather',
      arguments: '{"city":"Paris"}',
      status: 'completed',
    });
    expect(call!.type === 'function_call' && call!.call_id).toBeTruthy();
    expect(lastSent(fakeOf(fake))).toContain('get_weather');

    fakeOf(fake).enqueue({ text: 'It is 22C and sunny in Paris.' });
    const second = await alpha.responses.create({
      model,
      previous_response_id: first.id,
      tools: [WEATHER],
      input: [
        {
          type: 'function_call_output',
          call_id: (call as { call_id: string }).call_id,
          output: '22C, sunny',
        },
      ],
    });
    expect(second.output_text).toBe('It is 22C and sunny in Paris.');
    expect(second.previous_response_id).toBe(first.id);
    // The upstream saw the whole exchange: the question, the call and its output.
    const sent = lastSent(fakeOf(fake));
    expect(sent).toContain('Weather in Paris?');
    expect(sent).toContain('get_weather');
    expect(sent).toMatch(/Paris.*22C, sunny/);
  });

  it('gives the whole function-call round trip sent as input items, without a stored history', async () => {
    fakeOf(fake).enqueue({ text: 'Paris: 22C.' });
    const response = await alpha.responses.create({
      model,
      store: false,
      tools: [WEATHER],
      input: [
        { role: 'user', content: [{ type: 'input_text', text: 'Weather in Paris?' }] },
        { type: 'function_call', call_id: 'call_abc', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call_output', call_id: 'call_abc', output: '22C' },
      ],
    });
    expect(response.output_text).toBe('Paris: 22C.');
    expect((response as { store?: boolean }).store).toBe(false);
    await expect(alpha.responses.retrieve(response.id)).rejects.toMatchObject({ status: 404 });
    expect(lastSent(fakeOf(fake))).toMatch(/Weather in Paris\?.*get_weather.*22C/);
  });

  it('asks for JSON that follows a schema (text.format json_schema)', async () => {
    fakeOf(fake).respond({ text: '{"city":"Paris","celsius":22}' });
    const response = await alpha.responses.create({
      model,
      input: 'Weather in Paris as JSON',
      text: {
        format: {
          type: 'json_schema',
          name: 'weather',
          strict: true,
          schema: {
            type: 'object',
            properties: { city: { type: 'string' }, celsius: { type: 'number' } },
            required: ['city', 'celsius'],
            additionalProperties: false,
          },
        },
      },
    });
    expect(JSON.parse(response.output_text)).toEqual({ city: 'Paris', celsius: 22 });
    expect(response.text?.format).toMatchObject({ type: 'json_schema', name: 'weather' });
    // The schema reached the upstream in its own terms.
    expect(lastSent(fakeOf(fake))).toContain('celsius');
  });

  it('streams the Responses events; response.completed carries usage and the stored id', async () => {
    fakeOf(fake).respond({ text: 'One two three four.', usage: { input: 9, output: 4 } });
    const stream = alpha.responses.stream({ model, input: 'Count to four' });
    const events: any[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();

    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const types = events.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
    ]);
    expect(types.slice(-4)).toEqual([
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const deltas = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe('One two three four.');

    const created = events[0].response;
    const completed = events.at(-1).response;
    expect(created).toMatchObject({ status: 'in_progress', output: [], usage: null, model });
    expect(completed.id).toBe(created.id);
    expect(completed.usage).toMatchObject({ input_tokens: 9, output_tokens: 4, total_tokens: 13 });
    expect(final.output_text).toBe('One two three four.');

    const stored = await alpha.responses.retrieve(created.id);
    expect(stored.id).toBe(created.id);
    expect(stored.output_text).toBe('One two three four.');
    expect(stored.usage).toEqual(completed.usage);
  });

  it('streams a function call as argument deltas', async () => {
    fakeOf(fake).respond({
      toolCalls: [{ id: 'call_s1', name: 'get_weather', arguments: '{"city":"Oslo"}' }],
    });
    const stream = alpha.responses.stream({ model, input: 'Weather in Oslo?', tools: [WEATHER] });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const final = await stream.finalResponse();
    expect(types).toContain('response.function_call_arguments.delta');
    expect(types).toContain('response.function_call_arguments.done');
    expect(final.output).toEqual([
      expect.objectContaining({ type: 'function_call', name: 'get_weather', arguments: '{"city":"Oslo"}' }),
    ]);
  });

  it('continues a conversation with previous_response_id: the upstream sees the earlier turns', async () => {
    fakeOf(fake).enqueue({ text: 'Nice to meet you, Ada.' });
    const first = await alpha.responses.create({ model, input: 'My name is Ada.' });
    fakeOf(fake).enqueue({ text: 'Your first question was your name.' });
    const second = await alpha.responses.create({
      model,
      previous_response_id: first.id,
      input: 'And my job?',
    });
    fakeOf(fake).enqueue({ text: 'You are Ada.' });
    const third = await alpha.responses.create({
      model,
      previous_response_id: second.id,
      input: 'Who am I?',
    });
    expect(third.output_text).toBe('You are Ada.');
    const sent = lastSent(fakeOf(fake));
    for (const turn of [
      'My name is Ada.',
      'Nice to meet you, Ada.',
      'And my job?',
      'Your first question was',
      'Who am I?',
    ]) {
      expect(sent).toContain(turn);
    }
    // Earlier turns in order.
    expect(sent.indexOf('My name is Ada.')).toBeLessThan(sent.indexOf('And my job?'));
  });
});

describe('settings and endings', () => {
  it('sends an OpenAI-compatible upstream the settings it takes, under their chat names, and nothing of ours', async () => {
    await alpha.responses.create({
      model: 'oa-model',
      input: 'hi',
      max_output_tokens: 50,
      temperature: 0.3,
      reasoning: { effort: 'low' },
      metadata: { ticket: 'T-9' },
      user: 'end-user-1',
    });
    const sent = fakes.openai.received[0]!.body;
    expect(sent).toMatchObject({
      model: 'gpt-up',
      max_completion_tokens: 50,
      temperature: 0.3,
      reasoning_effort: 'low',
      user: 'end-user-1',
    });
    for (const field of [
      'metadata',
      'store',
      'input',
      'instructions',
      'reasoning',
      'max_output_tokens',
      'quorum',
    ]) {
      expect(sent).not.toHaveProperty(field);
    }
  });

  it('reports an answer cut by the token limit as incomplete, in JSON and in the stream', async () => {
    fakes.anthropic.respond({ text: 'cut short', finish: 'length' });
    const response = await alpha.responses.create({
      model: 'an-model',
      input: 'long story',
      max_output_tokens: 3,
    });
    expect(response).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
      output: [{ type: 'message', status: 'incomplete' }],
    });
    const stream = alpha.responses.stream({ model: 'an-model', input: 'long story', max_output_tokens: 3 });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types.at(-1)).toBe('response.incomplete');
    expect((await stream.finalResponse()).status).toBe('incomplete');
  });
});

describe('stored responses', () => {
  it('retrieves, lists input items (paged), and deletes', async () => {
    const response = await alpha.responses.create({
      model: 'oa-model',
      input: [
        { role: 'developer', content: 'Answer in French.' },
        { role: 'user', content: 'one' },
        { role: 'user', content: 'two' },
        { role: 'user', content: [{ type: 'input_text', text: 'three' }] },
      ],
      metadata: { ticket: 'T-1' },
    });
    const got = await alpha.responses.retrieve(response.id);
    expect(got).toMatchObject({
      id: response.id,
      metadata: { ticket: 'T-1' },
      output_text: response.output_text,
    });

    const all = [];
    for await (const item of alpha.responses.inputItems.list(response.id, { limit: 2, order: 'asc' }))
      all.push(item);
    expect(all.map((i: any) => i.content[0].text)).toEqual(['Answer in French.', 'one', 'two', 'three']);
    expect(all.every((i: any) => /^msg_/.test(i.id) && i.type === 'message')).toBe(true);

    const page = await alpha.responses.inputItems.list(response.id, { limit: 3 });
    expect(page.data.map((i: any) => i.content[0].text)).toEqual(['three', 'two', 'one']);
    expect(page.has_more).toBe(true);
    const raw = await fetch(`${gw.url}/v1/responses/${response.id}/input_items?limit=3`, {
      headers: { authorization: `Bearer ${ALPHA}` },
    }).then((r) => r.json() as Promise<any>);
    expect(raw).toMatchObject({
      object: 'list',
      first_id: page.data[0]!.id,
      last_id: page.data[2]!.id,
      has_more: true,
    });

    const deleted = await fetch(`${gw.url}/v1/responses/${response.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ALPHA}` },
    });
    expect(await deleted.json()).toEqual({ id: response.id, object: 'response.deleted', deleted: true });
    await expect(alpha.responses.retrieve(response.id)).rejects.toMatchObject({ status: 404 });
    await expect(alpha.responses.delete(response.id)).rejects.toMatchObject({ status: 404 });
  });

  it('keeps each team to its own: another team cannot read, list, continue or delete (404); the master key can', async () => {
    const mine = await alpha.responses.create({ model: 'oa-model', input: 'a secret of alpha' });
    const asUnknown = (p: Promise<unknown>) => expect(p).rejects.toMatchObject({ status: 404 });
    await asUnknown(beta.responses.retrieve(mine.id));
    await asUnknown(beta.responses.inputItems.list(mine.id));
    await asUnknown(beta.responses.delete(mine.id));
    const before = fakes.openai.received.length;
    const chained = await beta.responses
      .create({ model: 'oa-model', previous_response_id: mine.id, input: 'tell me' })
      .catch((err) => err);
    expect(chained).toMatchObject({
      status: 404,
      code: 'previous_response_not_found',
      param: 'previous_response_id',
    });
    expect(fakes.openai.received.length).toBe(before);

    const unknown = await beta.responses.retrieve('resp_doesnotexist').catch((e) => e);
    const other = await beta.responses.retrieve(mine.id).catch((e) => e);
    expect(other.error).toEqual({
      ...unknown.error,
      message: unknown.error.message.replace('resp_doesnotexist', mine.id),
    });

    expect((await gw.client(MASTER).responses.retrieve(mine.id)).id).toBe(mine.id);
    expect((await alpha.responses.retrieve(mine.id)).id).toBe(mine.id);
  });

  it('refuses to continue a conversation one of whose responses was deleted, naming it', async () => {
    const first = await alpha.responses.create({ model: 'oa-model', input: 'first' });
    const second = await alpha.responses.create({
      model: 'oa-model',
      previous_response_id: first.id,
      input: 'second',
    });
    await alpha.responses.delete(first.id);
    const err = await alpha.responses
      .create({ model: 'oa-model', previous_response_id: second.id, input: 'third' })
      .catch((e) => e);
    expect(err).toMatchObject({ status: 404, code: 'previous_response_not_found' });
    expect(err.message).toContain(first.id);
  });
});

describe('the pipeline applies unchanged', () => {
  it('answers an ensemble preset as a Response, with its quorum record', async () => {
    const response = await alpha.responses.create({ model: 'pair', input: 'Pick a colour' });
    expect(response.status).toBe('completed');
    expect(['oa-model', 'an-model']).toContain(response.model);
    expect((response as any).quorum).toMatchObject({ strategy: 'best_of_n', candidates: expect.any(Array) });
  });

  it('refuses with 429 when the team budget cannot cover the hold, spending nothing', async () => {
    const err = await gw
      .client(POOR)
      .responses.create({ model: 'an-model', input: 'expensive' })
      .catch((e) => e);
    expect(err).toMatchObject({ status: 429, code: 'budget_exceeded' });
    expect(fakes.anthropic.received).toHaveLength(0);
    const budget = await fetch(`${gw.url}/v1/budget`, { headers: { authorization: `Bearer ${POOR}` } }).then(
      (r) => r.json() as Promise<any>,
    );
    expect(budget.spent_usd).toBe(0);
  });

  it('records each response in the ledger (/admin/spend)', async () => {
    const spendOf = async () => {
      await store.ledger.flush();
      const res = await fetch(`${gw.url}/admin/spend?team=beta&group_by=model`, {
        headers: { authorization: `Bearer ${MASTER}` },
      });
      return ((await res.json()) as any).data as { group: string; requests: number; cost_usd: number }[];
    };
    const before = (await spendOf()).find((r) => r.group === 'ge-model')?.requests ?? 0;
    await beta.responses.create({ model: 'ge-model', input: 'ledger me' });
    const stream = beta.responses.stream({ model: 'ge-model', input: 'ledger me too' });
    await stream.finalResponse();
    const row = (await spendOf()).find((r) => r.group === 'ge-model');
    expect(row?.requests).toBe(before + 2);
    expect(row?.cost_usd).toBeGreaterThan(0);
  });

  it('refuses a model outside the team allow-list (403) and an unknown model (404)', async () => {
    const narrow = gw.client(NARROW);
    await expect(narrow.responses.create({ model: 'an-model', input: 'hi' })).rejects.toMatchObject({
      status: 403,
      code: 'model_not_allowed',
    });
    await expect(alpha.responses.create({ model: 'no-such-model', input: 'hi' })).rejects.toMatchObject({
      status: 404,
      code: 'model_not_found',
    });
  });

  it('a client that leaves a stream early stops the upstream call and releases the budget hold', async () => {
    fakes.openai.respond({ text: 'word '.repeat(200), chunkDelayMs: 20 });
    const stream = await gw
      .client(CAPPED)
      .responses.create({ model: 'oa-model', input: 'long', stream: true });
    for await (const event of stream) if (event.type === 'response.output_text.delta') break;
    await fakes.openai.received[0]!.done;
    expect(fakes.openai.received[0]!.aborted).toBe(true);
    const budget = async () =>
      (await fetch(`${gw.url}/v1/budget`, { headers: { authorization: `Bearer ${CAPPED}` } }).then((r) =>
        r.json(),
      )) as any;
    await expect.poll(async () => (await budget()).reserved_usd).toBe(0);
    expect((await budget()).spent_usd).toBeGreaterThan(0);
  });

  it('ends a stream that fails midway with an error event the SDK raises, and stores it as failed', async () => {
    fakes.openai.respond({ text: 'a b c d e f g h', dropAfterChunks: 5, chunkDelayMs: 10 });
    const raw = await fetch(`${gw.url}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ALPHA}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'oa-model',
        input: 'the question that failed',
        stream: true,
        quorum: { fallbacks: [] },
      }),
    });
    const text = await raw.text();
    const frames = text.trim().split('\n\n');
    const last = frames.at(-1)!;
    expect(last).toMatch(/^event: error\ndata: /);
    const error = JSON.parse(last.slice(last.indexOf('data: ') + 6));
    const numbers = frames.map((f) => JSON.parse(f.slice(f.indexOf('data: ') + 6)).sequence_number);
    expect(numbers).toEqual(numbers.map((_, i) => i));
    expect(error).toMatchObject({
      type: 'error',
      code: 'upstream_failed',
      error: { code: 'upstream_failed' },
    });
    expect(text).not.toContain('[DONE]');
    const id = JSON.parse(frames[0]!.slice(frames[0]!.indexOf('data: ') + 6)).response.id;
    const failed = await alpha.responses.retrieve(id);
    expect(failed.status).toBe('failed');
    expect(failed.output_text).toMatch(/^a b/);
    // A follow-up carries what was asked, not the answer cut midway.
    fakes.openai.respond({ text: 'fine' });
    await alpha.responses.create({ model: 'oa-model', previous_response_id: id, input: 'again?' });
    expect(lastSent(fakes.openai)).toContain('the question that failed');
    expect(lastSent(fakes.openai)).not.toContain('a b');

    fakes.openai.respond({ text: 'a b c d e f g h', dropAfterChunks: 5, chunkDelayMs: 10 });
    const stream = await alpha.responses.create({
      model: 'oa-model',
      input: 'hi',
      stream: true,
      quorum: { fallbacks: [] },
    } as any);
    await expect(
      (async () => {
        for await (const _ of stream as any);
      })(),
    ).rejects.toThrow(/failed/);
  });
});

describe('bad input is a 4xx in the OpenAI error shape', () => {
  const post = async (body: string | object, key = ALPHA) => {
    const res = await fetch(`${gw.url}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  const shape = (param: string | null) => ({
    error: { message: expect.any(String), type: 'invalid_request_error', param, code: expect.any(String) },
  });

  it.each([
    ['malformed JSON', '{"model": "oa-model", "input": ', 400, null],
    ['no model', { input: 'hi' }, 400, 'model'],
    ['a body that is not an object', '["model", "oa-model"]', 400, null],
    ['an input item that is not an object', { model: 'oa-model', input: ['hi'] }, 400, 'input[0]'],
    [
      'a content part that is not an object',
      { model: 'oa-model', input: [{ role: 'user', content: [7] }] },
      400,
      'input[0].content[0]',
    ],
    [
      'a function tool without a name',
      { model: 'oa-model', input: 'hi', tools: [{ type: 'function' }] },
      400,
      'tools[0].name',
    ],
    [
      'a schema format without a schema',
      { model: 'oa-model', input: 'hi', text: { format: { type: 'json_schema', name: 'x' } } },
      400,
      'text.format.schema',
    ],
    ['an unknown field', { model: 'oa-model', input: 'hi', temprature: 1 }, 400, 'temprature'],
    [
      'an item type chat cannot carry',
      { model: 'oa-model', input: [{ type: 'web_search_call', id: 'ws_1' }] },
      400,
      'input[0].type',
    ],
    [
      'a reasoning item',
      { model: 'oa-model', input: [{ type: 'reasoning', summary: [] }] },
      400,
      'input[0].type',
    ],
    [
      'a content part of the wrong kind',
      {
        model: 'oa-model',
        input: [{ role: 'system', content: [{ type: 'input_image', image_url: 'https://x/y.png' }] }],
      },
      400,
      'input[0].content[0].type',
    ],
    [
      'a message without a role',
      { model: 'oa-model', input: [{ type: 'message', content: 'hi' }] },
      400,
      'input[0].role',
    ],
    [
      'a file id',
      { model: 'oa-model', input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1' }] }] },
      400,
      'input[0].content[0].image_url',
    ],
    [
      'a function output without call_id',
      { model: 'oa-model', input: [{ type: 'function_call_output', output: 'x' }] },
      400,
      'input[0].call_id',
    ],
    [
      'a built-in tool',
      { model: 'oa-model', input: 'hi', tools: [{ type: 'web_search' }] },
      400,
      'tools[0].type',
    ],
    [
      'a tool choice naming no tool',
      { model: 'oa-model', input: 'hi', tools: [WEATHER], tool_choice: { type: 'function', name: 'nope' } },
      400,
      'tool_choice.name',
    ],
    ['background mode', { model: 'oa-model', input: 'hi', background: true }, 400, 'background'],
    [
      'a hosted conversation',
      { model: 'oa-model', input: 'hi', conversation: 'conv_1' },
      400,
      'conversation',
    ],
    ['a prompt template', { model: 'oa-model', prompt: { id: 'pmpt_1' } }, 400, 'prompt'],
    ['no input at all', { model: 'oa-model', input: [] }, 400, 'input'],
    [
      'too much metadata',
      {
        model: 'oa-model',
        input: 'hi',
        metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])),
      },
      400,
      'metadata',
    ],
    [
      'an unknown previous_response_id',
      { model: 'oa-model', input: 'hi', previous_response_id: 'resp_nope' },
      404,
      'previous_response_id',
    ],
  ])('%s', async (_what, body, status, param) => {
    const res = await post(body);
    expect(res.status).toBe(status);
    expect(res.json).toEqual(shape(param));
    expect(fakes.openai.received).toHaveLength(0);
  });

  it('refuses bad paging of input items', async () => {
    const response = await alpha.responses.create({ model: 'oa-model', input: 'page me' });
    for (const query of ['limit=0', 'limit=101', 'limit=x', 'order=up', 'after=msg_unknown']) {
      const res = await fetch(`${gw.url}/v1/responses/${response.id}/input_items?${query}`, {
        headers: { authorization: `Bearer ${ALPHA}` },
      });
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as any).error.type).toBe('invalid_request_error');
    }
  });
});

it('lists the Responses paths in /openapi.json', async () => {
  const doc = (await fetch(`${gw.url}/openapi.json`).then((r) => r.json())) as any;
  expect(Object.keys(doc.paths)).toEqual(
    expect.arrayContaining(['/v1/responses', '/v1/responses/{id}', '/v1/responses/{id}/input_items']),
  );
  expect(doc.paths['/v1/responses/{id}'].delete).toBeDefined();
});
