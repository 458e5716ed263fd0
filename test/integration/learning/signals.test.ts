/**
 * The signals Quorum already has, learnt from through the real HTTP API: a best-of-n judge's scores, a
 * review's verdicts (the review strategy and POST /v1/reviews), JSON-schema answers that break their
 * schema (single answers, streamed or not, and fan-out candidates), and a person's correction of a
 * workflow step. Each fan-out record shows what each candidate contributed.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Store } from '../../../src/store/index.ts';
import { type Fakes, startFakes, startGateway, type TestGateway, tempStore } from '../helpers/gateway.ts';
import { client, model, providers } from './fixtures.ts';

let fakes: Fakes;
let gw: TestGateway;
let store: { store: Store; close(): Promise<void> };

function config(f: Fakes) {
  return {
    providers: providers(f),
    models: [model('top', 'oa', 0.9), model('runner', 'an', 0.8), model('judge', 'ge', 0.7)],
    routing: { learning: { min_observations: 1, prior_strength: 2 } },
    ensembles: {
      best: { strategy: 'best_of_n', models: ['top', 'runner'], judge: 'judge' },
      vote: { strategy: 'consensus', models: ['top', 'runner', 'top'] },
      reviewed: { strategy: 'review', models: ['top', 'runner'] },
    },
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
  store = await tempStore('quorum-learning-signals-');
  gw = await startGateway(config(fakes), { store: store.store, workflows: true });
  return async () => {
    await gw.close();
    await store.close();
  };
});

const post = (path: string, body: unknown, method = 'POST') => client(gw).call(method, path, body);
const learnt = (id: string) => client(gw).learnt(id);

const ASK = [{ role: 'user', content: 'What is 17 × 23? Reply with the number only.' }];
const SCHEMA = {
  type: 'json_schema',
  json_schema: {
    name: 'answer',
    schema: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] },
  },
};

describe('fan-out signals', () => {
  it("best_of_n: each candidate contributes its judge's score", async () => {
    fakes.openai.respond({ text: '391' });
    fakes.anthropic.respond({ text: '392' });
    fakes.gemini.respond({ text: '{"scores": {"A": 8, "B": 8}, "best": "A", "rationale": "both fine"}' });
    const res = await post('/v1/chat/completions', { model: 'best', messages: ASK });
    expect(res.status).toBe(200);
    const category = (await learnt('top')).math.observations ? 'math' : 'general';
    expect(res.json.quorum.candidates.map((c: any) => c.learning)).toEqual([
      { signal: 'judge_score', value: 0.8, category },
      { signal: 'judge_score', value: 0.8, category },
    ]);
    expect((await learnt('runner'))[category]).toMatchObject({ observed: 0.8, observations: 1 });
    // The judge is not a candidate: it learns nothing.
    expect((await learnt('judge'))[category].observations).toBe(0);
  });

  it('consensus with a JSON schema: a candidate whose answer breaks the schema loses, whatever the vote', async () => {
    fakes.openai.respond({ text: '{"n": 391}' });
    fakes.anthropic.respond({ text: '391, I think' });
    const res = await post('/v1/chat/completions', { model: 'vote', messages: ASK, response_format: SCHEMA });
    expect(res.status).toBe(200);
    const signals = res.json.quorum.candidates.map((c: any) => [
      c.model,
      c.learning.signal,
      c.learning.value,
    ]);
    expect(signals).toEqual([
      ['top', 'consensus_agreement', 1],
      ['runner', 'schema_failure', 0],
      ['top', 'consensus_agreement', 1],
    ]);
  });

  it('review strategy: the drafting model contributes its first-round review score', async () => {
    fakes.openai.respond({ text: 'A message queue is a buffer.' });
    fakes.anthropic.respond({ text: '{"verdict": "accept", "score": 9, "issues": []}' });
    const res = await post('/v1/chat/completions', { model: 'reviewed', messages: ASK });
    expect(res.status).toBe(200);
    expect(res.json.quorum.candidates[0]).toMatchObject({
      model: 'top',
      learning: { signal: 'review_verdict', value: 0.9 },
    });
  });
});

describe('signals of single answers, reviews and workflows', () => {
  it('a JSON-schema answer that breaks its schema counts 0; one that holds counts nothing', async () => {
    fakes.openai.respond({ text: 'not json at all' });
    fakes.anthropic.respond({ text: '{"n": 391}' });
    for (const [name, stream] of [
      ['top', false],
      ['top', true],
      ['runner', false],
    ] as const) {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: name, messages: ASK, response_format: SCHEMA, stream }),
      });
      expect(res.status).toBe(200);
      await res.text();
    }
    await vi.waitFor(async () => {
      const top = await learnt('top');
      const category = Object.keys(top).find((c) => top[c].observations > 0);
      expect(category && top[category]).toMatchObject({ observed: 0, observations: 2 });
    });
    const runner = await learnt('runner');
    expect(Object.values(runner).every((e: any) => e.observations === 0)).toBe(true);
  });

  it("a client's catastrophic schema pattern is never run: the answer and the next request are served", async () => {
    // Were the pattern run on this answer, it would take hours of backtracking on the shared event loop.
    const evil = `${'a'.repeat(40)}!`;
    fakes.openai.respond({ text: JSON.stringify({ s: evil }) });
    const format = {
      type: 'json_schema',
      json_schema: {
        name: 'evil',
        schema: {
          type: 'object',
          properties: { s: { type: 'string', pattern: '^(a+)+$' } },
          required: ['s'],
        },
      },
    };
    for (const model of ['top', 'vote']) {
      const res = await post('/v1/chat/completions', { model, messages: ASK, response_format: format });
      expect(res.status).toBe(200);
    }
    expect((await post('/v1/chat/completions', { model: 'runner', messages: ASK })).status).toBe(200);
    await gw.booted.learning!.flush();
    // top's answers broke nothing certain: its two votes agreeing count 1 each, and no schema failure 0.
    const observed = Object.values(await learnt('top')).filter((e: any) => e.observations > 0);
    expect(observed).toEqual([expect.objectContaining({ observed: 1, observations: 2 })]);
  });

  it("POST /v1/reviews: the author's revisions are scored by the reviewers' later rounds", async () => {
    fakes.openai.respond({ text: 'A queue holds messages until a consumer takes them.' });
    fakes.anthropic.respond({ text: '{"verdict": "revise", "score": 4, "issues": ["too vague"]}' });
    const res = await post('/v1/reviews', {
      artifact: 'Queues are things.',
      instructions: 'A one-sentence definition of a message queue for beginners.',
      reviewers: ['runner'],
      author: 'top',
      rounds: 2,
    });
    expect(res.status).toBe(200);
    expect(res.json.rounds).toBe(2);
    await vi.waitFor(async () => {
      const top = await learnt('top');
      const observed = Object.values(top).filter((e: any) => e.observations > 0);
      expect(observed).toEqual([expect.objectContaining({ observed: 0.4, observations: 1 })]);
    });
    // The reviewer reviewed; its own quality is not what was scored.
    expect(Object.values(await learnt('runner')).every((e: any) => e.observations === 0)).toBe(true);
  });

  it("a person's correction of a workflow step counts against the step's model", async () => {
    fakes.openai.respond({ text: 'Lyon' });
    const wf = await post('/v1/workflows', {
      name: 'town',
      steps: { town: { model: 'top', prompt: 'Home town of Ada Lovelace? Reply with the town only.' } },
    });
    expect(wf.status).toBe(201);
    const run = await post(`/v1/workflows/${wf.json.id}/runs?wait=true`, { inputs: {} });
    expect(run.json.status).toBe('succeeded');
    expect(Object.values(await learnt('top')).every((e: any) => e.observations === 0)).toBe(true);
    const fixed = await post(`/v1/runs/${run.json.id}/steps/town/output`, { output: 'London' }, 'PUT');
    expect(fixed.status).toBe(200);
    await vi.waitFor(async () => {
      const observed = Object.values(await learnt('top')).filter((e: any) => e.observations > 0);
      expect(observed).toEqual([expect.objectContaining({ observed: 0, observations: 1 })]);
    });
    // A second correction of the same answer counts nothing more.
    await post(`/v1/runs/${run.json.id}/steps/town/output`, { output: 'London, UK' }, 'PUT');
    await gw.booted.learning!.flush();
    const observed = Object.values(await learnt('top')).filter((e: any) => e.observations > 0);
    expect(observed).toEqual([expect.objectContaining({ observations: 1 })]);
  });
});
