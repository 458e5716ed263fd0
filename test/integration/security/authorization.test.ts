/**
 * Allow-lists attacked through every path a request can reach a model by: presets with inline members
 * or judges, POST /v1/consensus naming a preset, reviews, fallbacks of fan-out members, `auto`, the
 * model list, the routing dry run, prototype names; and a fan-out whose members fall back to a dearer
 * model against a $0.01 team. The real server and SDK against the fake upstreams; every fake records
 * what it received, so "never called" is checked where the model would have been called.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeReply, ReceivedRequest } from '../../fakes/harness.ts';
import { type Fakes, startFakes, startGateway, type TestGateway } from '../helpers/gateway.ts';

const ALPHA = 'qk-alpha-0000000001'; // the panel preset, and ge-model on its own
const BETA = 'qk-beta-00000000002'; // three models by name, no preset
const SMALL = 'qk-small-0000000003'; // a $0.01 budget; two cheap models and their dear fallback

const CAPS = ['tools', 'vision', 'json', 'streaming'];
const QUALITY = (q: number) => ({ general: q, code: q, math: q, reasoning: q, writing: q });

function model(id: string, provider: string, upstream: string, price: number, quality: number) {
  return {
    id,
    provider,
    upstream,
    context_window: 128_000,
    max_output_tokens: 4096,
    price: { input: price, output: price },
    capabilities: CAPS,
    quality: QUALITY(quality),
  };
}

function config(fakes: Fakes) {
  const provider = (id: string, type: string, base_url: string) => ({
    id,
    type,
    base_url,
    api_key: `${id}-upstream-secret`,
    max_retries: 0,
  });
  return {
    providers: [
      provider('oa', 'openai', `${fakes.openai.url}/v1`),
      provider('an', 'anthropic', fakes.anthropic.url),
      provider('ge', 'gemini', fakes.gemini.url),
    ],
    models: [
      model('oa-model', 'oa', 'gpt-up', 1, 0.6),
      model('an-model', 'an', 'claude-up', 3, 0.7),
      model('ge-model', 'ge', 'gemini-up', 0.5, 0.5),
      // The best and dearest model: nobody below may use it except by name on a list.
      { ...model('secret', 'oa', 'secret-up', 50, 0.99), aliases: ['hidden'] },
      model('cheap-a', 'oa', 'cheap-a-up', 0.01, 0.3),
      model('cheap-b', 'oa', 'cheap-b-up', 0.01, 0.3),
      model('pricey', 'an', 'pricey-up', 1000, 0.4),
    ],
    routing: {
      policy: 'balanced',
      fallbacks: {
        'oa-model': ['secret'],
        'an-model': ['hidden'],
        'ge-model': ['secret'],
        'cheap-a': ['pricey'],
        'cheap-b': ['pricey'],
      },
    },
    ensembles: {
      panel: { strategy: 'consensus', models: ['oa-model', 'an-model'], judge: 'ge-model' },
      // Named like the endpoint, and on nobody's list: POST /v1/consensus without `model` is not it.
      consensus: { strategy: 'best_of_n', models: ['secret', 'oa-model'], judge: 'secret' },
    },
    teams: [
      { id: 'alpha', models: ['panel', 'ge-model'] },
      { id: 'beta', models: ['oa-model', 'an-model', 'ge-model'] },
      {
        id: 'small',
        models: ['cheap-a', 'cheap-b', 'pricey'],
        budget: { limit_usd: 0.01, period: 'total' },
      },
    ],
    keys: [
      { key: ALPHA, team: 'alpha', name: 'alpha' },
      { key: BETA, team: 'beta', name: 'beta' },
      { key: SMALL, team: 'small', name: 'small' },
    ],
  };
}

let fakes: Fakes;
let gw: TestGateway;

/** Every upstream model name the fakes were asked for. */
function upstreamCalls(): string[] {
  const byBody = (r: ReceivedRequest) => String(r.body?.model);
  return [
    ...fakes.openai.received.map(byBody),
    ...fakes.anthropic.received.map(byBody),
    ...fakes.gemini.received.map((r) => r.path.split('/models/')[1]?.split(':')[0] ?? r.path),
  ];
}

/** Upstream models that fail with a 500; every other one answers `ok`. */
function failing(...upstreams: string[]) {
  const reply = (r: ReceivedRequest): FakeReply =>
    upstreams.includes(String(r.body?.model))
      ? { error: { status: 500, message: 'down' } }
      : { text: 'ok', usage: { input: 10, output: 5 } };
  fakes.openai.respond(reply);
  fakes.anthropic.respond(reply);
}

async function post(path: string, key: string, body: Record<string, unknown>) {
  const res = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, json, text };
}

