/**
 * Learning from outcomes through the real HTTP API, against the fakes: a model that keeps getting bad
 * feedback in a category is routed around (only once it has enough observations, and only in that
 * category), one that then does well in consensus votes is routed back; learning never takes a team
 * past its allow-list or a request past the capability filter; feedback belongs to the team whose
 * request it was.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Fakes, startFakes, startGateway, type TestGateway } from '../helpers/gateway.ts';

let fakes: Fakes;
let gw: TestGateway;

const KEY_A = 'sk-team-a-learning-0001';
const KEY_B = 'sk-team-b-learning-0002';
const KEY_NARROW = 'sk-team-narrow-learning-03';

function config(f: Fakes) {
  const caps = ['tools', 'json', 'streaming'];
  return {
    providers: [
      { id: 'oa', type: 'openai', base_url: `${f.openai.url}/v1`, api_key: 'k', max_retries: 0 },
      { id: 'an', type: 'anthropic', base_url: f.anthropic.url, api_key: 'k', max_retries: 0 },
      { id: 'ge', type: 'gemini', base_url: f.gemini.url, api_key: 'k', max_retries: 0 },
    ],
    models: [
      {
        id: 'top',
        provider: 'oa',
        context_window: 100_000,
        max_output_tokens: 4_096,
        price: { input: 1, output: 2 },
        capabilities: caps,
        quality: { general: 0.9, code: 0.9, math: 0.9, reasoning: 0.9, writing: 0.9 },
      },
      {
        id: 'runner',
        provider: 'an',
        context_window: 100_000,
        max_output_tokens: 4_096,
        price: { input: 1, output: 2 },
        // No tools: a request with tools can never land here, however good it gets.
        capabilities: ['json', 'streaming'],
        quality: { general: 0.85, code: 0.5, math: 0.5, reasoning: 0.5, writing: 0.5 },
      },
      {
        id: 'third',
        provider: 'ge',
        context_window: 100_000,
        max_output_tokens: 4_096,
        price: { input: 1, output: 2 },
        capabilities: caps,
        quality: { general: 0.6, code: 0.6, math: 0.6, reasoning: 0.6, writing: 0.6 },
      },
    ],
    routing: { learning: { min_observations: 3, prior_strength: 2, half_life_days: 365 } },
    ensembles: { vote: { strategy: 'consensus', models: ['top', 'top', 'runner'] } },
    teams: [{ id: 'team-a' }, { id: 'team-b' }, { id: 'narrow', models: ['top'] }],
    keys: [
      { key: KEY_A, team: 'team-a' },
      { key: KEY_B, team: 'team-b' },
      { key: KEY_NARROW, team: 'narrow' },
    ],
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
  // Each model has its own answer, so a consensus vote says who agreed.
  fakes.openai.respond({ text: '391' });
  fakes.anthropic.respond({ text: '392' });
  fakes.gemini.respond({ text: '393' });
  gw = await startGateway(config(fakes));
  return () => gw.close();
});

async function post(path: string, body: unknown, key = KEY_A) {
  const res = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as any };
}

const GREETING = [{ role: 'user', content: 'hi there, how are you?' }];
const CODE = [
  {
    role: 'user',
    content:
      'Refactor this TypeScript function to handle missing data, add types and a unit test:\n```ts\nexport function totals(orders) {\n  return orders.items.map((i) => i.price * i.qty).reduce((a, b) => a + b);\n}\n```',
  },
];

/** An answer from `model` (a name or `auto:quality`) and its request id. */
async function ask(model: string, messages = GREETING, key = KEY_A) {
  const res = await post('/v1/chat/completions', { model, messages }, key);
  expect(res.status).toBe(200);
  return { model: res.json.model as string, id: res.headers.get('x-quorum-request-id')! };
}

const feedback = (request_id: string, score: number, key = KEY_A) =>
  post('/v1/feedback', { request_id, score }, key);

async function learnt(model: string, key = KEY_A) {
  const res = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
  const list = (await res.json()) as { data: { id: string; quorum: any }[] };
  return list.data.find((m) => m.id === model)!.quorum.learned_quality;
}

