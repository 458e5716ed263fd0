/**
 * Spend on the Messages surface counts like any other: a budget hold before the call (a team that
 * cannot cover it gets Anthropic's 429 and nothing is spent), one ledger row per upstream call at the
 * right price — prompt-cache reads at the cached price, cache writes at the input price, as the
 * Anthropic adapter prices them — visible in /admin/spend, for passed-through and translated calls.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/index.ts';
import type { AnthropicFakeReply } from '../fakes/anthropic.ts';
import {
  type Fakes,
  fakesConfig,
  startFakes,
  startGateway,
  type TestGateway,
  tempStore,
} from './helpers/gateway.ts';

const MASTER = 'mk-messages-budget-master';
const KEY = 'qk-messages-budget-0001';
const POOR = 'qk-messages-poor-0002';
const CAPPED = 'qk-messages-capped-0003';
let temp: Awaited<ReturnType<typeof tempStore>> | undefined;
let fakes: Fakes;
let store: Store;
let gw: TestGateway;

// an-model: $3 / $15 per 1M tokens, cached input $0.30; oa-model: $1 / $2, cached $0.50.
const usd = (nanos: number) => nanos / 1e9;

beforeAll(async () => {
  fakes = await startFakes();
  temp = await tempStore('quorum-messages-budget-');
  store = temp.store;
  gw = await startGateway(
    fakesConfig(fakes, {
      teams: [
        { id: 'research', budget: { limit_usd: 10, period: 'total' } },
        // $0.01: 1000 output tokens at $15/M alone would be $0.015. Its floor keeps a request's own
        // max_tokens (up to 8000) from being lowered to fit, so it is refused.
        { id: 'poor', budget: { limit_usd: 0.01, period: 'total', min_output_tokens: 8000 } },
        // The same $0.01 with the default floor (256 tokens): a request's cap is lowered to fit.
        { id: 'capped', budget: { limit_usd: 0.01, period: 'total' } },
      ],
      keys: [
        { key: KEY, team: 'research', name: 'claude-code' },
        { key: POOR, team: 'poor', name: 'poor' },
        { key: CAPPED, team: 'capped', name: 'capped' },
      ],
    }),
    { masterKey: MASTER, gateway: { ledger: store.ledger }, app: () => ({ store }) },
  );
});
afterAll(async () => {
  await gw?.close();
  await fakes?.close();
  await temp?.close();
});
beforeEach(() => {
  fakes.anthropic.reset();
  fakes.openai.reset();
});

const client = (apiKey = KEY) => new Anthropic({ baseURL: gw.url, apiKey, maxRetries: 0 });

async function spend(query: string) {
  await store.ledger.flush();
  const res = await fetch(`${gw.url}/admin/spend?${query}`, {
    headers: { authorization: `Bearer ${MASTER}` },
  });
  return ((await res.json()) as any).data as {
    group: string;
    requests: number;
    input_tokens: number;
    output_tokens: number;
    cost_usd: number;
  }[];
}

async function budget(key: string) {
  const res = await fetch(`${gw.url}/v1/budget`, { headers: { 'x-api-key': key } });
  return (await res.json()) as any;
}

describe('the budget hold', () => {
  it('a team that cannot cover the worst case gets a 429 in Anthropic shape, and nothing is spent', async () => {
    const params = {
      model: 'an-model',
      max_tokens: 1000,
      messages: [{ role: 'user' as const, content: 'hi' }],
    };
    const err = await client(POOR)
      .messages.create(params)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    const e = err as InstanceType<typeof Anthropic.RateLimitError>;
    expect(e.status).toBe(429);
    expect(e.type).toBe('rate_limit_error');
    expect(e.errorCode).toBe('budget_exceeded');
    expect(e.headers?.get('x-should-retry')).toBe('false');
    expect(e.message).toMatch(/poor.*max_tokens/);
    // Translated models and streams are held the same way.
    const translated = await client(POOR)
      .messages.stream({ ...params, model: 'oa-model', max_tokens: 8000 })
      .finalMessage()
      .catch((x: unknown) => x);
    expect(translated).toBeInstanceOf(Anthropic.RateLimitError);
    expect(fakes.anthropic.received).toHaveLength(0);
    expect(fakes.openai.received).toHaveLength(0);
    expect(await budget(POOR)).toMatchObject({ spent_usd: 0, reserved_usd: 0 });

    // A smaller max_tokens fits, and is charged.
    fakes.anthropic.enqueue({ text: 'ok', usage: { input: 10, output: 2 } });
    const ok = await client(POOR).messages.create({ ...params, max_tokens: 100 });
    expect(ok.content[0]).toMatchObject({ text: 'ok' });
    expect(await budget(POOR)).toMatchObject({ spent_usd: usd(10 * 3000 + 2 * 15000), reserved_usd: 0 });
  });

  it('a max_tokens the remainder cannot pay for is lowered to what it can, in the body sent upstream', async () => {
    fakes.anthropic.enqueue({ text: 'ok', usage: { input: 10, output: 2 } });
    const { response } = await client(CAPPED)
      .messages.create({ model: 'an-model', max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    const cap = Number(response.headers.get('x-quorum-max-tokens'));
    // $0.01 less the prompt's bound, at $15/M: about 660 tokens.
    expect(cap).toBeGreaterThan(600);
    expect(cap).toBeLessThan(667);
    expect(fakes.anthropic.received[0]!.body.max_tokens).toBe(cap);
    // Translated models are capped the same way.
    fakes.openai.enqueue({ text: 'ok', usage: { input: 10, output: 2 } });
    const translated = await client(CAPPED)
      .messages.create({ model: 'oa-model', max_tokens: 8000, messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    const translatedCap = Number(translated.response.headers.get('x-quorum-max-tokens'));
    expect(translatedCap).toBeGreaterThan(4000);
    expect(translatedCap).toBeLessThan(5000);
    expect(fakes.openai.received[0]!.body.max_tokens).toBe(translatedCap);
  });
});

describe('the ledger', () => {
  it('a passed-through answer is charged from its usage, cache reads and writes included', async () => {
    const before = (await spend('group_by=model')).find((r) => r.group === 'an-model');
    // 1000 prompt tokens: 300 read from the cache, 100 written to it, 600 fresh; 200 output.
    fakes.anthropic.enqueue({
      text: 'cached answer',
      usage: { input: 1000, output: 200, cached: 300 },
      cacheCreation: 100,
    } as AnthropicFakeReply);
    const { data, response } = await client()
      .messages.create({
        model: 'an-model',
        max_tokens: 500,
        system: [{ type: 'text', text: 'preamble', cache_control: { type: 'ephemeral' } }],
        messages: [{ role: 'user', content: 'q' }],
      })
      .withResponse();
    expect(data.usage).toMatchObject({
      input_tokens: 600,
      cache_read_input_tokens: 300,
      cache_creation_input_tokens: 100,
      output_tokens: 200,
    });
    // Fresh and written tokens at $3/M, read ones at $0.30/M, output at $15/M.
    const cost = usd(700 * 3000 + 300 * 300 + 200 * 15000);
    expect(Number(response.headers.get('x-quorum-cost-usd'))).toBe(cost);
    const after = (await spend('group_by=model')).find((r) => r.group === 'an-model')!;
    expect(after.requests - (before?.requests ?? 0)).toBe(1);
    expect(after.input_tokens - (before?.input_tokens ?? 0)).toBe(1000);
    expect(after.output_tokens - (before?.output_tokens ?? 0)).toBe(200);
    expect(after.cost_usd - (before?.cost_usd ?? 0)).toBeCloseTo(cost, 12);
  });

  it('a passed-through stream is charged from message_start and message_delta', async () => {
    const before = (await spend('group_by=model')).find((r) => r.group === 'an-model');
    fakes.anthropic.enqueue({
      text: 'streamed',
      usage: { input: 500, output: 40, cached: 100 },
      cacheCreation: 50,
    } as AnthropicFakeReply);
    const final = await client()
      .messages.stream({ model: 'an-model', max_tokens: 1000, messages: [{ role: 'user', content: 'q' }] })
      .finalMessage();
    expect(final.usage).toMatchObject({ input_tokens: 350, cache_read_input_tokens: 100, output_tokens: 40 });
    const after = (await spend('group_by=model')).find((r) => r.group === 'an-model')!;
    expect(after.requests - (before?.requests ?? 0)).toBe(1);
    expect(after.cost_usd - (before?.cost_usd ?? 0)).toBeCloseTo(
      usd(400 * 3000 + 100 * 300 + 40 * 15000),
      12,
    );
  });

  it('a translated answer is charged at its own model, under the calling key', async () => {
    const before = (await spend('group_by=model')).find((r) => r.group === 'oa-model');
    fakes.openai.enqueue({ text: 'ok', usage: { input: 100, output: 50 } });
    const { response } = await client()
      .messages.create({ model: 'oa-model', max_tokens: 100, messages: [{ role: 'user', content: 'q' }] })
      .withResponse();
    const cost = usd(100 * 1000 + 50 * 2000);
    expect(Number(response.headers.get('x-quorum-cost-usd'))).toBe(cost);
    const after = (await spend('group_by=model')).find((r) => r.group === 'oa-model')!;
    expect(after.requests - (before?.requests ?? 0)).toBe(1);
    expect(after.cost_usd - (before?.cost_usd ?? 0)).toBeCloseTo(cost, 12);
    const byKey = await spend('group_by=key');
    expect(byKey.map((r) => r.group)).toContain('static:claude-code');
  });

  it('a failed try and its fallback are one ledger row each', async () => {
    const before = (await spend('group_by=model')).find((r) => r.group === 'an-model');
    fakes.anthropic.enqueue({ error: { status: 529, type: 'overloaded_error', message: 'Overloaded' } });
    const err = await client()
      .messages.create({ model: 'an-model', max_tokens: 10, messages: [{ role: 'user', content: 'q' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    const after = (await spend('group_by=model')).find((r) => r.group === 'an-model')!;
    // The refused call is recorded (status 529), charged nothing.
    expect(after.requests - (before?.requests ?? 0)).toBe(1);
    expect(after.cost_usd - (before?.cost_usd ?? 0)).toBe(0);
  });

  it('an upstream claiming absurd usage is charged at most the hold; unreadable counts as none', async () => {
    const before = (await budget(KEY)).spent_usd as number;
    fakes.anthropic.enqueue({
      raw: JSON.stringify({
        id: 'msg_x',
        type: 'message',
        role: 'assistant',
        model: 'claude-up',
        content: [{ type: 'text', text: 'hi' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 1e12, output_tokens: '900', cache_read_input_tokens: -4 },
      }),
    });
    const res = await client().messages.create({
      model: 'an-model',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'q' }],
    });
    expect(res.content[0]).toMatchObject({ text: 'hi' });
    const charged = (await budget(KEY)).spent_usd - before;
    expect(charged).toBeGreaterThan(0);
    // 100 output tokens at $15/M plus a prompt of a few tokens at $3/M.
    expect(charged).toBeLessThan(usd(100 * 15000 + 50 * 3000));
  });

  it('counting tokens is free: no hold, no ledger row', async () => {
    const before = await spend('group_by=model');
    fakes.anthropic.enqueue({ usage: { input: 77 } });
    const count = await client(POOR).messages.countTokens({
      model: 'an-model',
      messages: [{ role: 'user', content: 'q' }],
    });
    expect(count.input_tokens).toBe(77);
    expect(await spend('group_by=model')).toEqual(before);
  });
});