const ask = [{ role: 'user', content: 'What is six times seven?' }];

beforeAll(async () => {
  fakes = await startFakes();
});

afterAll(async () => {
  await fakes.close();
});

// A gateway per test: the failures one test scripts must not open another test's circuit breakers.
beforeEach(async () => {
  for (const fake of [fakes.openai, fakes.anthropic, fakes.gemini]) fake.reset();
  failing();
  fakes.gemini.respond({ text: 'ok', usage: { input: 10, output: 5 } });
  gw = await startGateway(config(fakes));
});

afterEach(async () => {
  await gw.close();
});

describe('a preset does not open the door to models the client adds', () => {
  it('the allowed preset itself still answers with its own members and judge', async () => {
    const res = await post('/v1/chat/completions', ALPHA, { model: 'panel', messages: ask });
    expect(res.status).toBe(200);
    expect(upstreamCalls()).toEqual(expect.arrayContaining(['gpt-up', 'claude-up']));
  });

  it('preset + inline ensemble members outside the allow-list: 403 naming the member', async () => {
    const res = await post('/v1/chat/completions', ALPHA, {
      model: 'panel',
      messages: ask,
      quorum: { ensemble: { strategy: 'consensus', models: ['ge-model', 'secret'] } },
    });
    expect(res.status).toBe(403);
    expect(res.json.error).toMatchObject({
      type: 'permission_error',
      code: 'model_not_allowed',
      param: 'quorum.ensemble.models[1]',
    });
    expect(upstreamCalls()).toEqual([]);
  });

  it('preset + inline judge outside the allow-list: 403 naming the judge', async () => {
    const res = await post('/v1/chat/completions', ALPHA, {
      model: 'panel',
      messages: ask,
      quorum: { ensemble: { strategy: 'best_of_n', judge: 'hidden' } },
    });
    expect(res.status).toBe(403);
    expect(res.json.error).toMatchObject({ code: 'model_not_allowed', param: 'quorum.ensemble.judge' });
    expect(upstreamCalls()).toEqual([]);
  });

  it('preset + inline members the team may use on their own are accepted', async () => {
    const res = await post('/v1/chat/completions', ALPHA, {
      model: 'panel',
      messages: ask,
      quorum: { ensemble: { strategy: 'consensus', models: ['ge-model'] } },
    });
    expect(res.status).toBe(200);
    expect(upstreamCalls()).toEqual(['gemini-up']);
  });

  it('POST /v1/consensus naming the preset cannot add a forbidden member or judge', async () => {
    const members = await post('/v1/consensus', ALPHA, {
      model: 'panel',
      strategy: 'consensus',
      models: ['secret'],
      messages: ask,
    });
    expect(members.status).toBe(403);
    expect(members.json.error).toMatchObject({ code: 'model_not_allowed', param: 'models[0]' });
    const judge = await post('/v1/consensus', ALPHA, {
      model: 'panel',
      strategy: 'best_of_n',
      models: ['ge-model'],
      judge: 'secret',
      messages: ask,
    });
    expect(judge.status).toBe(403);
    expect(judge.json.error).toMatchObject({ code: 'model_not_allowed', param: 'judge' });
    expect(upstreamCalls()).toEqual([]);
  });

  it('POST /v1/consensus without `model` is the body alone, whatever presets are called', async () => {
    const res = await post('/v1/consensus', BETA, {
      strategy: 'consensus',
      models: ['an-model'],
      messages: ask,
    });
    expect(res.status).toBe(200);
    expect(upstreamCalls()).toEqual(['claude-up']);
  });

  it('POST /v1/reviews refuses a forbidden reviewer or author before any call', async () => {
    const base = { artifact: 'def f(): pass', instructions: 'Review this.' };
    const reviewer = await post('/v1/reviews', BETA, { ...base, reviewers: ['oa-model', 'secret'] });
    expect(reviewer.status).toBe(403);
    expect(reviewer.json.error).toMatchObject({ code: 'model_not_allowed', param: 'reviewers[1]' });
    const author = await post('/v1/reviews', BETA, { ...base, reviewers: ['oa-model'], author: 'hidden' });
    expect(author.status).toBe(403);
    expect(author.json.error).toMatchObject({ code: 'model_not_allowed', param: 'author' });
    expect(upstreamCalls()).toEqual([]);
  });
});

