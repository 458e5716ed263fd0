/**
 * A budget hold that does not refuse needlessly: a request without max_tokens is held on the budget's
 * output allowance, which goes upstream as its cap; a remainder too small for the cap lowers it (down
 * to the floor) instead of refusing; free models never take a hold. Real OpenAI SDK against the fakes.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLimitBackends } from '../../src/limits/backends.ts';
import type { FakeServer, ReceivedRequest } from '../fakes/harness.ts';
import { startFakeOpenAI } from '../fakes/openai.ts';
import { fakesConfig, startFakes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { deleteKeys, uniquePrefix } from './limits/redis-env.ts';

const KEY = 'qk-output-cap-0001';
const OPEN_KEY = 'qk-output-cap-open';
// `big`'s whole 128,000-token output costs $1.28; 4,096 tokens cost $0.04096.
const PRICE = { input: 1, output: 10 };

let fake: FakeServer;

function config(url: string, limitUsd: number, extra: Record<string, unknown> = {}) {
  return {
    providers: [{ id: 'up', type: 'openai', base_url: `${url}/v1`, api_key: 'k', max_retries: 0 }],
    models: [
      {
        id: 'big',
        provider: 'up',
        context_window: 400_000,
        max_output_tokens: 128_000,
        price: PRICE,
        capabilities: ['streaming'],
      },
      {
        id: 'free',
        provider: 'up',
        upstream: 'free-up',
        context_window: 32_000,
        max_output_tokens: 8_000,
        price: { input: 0, output: 0 },
        capabilities: ['streaming'],
      },
    ],
    teams: [{ id: 'research', budget: { limit_usd: limitUsd, period: 'total' } }, { id: 'open' }],
    keys: [
      { key: KEY, team: 'research', name: 'ci' },
      { key: OPEN_KEY, team: 'open', name: 'open' },
    ],
    ...extra,
  };
}

/** The output cap the upstream was sent (either name). */
const sentCap = (r: ReceivedRequest): number | undefined =>
  r.body.max_completion_tokens ?? r.body.max_tokens ?? undefined;

/** The fake answers with as many output tokens as it was allowed: every answer spends its whole hold. */
function spendEverything(r: ReceivedRequest) {
  return { text: 'all of it', usage: { input: 10, output: sentCap(r) ?? 100_000 } };
}

async function budget(gw: TestGateway) {
  const res = await fetch(`${gw.url}/v1/budget`, { headers: { authorization: `Bearer ${KEY}` } });
  return (await res.json()) as any;
}

async function chat(gw: TestGateway, body: Record<string, unknown>, key = KEY) {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({
      model: 'big',
      messages: [{ role: 'user', content: 'Write at length.' }],
      ...body,
    }),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as any };
}

beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  fake.respond({ text: 'short', usage: { input: 10, output: 20 } });
});

