/**
 * Learning from outcomes through the real HTTP API, against the fakes: a model that keeps getting bad
 * feedback in a category is routed around (only once it has enough observations, and only in that
 * category), one that then does well in consensus votes is routed back; learning never takes a team
 * past its allow-list or a request past the capability filter; feedback belongs to the team whose
 * request it was.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Fakes, startFakes, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { client, GREETING, model, providers } from './fixtures.ts';

let fakes: Fakes;
let gw: TestGateway;
let api: ReturnType<typeof client>;

const KEY_A = 'sk-team-a-learning-0001';
const KEY_B = 'sk-team-b-learning-0002';
const KEY_NARROW = 'sk-team-narrow-learning-03';

function config(f: Fakes) {
  return {
    providers: providers(f),
    models: [
      model('top', 'oa', 0.9, ['tools', 'json', 'streaming']),
      // No tools: a request with tools can never land here, however good it gets.
      model('runner', 'an', { general: 0.85, code: 0.5, math: 0.5, reasoning: 0.5, writing: 0.5 }),
      model('third', 'ge', 0.6, ['tools', 'json', 'streaming']),
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
  api = client(gw, KEY_A);
  return () => gw.close();
});

const post = (path: string, body: unknown, key = KEY_A) => api.post(path, body, key);
const ask = (name: string, messages: unknown = GREETING, key = KEY_A) => api.ask(name, messages, key);
const feedback = (request_id: string, score: number, key = KEY_A) => api.feedback(request_id, score, key);
const learnt = (name: string) => api.learnt(name);

const CODE = [
  {
    role: 'user',
    content:
      'Refactor this TypeScript function to handle missing data, add types and a unit test:\n```ts\nexport function totals(orders) {\n  return orders.items.map((i) => i.price * i.qty).reduce((a, b) => a + b);\n}\n```',
  },
];

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