describe('fallbacks never leave the allow-list', () => {
  it("a preset's members fall back only to models the team may use", async () => {
    failing('gpt-up', 'claude-up');
    const res = await post('/v1/chat/completions', ALPHA, { model: 'panel', messages: ask });
    expect(res.status).toBe(502);
    expect(upstreamCalls()).not.toContain('secret-up');
  });

  it("inline members' fallbacks are filtered like a single request's", async () => {
    failing('gpt-up');
    const res = await post('/v1/chat/completions', BETA, {
      model: 'oa-model',
      messages: ask,
      quorum: { ensemble: { strategy: 'consensus', models: ['oa-model'] } },
    });
    expect(res.status).toBe(502);
    expect(upstreamCalls()).toContain('gpt-up');
    expect(upstreamCalls()).not.toContain('secret-up');
  });

  it("a streamed ensemble's aggregator falls back only to allowed models", async () => {
    failing('claude-up');
    const client = gw.client(BETA);
    const attempt = (async () => {
      const stream = await client.chat.completions.create({
        model: 'oa-model',
        stream: true,
        messages: ask as never,
        // @ts-expect-error the gateway's extension field
        quorum: { strict: true, ensemble: { strategy: 'ensemble', models: ['oa-model'], judge: 'an-model' } },
      });
      for await (const _ of stream) {
        // drained
      }
    })();
    await expect(attempt).rejects.toMatchObject({ status: 502 });
    expect(upstreamCalls()).toContain('claude-up');
    expect(upstreamCalls()).not.toContain('secret-up');
  });

  it('review calls fall back only to allowed models', async () => {
    failing('gpt-up');
    const res = await post('/v1/reviews', BETA, {
      artifact: 'def f(): pass',
      instructions: 'Review this.',
      reviewers: ['oa-model'],
    });
    expect(res.status).toBeGreaterThanOrEqual(200);
    expect(upstreamCalls()).toContain('gpt-up');
    expect(upstreamCalls()).not.toContain('secret-up');
  });
});

describe('auto, the model list and the dry run see only the allow-list', () => {
  it('auto:quality never picks the better model the team may not use', async () => {
    const res = await gw
      .client(BETA)
      .chat.completions.create({ model: 'auto:quality', messages: ask as never });
    expect(res.model).not.toBe('secret');
    expect(['oa-model', 'an-model', 'ge-model']).toContain(res.model);
    expect(upstreamCalls()).not.toContain('secret-up');
  });

  it('auto[:policy] as ensemble members and judge routes within the allow-list', async () => {
    failing();
    const res = await post('/v1/chat/completions', BETA, {
      model: 'oa-model',
      messages: ask,
      quorum: {
        ensemble: { strategy: 'best_of_n', models: ['auto:quality', 'auto:cost'], judge: 'auto:quality' },
      },
    });
    expect(res.status).toBe(200);
    const models = res.json.quorum.candidates.map((c: any) => c.model);
    expect(models).toHaveLength(2);
    for (const m of models) expect(['oa-model', 'an-model', 'ge-model']).toContain(m);
    expect(upstreamCalls()).not.toContain('secret-up');
  });

  it('auto reviewers route within the allow-list; an unknown policy names its field', async () => {
    failing();
    const res = await post('/v1/reviews', BETA, {
      artifact: 'def f(): pass',
      instructions: 'Review this.',
      reviewers: ['auto:quality'],
    });
    expect(res.status).not.toBe(403);
    expect(upstreamCalls().length).toBeGreaterThan(0);
    expect(upstreamCalls()).not.toContain('secret-up');
    const bad = await post('/v1/chat/completions', BETA, {
      model: 'oa-model',
      messages: ask,
      quorum: { ensemble: { strategy: 'consensus', models: ['oa-model', 'auto:bogus'] } },
    });
    expect(bad.status).toBe(404);
    expect(bad.json.error).toMatchObject({ code: 'model_not_found', param: 'quorum.ensemble.models[1]' });
  });

  it('POST /v1/route: the chosen model and every fallback are allowed; a forbidden name is 403', async () => {
    const auto = await post('/v1/route', BETA, { model: 'auto:quality', messages: ask });
    expect(auto.status).toBe(200);
    const allowed = ['oa-model', 'an-model', 'ge-model'];
    expect(allowed).toContain(auto.json.chosen);
    for (const fb of auto.json.fallbacks) expect(allowed).toContain(fb);
    for (const c of auto.json.candidates) if (c.eligible) expect(allowed).toContain(c.model);
    const named = await post('/v1/route', BETA, { model: 'oa-model', messages: ask });
    expect(named.json.fallbacks).not.toContain('secret');
    const forbidden = await post('/v1/route', BETA, { model: 'hidden', messages: ask });
    expect(forbidden.status).toBe(403);
    expect(upstreamCalls()).toEqual([]);
  });

  it('GET /v1/models lists only what each team may name', async () => {
    const list = async (key: string) =>
      ((await gw.client(key).models.list()).data as { id: string }[]).map((m) => m.id).sort();
    const routers = ['auto', 'auto:balanced', 'auto:cost', 'auto:latency', 'auto:quality'];
    expect(await list(ALPHA)).toEqual([...routers, 'ge-model', 'panel'].sort());
    expect(await list(BETA)).toEqual([...routers, 'an-model', 'ge-model', 'oa-model'].sort());
  });
});

