/**
 * Routing end to end: fakes of differing price and quality behind the real gateway. The router picks
 * by task and policy, explains itself, survives failures, and its breaker opens and closes.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Fakes, startFakes, startGateway, type TestGateway } from './helpers/gateway.ts';

let fakes: Fakes;
let gw: TestGateway;
const COOLDOWN_MS = 300;

function config(f: Fakes, extra: Record<string, unknown> = {}) {
  return {
    providers: [
      { id: 'oa', type: 'openai', base_url: `${f.openai.url}/v1`, api_key: 'k', max_retries: 0 },
      { id: 'an', type: 'anthropic', base_url: f.anthropic.url, api_key: 'k', max_retries: 0 },
      { id: 'ge', type: 'gemini', base_url: f.gemini.url, api_key: 'k', max_retries: 0, timeout_ms: 400 },
    ],
    models: [
      {
        id: 'cheap-mini',
        provider: 'oa',
        context_window: 16_000,
        max_output_tokens: 4_096,
        price: { input: 0.1, output: 0.4 },
        capabilities: ['json', 'streaming'],
        quality: { general: 0.62, code: 0.5, math: 0.5, reasoning: 0.5, writing: 0.6 },
      },
      {
        id: 'strong-max',
        provider: 'an',
        context_window: 200_000,
        max_output_tokens: 8_192,
        price: { input: 5, output: 25 },
        capabilities: ['tools', 'vision', 'json', 'streaming'],
        quality: { general: 0.95, code: 0.95, math: 0.95, reasoning: 0.95, writing: 0.95 },
      },
      {
        id: 'coder-pro',
        provider: 'ge',
        context_window: 1_000_000,
        max_output_tokens: 8_192,
        price: { input: 1, output: 4 },
        capabilities: ['tools', 'json', 'streaming'],
        quality: { general: 0.78, code: 0.93, math: 0.8, reasoning: 0.78, writing: 0.7 },
      },
    ],
    ...extra,
  };
}

beforeAll(async () => {
  fakes = await startFakes();
});
afterAll(async () => {
  await fakes.close();
});
beforeEach(async () => {
  for (const f of [fakes.openai, fakes.anthropic, fakes.gemini]) f.reset();
  gw = await startGateway(config(fakes), { gateway: { health: { cooldownMs: COOLDOWN_MS } } });
});
afterEach(async () => {
  await gw.close();
});

const calls = () => ({
  oa: fakes.openai.received.length,
  an: fakes.anthropic.received.length,
  ge: fakes.gemini.received.length,
});

async function chat(body: Record<string, unknown>) {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as any };
}

const GREETING = [{ role: 'user', content: 'hi there!' }];
const CODE = [
  {
    role: 'user',
    content:
      "This TypeScript function throws `TypeError: Cannot read properties of undefined (reading 'map')` at runtime. " +
      'Refactor it to handle missing data, add types and a unit test:\n```ts\nexport function totals(orders) {\n  return orders.items.map((i) => i.price * i.qty).reduce((a, b) => a + b);\n}\n```',
  },
];

describe('choosing by task and policy', () => {
  it('auto:cost sends a greeting to the cheap model', async () => {
    const res = await chat({ model: 'auto:cost', messages: GREETING });
    expect(res.status).toBe(200);
    expect(res.json.model).toBe('cheap-mini');
    expect(res.headers.get('x-quorum-model')).toBe('cheap-mini');
    expect(res.json.quorum.route).toMatchObject({ policy: 'cost', chosen: 'cheap-mini' });
    expect(calls()).toEqual({ oa: 1, an: 0, ge: 0 });
  });

  it('auto:quality sends the same greeting to the strong model', async () => {
    const res = await chat({ model: 'auto:quality', messages: GREETING });
    expect(res.json.model).toBe('strong-max');
    expect(calls()).toEqual({ oa: 0, an: 1, ge: 0 });
  });

  it('auto sends a code-heavy prompt to the best code model within the budget', async () => {
    const res = await chat({ model: 'auto', messages: CODE, quorum: { route: { max_cost_usd: 0.05 } } });
    expect(res.json.model).toBe('coder-pro');
    const strong = res.json.quorum.route.candidates.find((c: any) => c.model === 'strong-max');
    expect(strong).toMatchObject({ eligible: false });
    expect(strong.reason).toMatch(/cost/);
  });

  it('a request with tools never lands on a model without tools', async () => {
    const res = await chat({
      model: 'auto:cost',
      messages: GREETING,
      tools: [
        { type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } },
      ],
    });
    expect(res.json.model).not.toBe('cheap-mini');
    const mini = res.json.quorum.route.candidates.find((c: any) => c.model === 'cheap-mini');
    expect(mini).toMatchObject({ eligible: false, reason: expect.stringContaining('tools') });
    expect(fakes.openai.received).toHaveLength(0);
  });

  it('an over-long prompt lands on a model whose window fits it', async () => {
    const long = 'lorem ipsum dolor sit amet '.repeat(3_000); // ~20k tokens: over cheap-mini's 16k window
    const res = await chat({ model: 'auto:cost', messages: [{ role: 'user', content: long }] });
    // Since the calibration (docs/routing.md §5), 20k tokens the English word lists cannot read read as
    // hard (bar .86), which only strong-max clears; before, this went to coder-pro.
    expect(res.json.model).toBe('strong-max');
    const mini = res.json.quorum.route.candidates.find((c: any) => c.model === 'cheap-mini');
    expect(mini.reason).toMatch(/context window/);
    // A long prompt it can read, and that asks for little, goes to the cheapest model whose window fits.
    const notes = 'The meeting moved to Thursday and the budget is unchanged. '.repeat(1_400);
    const read = await chat({
      model: 'auto:cost',
      messages: [{ role: 'user', content: `${notes}\n\nAny dates?` }],
    });
    expect(read.json.model).toBe('coder-pro');
    const tooSmall = read.json.quorum.route.candidates.find((c: any) => c.model === 'cheap-mini');
    expect(tooSmall.reason).toMatch(/context window/);
  });

  it('min_quality raises the bar past the cheap model', async () => {
    const res = await chat({
      model: 'auto:cost',
      messages: GREETING,
      quorum: { route: { min_quality: 0.7 } },
    });
    expect(res.json.model).toBe('coder-pro');
  });

  it('quorum.route.models restricts the choice', async () => {
    const res = await chat({
      model: 'auto:quality',
      messages: GREETING,
      quorum: { route: { models: ['cheap-mini'] } },
    });
    expect(res.json.model).toBe('cheap-mini');
  });

  it("a team's allow-list bounds what auto may choose", async () => {
    await gw.close();
    gw = await startGateway(
      config(fakes, {
        teams: [{ id: 'frugal', models: ['cheap-mini', 'coder-pro'] }],
        keys: [{ key: 'qk-frugal-000000', team: 'frugal' }],
      }),
    );
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer qk-frugal-000000' },
      body: JSON.stringify({ model: 'auto:quality', messages: GREETING }),
    });
    const body = (await res.json()) as any;
    expect(body.model).toBe('coder-pro');
    const strong = body.quorum.route.candidates.find((c: any) => c.model === 'strong-max');
    expect(strong).toMatchObject({ eligible: false, reason: expect.stringMatching(/allow-list/) });
  });

  it('an unknown policy is a 404 that lists the valid ones', async () => {
    const res = await chat({ model: 'auto:fastest', messages: GREETING });
    expect(res.status).toBe(404);
    expect(res.json.error.message).toMatch(/auto:cost/);
  });

  it('no eligible model is a clear 400', async () => {
    const res = await chat({
      model: 'auto',
      messages: GREETING,
      quorum: { route: { max_cost_usd: 0.0000001 } },
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'no_eligible_model', param: 'model' });
    expect(res.json.error.message).toMatch(/cheap-mini: .*cost/);
  });
});

describe('POST /v1/route', () => {
  it('explains every candidate and calls no model', async () => {
    const res = await fetch(`${gw.url}/v1/route`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'auto:cost',
        messages: GREETING,
        tools: [{ type: 'function', function: { name: 'lookup' } }],
      }),
    });
    const body = (await res.json()) as any;
    expect(res.status).toBe(200);
    expect(body.policy).toBe('cost');
    expect(body.chosen).toBe('coder-pro');
    expect(body.fallbacks).toEqual(['strong-max']);
    expect(body.task.required).toContain('tools');
    expect(body.candidates.map((c: any) => c.model).sort()).toEqual([
      'cheap-mini',
      'coder-pro',
      'strong-max',
    ]);
    for (const c of body.candidates) {
      if (c.eligible) {
        expect(Object.keys(c.scores).sort()).toEqual(['cost_usd', 'latency_ms', 'quality', 'total']);
        // Money is whole nano-dollars everywhere a client reads it.
        expect(String(c.scores.cost_usd).replace(/^.*\./, '').length).toBeLessThanOrEqual(9);
      } else expect(c.reason).toBeTruthy();
    }
    expect(calls()).toEqual({ oa: 0, an: 0, ge: 0 });
  });

  it('explains a named model and its configured fallbacks', async () => {
    await gw.close();
    gw = await startGateway(config(fakes, { routing: { fallbacks: { 'cheap-mini': ['coder-pro'] } } }));
    const res = await fetch(`${gw.url}/v1/route`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'cheap-mini', messages: GREETING }),
    });
    const body = (await res.json()) as any;
    expect(body.chosen).toBe('cheap-mini');
    expect(body.fallbacks).toEqual(['coder-pro']);
    expect(calls()).toEqual({ oa: 0, an: 0, ge: 0 });
  });
});

describe('why the chosen model beat the next one', () => {
  const dryRun = async (body: Record<string, unknown>) => {
    const res = await fetch(`${gw.url}/v1/route`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await res.json()) as any;
  };
  const TOOLS = [{ type: 'function', function: { name: 'lookup' } }];

  it('POST /v1/route says it in one line, naming both models', async () => {
    // The cheap model lacks tools: the code model and the strong one both clear a greeting's bar.
    const body = await dryRun({ model: 'auto:cost', messages: GREETING, tools: TOOLS });
    expect(body.chosen).toBe('coder-pro');
    expect(body.why).toBe('both clear the bar 0.45; `coder-pro` is 6.2× cheaper than `strong-max`');
    const quality = await dryRun({ model: 'auto:quality', messages: GREETING });
    expect(quality.why).toBe('`strong-max` has the highest expected quality (0.95 vs 0.78 for `coder-pro`)');
    expect(calls()).toEqual({ oa: 0, an: 0, ge: 0 });
  });

  it('a routed answer carries the same line in quorum.route as the dry run', async () => {
    const planned = await dryRun({ model: 'auto', messages: CODE });
    const res = await chat({ model: 'auto', messages: CODE });
    expect(res.status).toBe(200);
    expect(res.json.quorum.route.chosen).toBe(planned.chosen);
    expect(res.json.quorum.route.why).toBe(planned.why);
    expect(res.json.quorum.route.why).toContain(`\`${planned.chosen}\``);
  });

  it('says when nothing can serve the request, and when the request named the model', async () => {
    const none = await dryRun({ model: 'auto', messages: GREETING, quorum: { route: { models: ['nope'] } } });
    expect(none.chosen).toBeNull();
    expect(none.why).toBe('no model can serve this request (3 excluded; see candidates)');
    const named = await dryRun({ model: 'strong-max', messages: GREETING });
    expect(named.chosen).toBe('strong-max');
    expect(named.why).toMatch(/^named by the request; the router would choose it too: /);
    const other = await dryRun({
      model: 'strong-max',
      messages: GREETING,
      quorum: { fallbacks: ['cheap-mini'] },
    });
    expect(other.why).toMatch(/^named by the request; of its chain the router would take `cheap-mini`: /);
  });
});

describe('surviving failures', () => {
  it('a failing cheap model falls back to the next candidate; attempts show the path', async () => {
    fakes.openai.respond({ error: { status: 500, message: 'boom' } });
    const res = await chat({ model: 'auto:cost', messages: GREETING });
    expect(res.status).toBe(200);
    expect(res.json.model).toBe('coder-pro');
    expect(res.json.quorum.attempts.map((a: any) => [a.model, a.status])).toEqual([
      ['cheap-mini', 500],
      ['coder-pro', 200],
    ]);
  });

  it('a timeout and a 429 are survived the same way', async () => {
    fakes.openai.respond({ error: { status: 429, message: 'slow down', retryAfterSeconds: 0 } });
    fakes.gemini.enqueue({ latencyMs: 1_000, text: 'too late' });
    fakes.anthropic.enqueue({ text: 'from the strong model' });
    const res = await chat({ model: 'auto:cost', messages: GREETING });
    expect(res.status).toBe(200);
    expect(res.json.choices[0].message.content).toBe('from the strong model');
    expect(res.json.quorum.attempts.map((a: any) => [a.model, a.status])).toEqual([
      ['cheap-mini', 429],
      ['coder-pro', 504],
      ['strong-max', 200],
    ]);
  });

  it('the breaker opens after repeated failures, skips the model, and closes after a good probe', async () => {
    fakes.openai.respond({ error: { status: 503, message: 'down' } });
    for (let i = 0; i < 3; i++) await chat({ model: 'auto:cost', messages: GREETING });
    expect(fakes.openai.received).toHaveLength(3);

    // Open: the router excludes it, and no call reaches it.
    const open = await chat({ model: 'auto:cost', messages: GREETING });
    expect(open.json.model).toBe('coder-pro');
    const mini = open.json.quorum.route.candidates.find((c: any) => c.model === 'cheap-mini');
    expect(mini).toMatchObject({ eligible: false, reason: expect.stringMatching(/circuit open/) });
    expect(fakes.openai.received).toHaveLength(3);

    // After the cooldown one probe goes through; it succeeds, and the circuit closes.
    await new Promise((r) => setTimeout(r, COOLDOWN_MS + 50));
    fakes.openai.respond({ text: 'back again' });
    const probe = await chat({ model: 'auto:cost', messages: GREETING });
    expect(probe.json.model).toBe('cheap-mini');
    expect(probe.json.choices[0].message.content).toBe('back again');
    const after = await chat({ model: 'auto:cost', messages: GREETING });
    expect(after.json.model).toBe('cheap-mini');
    expect(after.json.quorum.route.candidates[0]).toMatchObject({ model: 'cheap-mini', eligible: true });
  });

  it('a stream falls back before its first byte, and the answer is never duplicated', async () => {
    fakes.openai.enqueue({ error: { status: 500, message: 'boom' } });
    fakes.gemini.enqueue({ text: 'alpha beta gamma' });
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'auto:cost', stream: true, messages: GREETING }),
    });
    const text = await res.text();
    const contents = text
      .split('\n\n')
      .filter((e) => e.startsWith('data: {'))
      .map((e) => JSON.parse(e.slice(6)))
      .map((c) => c.choices[0]?.delta?.content ?? '')
      .join('');
    expect(contents).toBe('alpha beta gamma');
    expect(res.headers.get('x-quorum-model')).toBe('coder-pro');
  });
});

describe('response cache', () => {
  it('serves a repeated temperature-0 request from the cache, as JSON and as a stream', async () => {
    const body = {
      model: 'cheap-mini',
      temperature: 0,
      messages: [{ role: 'user', content: 'capital of France?' }],
    };
    fakes.openai.enqueue({ text: 'Paris.', usage: { input: 10, output: 2 } });
    const first = await chat(body);
    expect(first.headers.get('x-quorum-cache')).toBe('miss');
    const second = await chat(body);
    expect(second.headers.get('x-quorum-cache')).toBe('hit');
    expect(second.json.choices[0].message.content).toBe('Paris.');
    expect(second.json.quorum).toMatchObject({ cost_usd: 0, attempts: [], cache: 'hit' });
    expect(second.headers.get('x-quorum-cost-usd')).toBe('0');
    expect(fakes.openai.received).toHaveLength(1);

    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, stream: true }),
    });
    expect(res.headers.get('x-quorum-cache')).toBe('hit');
    const streamed = (await res.text())
      .split('\n\n')
      .filter((e) => e.startsWith('data: {'))
      .map((e) => JSON.parse(e.slice(6)).choices[0]?.delta?.content ?? '')
      .join('');
    expect(streamed).toBe('Paris.');
    expect(fakes.openai.received).toHaveLength(1);
  });

  it('never caches an error, and requests without temperature 0 or quorum.cache bypass it', async () => {
    const body = { model: 'cheap-mini', temperature: 0, messages: [{ role: 'user', content: 'x' }] };
    fakes.openai.enqueue({ error: { status: 500, message: 'boom' } }, { text: 'fine now' });
    expect((await chat({ ...body, quorum: { fallbacks: [] } })).status).toBe(502);
    const retry = await chat({ ...body, quorum: { fallbacks: [] } });
    expect(retry.json.choices[0].message.content).toBe('fine now');
    const plain = await chat({ model: 'cheap-mini', messages: [{ role: 'user', content: 'x' }] });
    expect(plain.headers.get('x-quorum-cache')).toBeNull();
  });
});

describe('provider queues', () => {
  it('a call that would wait past the deadline fails fast with 429 and retry-after', async () => {
    await gw.close();
    const cfg = config(fakes);
    (cfg.providers[0] as any).limits = { rpm: 1 };
    gw = await startGateway({ ...cfg, server: { request_timeout_ms: 2_000 } });
    const body = { model: 'cheap-mini', messages: GREETING, quorum: { fallbacks: [] } };
    expect((await chat(body)).status).toBe(200);
    const refused = await chat(body);
    expect(refused.status).toBe(429);
    expect(refused.json.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    // Refused up front because the wait would pass the deadline, not after queueing until it passed.
    expect(refused.json.error.message).toMatch(/deadline would pass before a slot frees/);
    // Until the provider's one-minute window refills: present, at most a minute, and the message agrees.
    const retryAfter = refused.headers.get('retry-after');
    const retryAfterMs = Number(refused.headers.get('retry-after-ms'));
    expect(retryAfter).toMatch(/^\d+$/);
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(Number(retryAfter)).toBe(Math.ceil(retryAfterMs / 1000));
    expect(refused.json.error.message).toContain(`Retry after ${retryAfter} s.`);
    expect(fakes.openai.received).toHaveLength(1);
  });
});