describe('learning moves the router', () => {
  it('routes around a model that keeps losing in a category, after min_observations, and routes back when it improves', async () => {
    expect((await ask('auto:quality')).model).toBe('top');

    // Two bad scores: below the minimum of three, the router keeps the catalog's quality.
    for (let i = 0; i < 2; i++) {
      const { model, id } = await ask('auto:quality');
      expect(model).toBe('top');
      const fb = await feedback(id, 0);
      expect(fb.status).toBe(202);
      expect(fb.json).toMatchObject({
        object: 'feedback',
        model: 'top',
        category: 'general',
        status: 'accepted',
      });
    }
    expect((await learnt('top')).general).toMatchObject({
      prior: 0.9,
      observed: 0,
      effective: 0.9,
      observations: 2,
    });
    const third = await ask('auto:quality');
    expect(third.model).toBe('top');
    await feedback(third.id, 0);

    // Three: (2 × 0.9 + 0) / (2 + 3) = 0.36 < runner's 0.85.
    expect((await learnt('top')).general).toMatchObject({ observed: 0, effective: 0.36, observations: 3 });
    expect((await ask('auto:quality')).model).toBe('runner');
    const route = await post('/v1/route', { model: 'auto:quality', messages: GREETING });
    expect(route.json.chosen).toBe('runner');
    const top = route.json.candidates.find((c: any) => c.model === 'top');
    expect(top.learned_quality).toMatchObject({ observed: 0, observations: expect.any(Number) });
    expect(top.learned_quality.prior).toBeGreaterThan(top.learned_quality.effective);
    expect(top.learned_quality.effective).toBeCloseTo(top.scores.quality, 3);

    // Only general was learnt: code still goes to top.
    expect((await ask('auto:quality', CODE)).model).toBe('top');

    // top then wins consensus votes (it answers twice, 391, against runner's 392) and comes back.
    for (let i = 0; i < 6; i++) {
      const vote = await post('/v1/chat/completions', { model: 'vote', messages: GREETING });
      expect(vote.status).toBe(200);
      const learning = vote.json.quorum.candidates.map((c: any) => [c.model, c.learning]);
      expect(learning).toEqual([
        ['top', { signal: 'consensus_agreement', value: 1, category: 'general' }],
        ['top', { signal: 'consensus_agreement', value: 1, category: 'general' }],
        ['runner', { signal: 'consensus_agreement', value: 0, category: 'general' }],
      ]);
    }
    expect((await learnt('runner')).general.effective).toBeLessThan((await learnt('top')).general.effective);
    expect((await ask('auto:quality')).model).toBe('top');
  });

  it("never routes past a team's allow-list or a request's capabilities, however good the model got", async () => {
    // Make top the loser in general (runner is then the best).
    for (let i = 0; i < 3; i++) await feedback((await ask('top')).id, 0);
    expect((await ask('auto:quality')).model).toBe('runner');

    // A team allowed only top gets top; the router says why runner was not taken.
    const narrow = await post('/v1/route', { model: 'auto:quality', messages: GREETING }, KEY_NARROW);
    expect(narrow.json.chosen).toBe('top');
    expect(narrow.json.candidates.find((c: any) => c.model === 'runner')).toMatchObject({
      eligible: false,
      reason: 'not in team allow-list',
    });
    expect((await ask('auto:quality', GREETING, KEY_NARROW)).model).toBe('top');

    // A request with tools cannot go to runner (no tools) however good its learnt quality: the best
    // model with tools is now third (0.6 beats top's learnt 0.36).
    const tools = [
      { type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } },
    ];
    const withTools = await post('/v1/chat/completions', {
      model: 'auto:quality',
      messages: GREETING,
      tools,
    });
    expect(withTools.status).toBe(200);
    expect(withTools.json.model).toBe('third');
    expect(withTools.json.quorum.route.candidates.find((c: any) => c.model === 'runner')).toMatchObject({
      eligible: false,
      reason: 'lacks capability: tools',
    });
    expect(fakes.anthropic.received.filter((r) => r.body.tools)).toEqual([]);
  });
});

describe('POST /v1/feedback', () => {
  it("takes feedback only on the team's own requests", async () => {
    const { id } = await ask('top');
    const foreign = await feedback(id, 0, KEY_B);
    expect(foreign.status).toBe(404);
    expect(foreign.json.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'not_found',
      param: 'request_id',
    });
    const unknown = await feedback('no-such-request', 1);
    expect(unknown.status).toBe(404);
    // Same answer whether the id exists for another team or not at all.
    expect(foreign.json.error.message.replace(id, 'X')).toBe(
      unknown.json.error.message.replace('no-such-request', 'X'),
    );
    // Team B's attempt counted nothing; team A's own feedback is still the first.
    expect((await learnt('top')).general.observations).toBe(0);
    expect((await feedback(id, 1)).status).toBe(202);
    expect((await learnt('top')).general.observations).toBe(1);
  });

  it('counts the first feedback on a request only', async () => {
    const { id } = await ask('top');
    expect((await feedback(id, 0)).status).toBe(202);
    const again = await feedback(id, 1);
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({ code: 'conflict', param: 'request_id' });
    expect((await learnt('top')).general).toMatchObject({ observations: 1, observed: 0 });
  });

  it('refuses a bad body naming the field, without counting anything', async () => {
    const { id } = await ask('top');
    for (const [body, param] of [
      [{ request_id: id, score: 1.5 }, 'score'],
      [{ request_id: id, score: -0.1 }, 'score'],
      [{ request_id: id, score: '1' }, 'score'],
      [{ request_id: id }, 'score'],
      [{ score: 1 }, 'request_id'],
      [{ request_id: id, score: 1, comment: 7 }, 'comment'],
      [{ request_id: id, score: 1, extra: true }, null],
    ] as const) {
      const res = await post('/v1/feedback', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.type).toBe('invalid_request_error');
      if (param) expect(res.json.error.param).toBe(param);
    }
    expect((await learnt('top')).general.observations).toBe(0);
  });
});