describe('names from Object.prototype are unknown names', () => {
  const names = ['constructor', '__proto__', 'toString', 'hasOwnProperty'];

  it.each(names)('chat completions with model %s: 404 model_not_found', async (name) => {
    const res = await post('/v1/chat/completions', BETA, { model: name, messages: ask });
    expect(res.status).toBe(404);
    expect(res.json.error).toMatchObject({ code: 'model_not_found', param: 'model' });
  });

  it.each(names)('consensus and route with model %s: 404 model_not_found', async (name) => {
    const consensus = await post('/v1/consensus', BETA, {
      model: name,
      strategy: 'consensus',
      models: ['oa-model'],
      messages: ask,
    });
    expect(consensus.status).toBe(404);
    expect(consensus.json.error).toMatchObject({ code: 'model_not_found', param: 'model' });
    const route = await post('/v1/route', BETA, { model: name, messages: ask });
    expect(route.status).toBe(404);
    expect(route.json.error).toMatchObject({ code: 'model_not_found', param: 'model' });
    expect(upstreamCalls()).toEqual([]);
  });

  it('a prototype name as a fan-out member or fallback is unknown, never inherited', async () => {
    const member = await post('/v1/chat/completions', BETA, {
      model: 'oa-model',
      messages: ask,
      quorum: { ensemble: { strategy: 'consensus', models: ['oa-model', 'constructor'] } },
    });
    expect(member.status).toBe(404);
    expect(member.json.error).toMatchObject({ param: 'quorum.ensemble.models[1]' });
    const fallback = await post('/v1/chat/completions', BETA, {
      model: 'oa-model',
      messages: ask,
      quorum: { fallbacks: ['__proto__', 'toString'] },
    });
    expect(fallback.status).toBe(200);
  });
});

describe('a fan-out reserves the worst case of every fallback its members can reach', () => {
  const budget = async () =>
    (await (
      await fetch(`${gw.url}/v1/budget`, { headers: { authorization: `Bearer ${SMALL}` } })
    ).json()) as {
      spent_usd: number;
      limit_usd: number;
    };

  it('members falling back to a dearer model are refused up front; the team never ends over its limit', async () => {
    // Each fallback answer would cost (10 + 100) × $1000 / 1M = $0.11 against a $0.01 budget.
    fakes.openai.respond({ error: { status: 500, message: 'down' } });
    fakes.anthropic.respond({ text: 'ok', usage: { input: 10, output: 100 } });
    const res = await post('/v1/chat/completions', SMALL, {
      model: 'cheap-a',
      max_tokens: 100,
      messages: ask,
      quorum: { ensemble: { strategy: 'consensus', models: ['cheap-a', 'cheap-b'] } },
    });
    expect(res.status).toBe(429);
    expect(res.json.error.code).toBe('budget_exceeded');
    expect(upstreamCalls()).not.toContain('pricey-up');
    const after = await budget();
    expect(after.spent_usd).toBeLessThanOrEqual(after.limit_usd);
  });

  it('a review whose reviewers may fall back to the dearer model is refused the same way', async () => {
    fakes.openai.respond({ error: { status: 500, message: 'down' } });
    fakes.anthropic.respond({
      text: '{"verdict":"accept","score":9,"issues":[]}',
      usage: { input: 10, output: 100 },
    });
    const res = await post('/v1/reviews', SMALL, {
      artifact: 'def f(): pass',
      instructions: 'Review this.',
      reviewers: ['cheap-a', 'cheap-b'],
    });
    expect(res.status).toBe(429);
    expect(upstreamCalls()).not.toContain('pricey-up');
    const after = await budget();
    expect(after.spent_usd).toBeLessThanOrEqual(after.limit_usd);
  });

  it('with fallback turned off the cheap fan-out fits, and is charged within the limit', async () => {
    fakes.openai.respond({ text: 'ok', usage: { input: 10, output: 5 } });
    const res = await post('/v1/chat/completions', SMALL, {
      model: 'cheap-a',
      max_tokens: 100,
      messages: ask,
      quorum: { fallbacks: [], ensemble: { strategy: 'consensus', models: ['cheap-a', 'cheap-b'] } },
    });
    expect(res.status).toBe(200);
    const after = await budget();
    expect(after.spent_usd).toBeGreaterThan(0);
    expect(after.spent_usd).toBeLessThanOrEqual(after.limit_usd);
  });
});