describe('a request without max_tokens under a budget', () => {
  let gw: TestGateway;
  afterEach(async () => {
    await gw?.close();
  });

  it('is served with the default allowance as its cap, not refused for the model’s whole output', async () => {
    gw = await startGateway(config(fake.url, 0.5));
    // An upstream that claims far more than the cap it was sent: the charge still stops at the hold.
    fake.respond({ text: 'long answer', usage: { input: 10, output: 100_000 } });
    const { data, response } = await gw
      .client(KEY)
      .chat.completions.create({ model: 'big', messages: [{ role: 'user', content: 'Write at length.' }] })
      .withResponse();
    expect(response.status).toBe(200);
    expect(response.headers.get('x-quorum-max-tokens')).toBe('4096');
    expect((data as any).quorum.output_cap).toEqual({ max_tokens: 4096, reason: 'default_allowance' });
    expect(fake.received).toHaveLength(1);
    expect(fake.received[0]!.body.max_completion_tokens).toBe(4096);
    // The hold: the prompt's upper bound (a few dozen tokens at $1/M) plus 4,096 tokens at $10/M.
    const hold = (200 * PRICE.input + 4096 * PRICE.output) / 1e6;
    const charged = Number(response.headers.get('x-quorum-cost-usd'));
    expect(charged).toBeGreaterThan(0.04);
    expect(charged).toBeLessThanOrEqual(hold);
    const b = await budget(gw);
    expect(b.spent_usd).toBeCloseTo(charged, 12);
    expect(b.reserved_usd).toBe(0);
  });

  it('is capped to what a small remainder pays for, streamed too, and the upstream gets that cap', async () => {
    gw = await startGateway(config(fake.url, 0.01));
    const stream = await gw
      .client(KEY)
      .chat.completions.create({
        model: 'big',
        stream: true,
        messages: [{ role: 'user', content: 'Write at length.' }],
      })
      .withResponse();
    const cap = Number(stream.response.headers.get('x-quorum-max-tokens'));
    // $0.01 less the prompt's few cents of a cent, at $10/M: just under 1,000 tokens.
    expect(cap).toBeGreaterThan(980);
    expect(cap).toBeLessThan(1000);
    let last: any;
    for await (const chunk of stream.data) last = chunk;
    expect(last.quorum.output_cap).toEqual({ max_tokens: cap, reason: 'budget_remaining' });
    expect(fake.received[0]!.body.max_completion_tokens).toBe(cap);
    expect((await budget(gw)).spent_usd).toBeLessThanOrEqual(0.01);
  });

  it('keeps a smaller max_tokens the client set, and lowers a larger one', async () => {
    gw = await startGateway(config(fake.url, 0.01));
    const small = await chat(gw, { max_tokens: 300 });
    expect(small.status).toBe(200);
    expect(small.headers.get('x-quorum-max-tokens')).toBeNull();
    expect(small.json.quorum.output_cap).toBeUndefined();
    expect(fake.received[0]!.body.max_tokens).toBe(300);
    const large = await chat(gw, { max_tokens: 50_000 });
    expect(large.status).toBe(200);
    const cap = Number(large.headers.get('x-quorum-max-tokens'));
    expect(cap).toBeLessThan(1000);
    expect(large.json.quorum.output_cap).toEqual({ max_tokens: cap, reason: 'budget_remaining' });
    expect(fake.received[1]!.body.max_tokens).toBe(cap);
  });

  it('is refused below the floor, with what it may cost, what remains, and a max_tokens that fits', async () => {
    // 256 tokens cost $0.00256: more than the $0.002 left.
    gw = await startGateway(config(fake.url, 0.002));
    const refused = await chat(gw, {});
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-should-retry')).toBe('false');
    expect(refused.json.error).toMatchObject({ type: 'insufficient_quota', code: 'budget_exceeded' });
    const message: string = refused.json.error.message;
    expect(message).toMatch(/\$0\.00200 remaining/);
    expect(message).toMatch(/may cost up to \$0\.04 with 4096 output tokens/);
    expect(message).toContain('the smallest cap the gateway lowers that to, 256 tokens, does not fit');
    const fits = Number(/max_tokens` of at most (\d+)/.exec(message)?.[1]);
    expect(fits).toBeGreaterThan(150);
    expect(fits).toBeLessThan(200);
    expect(fake.received).toHaveLength(0);
    // The number it names goes through.
    expect((await chat(gw, { max_tokens: fits })).status).toBe(200);
  });

  it("is capped to the tightest scope's remainder — a key's, an end user's — and a refusal names that scope", async () => {
    // The team has plenty; the key has $0.01 a day, and each end user $0.005.
    gw = await startGateway(
      config(fake.url, 10, {
        keys: [
          { key: KEY, team: 'research', name: 'ci', budgets: [{ limit_usd: 0.01, period: 'daily' }] },
          { key: OPEN_KEY, team: 'open', name: 'open' },
        ],
      }),
    );
    const byKey = await chat(gw, {});
    expect(byKey.status).toBe(200);
    const keyCap = Number(byKey.headers.get('x-quorum-max-tokens'));
    expect(keyCap).toBeGreaterThan(980);
    expect(keyCap).toBeLessThan(1000);
    expect(fake.received[0]!.body.max_completion_tokens).toBe(keyCap);
    await gw.close();

    gw = await startGateway(
      config(fake.url, 10, {
        teams: [
          {
            id: 'research',
            budget: { limit_usd: 10, period: 'total' },
            end_users: { budget: { limit_usd: 0.005, period: 'daily' } },
          },
          { id: 'open' },
        ],
      }),
    );
    const byUser = await chat(gw, { user: 'alice' });
    expect(byUser.status).toBe(200);
    const userCap = Number(byUser.headers.get('x-quorum-max-tokens'));
    expect(userCap).toBeGreaterThan(480);
    expect(userCap).toBeLessThan(500);
    // The fake spent only 20 tokens: alice has nearly all of her $0.005 left, and below the floor
    // ($0.00256 for 256 tokens) only once a large answer has used it up.
    fake.respond({ text: 'long', usage: { input: 10, output: 100_000 } });
    expect((await chat(gw, { user: 'alice', max_tokens: 300 })).status).toBe(200);
    const refused = await chat(gw, { user: 'alice' });
    expect(refused.status).toBe(429);
    expect(refused.json.error.param).toBe('user');
    expect(refused.headers.get('x-quorum-budget-scope')).toBe('user');
    expect(refused.json.error.message).toMatch(/^End user `alice` has spent/);
    expect(refused.json.error.message).toContain('256 tokens, does not fit');
    // Another end user of the same team is not held to alice's remainder.
    const bob = await chat(gw, { user: 'bob' });
    expect(bob.status).toBe(200);
  });

  it('a free model is served with nothing left, takes no hold and gets no cap', async () => {
    gw = await startGateway(config(fake.url, 0));
    const res = await chat(gw, { model: 'free' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-quorum-max-tokens')).toBeNull();
    expect(sentCap(fake.received[0]!)).toBeUndefined();
    expect((await chat(gw, { model: 'big' })).status).toBe(429);
  });

  it('a caller without a budget keeps its request as it was: nothing is injected', async () => {
    gw = await startGateway(config(fake.url, 0.5));
    const res = await chat(gw, {}, OPEN_KEY);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-quorum-max-tokens')).toBeNull();
    expect(res.json.quorum.output_cap).toBeUndefined();
    expect(sentCap(fake.received[0]!)).toBeUndefined();
  });

  it('takes the team’s allowance over the default, and the model’s over the team’s', async () => {
    const base = config(fake.url, 0.5);
    gw = await startGateway({
      ...base,
      budget: { default_max_output_tokens: 2000 },
      models: [
        ...base.models,
        { ...base.models[0], id: 'terse', upstream: 'big', default_max_output_tokens: 500 },
      ],
      teams: [
        { id: 'research', budget: { limit_usd: 0.5, period: 'total', default_max_output_tokens: 1000 } },
        { id: 'open' },
      ],
    });
    expect((await chat(gw, {})).headers.get('x-quorum-max-tokens')).toBe('1000');
    expect((await chat(gw, { model: 'terse' })).headers.get('x-quorum-max-tokens')).toBe('500');
    expect(fake.received.map(sentCap)).toEqual([1000, 500]);
  });

  it('a team’s own floor applies to its clamp', async () => {
    gw = await startGateway({
      ...config(fake.url, 0.002),
      teams: [
        { id: 'research', budget: { limit_usd: 0.002, period: 'total', min_output_tokens: 100 } },
        { id: 'open' },
      ],
    });
    const res = await chat(gw, {});
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('x-quorum-max-tokens'))).toBeGreaterThanOrEqual(100);
  });

  it('a fan-out sends the allowance to every candidate, and is held on it', async () => {
    gw = await startGateway(
      config(fake.url, 0.5, {
        ensembles: { panel: { strategy: 'consensus', models: ['big', 'big', 'big'], judge: 'big' } },
      }),
    );
    fake.respond((r) => (r.body.max_tokens ? { text: '{"best": 1}' } : { text: 'same' }));
    const res = await chat(gw, { model: 'panel' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-quorum-max-tokens')).toBe('4096');
    const candidates = fake.received.filter((r) => r.body.max_completion_tokens !== undefined);
    expect(candidates).toHaveLength(3);
    for (const c of candidates) expect(c.body.max_completion_tokens).toBe(4096);
  });
});

describe('the cap in each provider’s terms', () => {
  it('reaches Anthropic as max_tokens and Gemini as maxOutputTokens', async () => {
    const fakes = await startFakes();
    const gw = await startGateway(
      fakesConfig(fakes, {
        teams: [
          { id: 'research', budget: { limit_usd: 1, period: 'total', default_max_output_tokens: 1000 } },
        ],
        keys: [{ key: KEY, team: 'research', name: 'ci' }],
      }),
    );
    try {
      for (const model of ['an-model', 'ge-model']) {
        const res = await chat(gw, { model });
        expect(res.status).toBe(200);
        expect(res.headers.get('x-quorum-max-tokens')).toBe('1000');
      }
      expect(fakes.anthropic.received[0]!.body.max_tokens).toBe(1000);
      expect(fakes.gemini.received[0]!.body.generationConfig.maxOutputTokens).toBe(1000);
    } finally {
      await gw.close();
      await fakes.close();
    }
  });
});

describe('many concurrent uncapped requests on a small remainder never overspend', () => {
  const LIMIT = 0.05;

  async function storm(gateways: TestGateway[]) {
    fake.respond(spendEverything);
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => chat(gateways[i % gateways.length]!, {})),
    );
    const ok = results.filter((r) => r.status === 200);
    for (const r of results.filter((x) => x.status !== 200)) {
      expect(r.status).toBe(429);
      expect(r.json.error.code).toBe('budget_exceeded');
    }
    // Several were capped below the allowance rather than refused.
    const caps = ok.map((r) => Number(r.headers.get('x-quorum-max-tokens')));
    expect(caps.filter((c) => c < 4096).length).toBeGreaterThan(0);
    for (const c of caps) expect(c).toBeGreaterThanOrEqual(256);
    // Every upstream got the cap it was held on, and spent all of it.
    expect(fake.received.map(sentCap).sort()).toEqual(caps.map(String).map(Number).sort());
    const charged = ok.reduce((sum, r) => sum + Number(r.headers.get('x-quorum-cost-usd')), 0);
    expect(charged).toBeLessThanOrEqual(LIMIT);
    const b = await budget(gateways[0]!);
    expect(b.spent_usd).toBeLessThanOrEqual(LIMIT);
    expect(b.spent_usd).toBeCloseTo(charged, 9);
    expect(b.reserved_usd).toBe(0);
    return ok.length;
  }

  it('in memory', async () => {
    const gw = await startGateway(config(fake.url, LIMIT));
    try {
      expect(await storm([gw])).toBeGreaterThan(1);
    } finally {
      await gw.close();
    }
  });

  it.runIf(process.env.QUORUM_TEST_REDIS_URL)('with two instances sharing Redis', async () => {
    const prefix = uniquePrefix();
    const instance = () =>
      startGateway(config(fake.url, LIMIT), {
        gateway: {
          limits: createLimitBackends({
            redisUrl: process.env.QUORUM_TEST_REDIS_URL!,
            prefix,
            failMode: 'closed',
          }),
        },
      });
    const [a, b] = [await instance(), await instance()];
    try {
      expect(await storm([a, b])).toBeGreaterThan(1);
    } finally {
      await a.close();
      await b.close();
      await deleteKeys(process.env.QUORUM_TEST_REDIS_URL!, prefix);
    }
  });
});
