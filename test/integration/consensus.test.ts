/**
 * Fan-out through the real gateway: presets as model names, POST /v1/consensus and POST /v1/reviews,
 * over fakes that answer scripted texts and a fake judge that reads the fenced candidates.
 */
import type { APIError } from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeReply, ReceivedRequest } from '../fakes/harness.ts';
import { type Fakes, startFakes, startGateway, type TestGateway } from './helpers/gateway.ts';

let fakes: Fakes;
let gw: TestGateway;

const CAPS = ['tools', 'json', 'streaming'];
const model = (id: string, provider: string, upstream: string) => ({
  id,
  provider,
  upstream,
  context_window: 100_000,
  max_output_tokens: 1_000,
  price: { input: 1, output: 2 },
  capabilities: CAPS,
});

function config(f: Fakes, extra: Record<string, unknown> = {}) {
  return {
    providers: [
      { id: 'oa', type: 'openai', base_url: `${f.openai.url}/v1`, api_key: 'k', max_retries: 0 },
      { id: 'an', type: 'anthropic', base_url: f.anthropic.url, api_key: 'k', max_retries: 0 },
      { id: 'ge', type: 'gemini', base_url: f.gemini.url, api_key: 'k', max_retries: 0 },
    ],
    models: [
      model('m-oa', 'oa', 'gpt-up'),
      model('m-an', 'an', 'claude-up'),
      model('m-ge', 'ge', 'gemini-up'),
      model('judge', 'oa', 'judge-up'),
    ],
    ensembles: {
      panel: { strategy: 'consensus', models: ['m-oa', 'm-an', 'm-ge'] },
      best: { strategy: 'best_of_n', models: ['m-oa', 'm-an', 'm-ge'], judge: 'judge' },
      mix: { strategy: 'ensemble', models: ['m-an', 'm-ge'], judge: 'judge' },
      fast: { strategy: 'consensus', models: ['m-oa', 'm-an', 'm-ge'], quorum: 2 },
    },
    ...extra,
  };
}

/** A judge that scores the fenced candidate containing `favourite` 9 and the others 3. */
function judgeReply(req: ReceivedRequest, favourite: string): FakeReply {
  const prompt = String(req.body.messages.at(-1).content);
  const blocks = [...prompt.matchAll(/<<<BEGIN (\S+) ([A-Z]+)>>>\n([\s\S]*?)\n<<<END \1 \2>>>/g)];
  const scores: Record<string, number> = {};
  for (const [, , label, text] of blocks) scores[label!] = text!.includes(favourite) ? 9 : 3;
  const best = Object.entries(scores).find(([, s]) => s === 9)?.[0];
  return { text: JSON.stringify({ scores, best, rationale: `the one saying ${favourite}` }) };
}

/** The openai fake serves both m-oa (gpt-up) and the judge (judge-up). */
function openaiAnswers(
  candidate: FakeReply,
  judge: (req: ReceivedRequest) => FakeReply = () => ({ text: 'n/a' }),
) {
  fakes.openai.respond((req) => (req.body.model === 'judge-up' ? judge(req) : candidate));
}

beforeAll(async () => {
  fakes = await startFakes();
});
afterAll(async () => {
  await fakes.close();
});
beforeEach(async () => {
  for (const f of [fakes.openai, fakes.anthropic, fakes.gemini]) f.reset();
  gw = await startGateway(config(fakes));
});
afterEach(async () => {
  await gw.close();
});

const ask = [{ role: 'user' as const, content: 'What is 6 * 7?' }];

describe('consensus preset through the OpenAI SDK', () => {
  it('42, 42, 41 → 42 with agreement 2/3 and the three candidates listed', async () => {
    openaiAnswers({ text: 'The answer is 42.', usage: { input: 10, output: 5 } });
    fakes.anthropic.respond({ text: '42', usage: { input: 10, output: 1 } });
    fakes.gemini.respond({ text: 'I believe it is 41.', usage: { input: 10, output: 6 } });
    const { data, response } = await gw
      .client()
      .chat.completions.create({ model: 'panel', messages: ask })
      .withResponse();
    const q = (data as any).quorum;
    expect(data.choices[0]!.message.content).toMatch(/42/);
    expect(q.strategy).toBe('consensus');
    expect(q.agreement).toBeCloseTo(2 / 3, 5);
    expect(q.candidates.map((c: any) => [c.model, c.content])).toEqual([
      ['m-oa', 'The answer is 42.'],
      ['m-an', '42'],
      ['m-ge', 'I believe it is 41.'],
    ]);
    expect(q.selected.model).toBe(data.model);
    expect(['m-oa', 'm-an']).toContain(data.model);
    expect(q.groups.map((g: any) => g.members.length).sort()).toEqual([1, 2]);
    // usage and cost sum every call
    expect(data.usage).toMatchObject({ prompt_tokens: 30, completion_tokens: 12 });
    expect(q.cost_usd).toBeCloseTo((30 * 1 + 12 * 2) / 1e6, 12);
    expect(response.headers.get('x-quorum-model')!.split(',').sort()).toEqual(['m-an', 'm-ge', 'm-oa']);
  });

  it('a failing candidate does not fail the request', async () => {
    openaiAnswers({ text: '42' });
    fakes.anthropic.respond({ text: '42' });
    fakes.gemini.respond({ error: { status: 500, message: 'gemini down' } });
    const res = await gw.client().chat.completions.create({ model: 'panel', messages: ask });
    const q = (res as any).quorum;
    expect(res.choices[0]!.message.content).toBe('42');
    expect(q.candidates[2]).toMatchObject({ model: 'm-ge', content: null });
    expect(q.candidates[2].error).toMatch(/gemini down|500/);
    expect(q.agreement).toBe(1);
  });

  it('every candidate failing is a 502 naming each one', async () => {
    openaiAnswers({ error: { status: 500, message: 'oa down' } });
    fakes.anthropic.respond({ error: { status: 500, message: 'an down' } });
    fakes.gemini.respond({ error: { status: 500, message: 'ge down' } });
    const err = (await gw
      .client()
      .chat.completions.create({ model: 'panel', messages: ask })
      .catch((e) => e)) as APIError;
    expect(err.status).toBe(502);
    expect(err.message).toMatch(/m-oa.*m-an.*m-ge/s);
  });

  it('quorum: 2 answers once two are in and aborts the slow one', async () => {
    openaiAnswers({ text: '42' });
    fakes.anthropic.respond({ text: '42' });
    fakes.gemini.respond({ text: '42', latencyMs: 3_000 });
    const res = await gw.client().chat.completions.create({ model: 'fast', messages: ask });
    // Answered without waiting for the slow one: it was cut off (aborted) rather than finished.
    expect(res.choices[0]!.message.content).toBe('42');
    expect((res as any).quorum.candidates[2].error).toMatch(/not needed/);
    await fakes.gemini.received[0]!.done;
    expect(fakes.gemini.received[0]!.aborted).toBe(true);
  });

  it('streams the selected answer, ending with the aggregation record', async () => {
    openaiAnswers({ text: 'The answer is 42.' });
    fakes.anthropic.respond({ text: 'The answer is 42.' });
    fakes.gemini.respond({ text: '41' });
    const stream = await gw.client().chat.completions.create({
      model: 'panel',
      messages: ask,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let last: any;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      last = chunk;
    }
    expect(text).toBe('The answer is 42.');
    expect(last.quorum).toMatchObject({ strategy: 'consensus', agreement: expect.closeTo(2 / 3, 5) });
    expect(last.usage.total_tokens).toBeGreaterThan(0);
  });
});

describe('best-of-n and ensemble presets', () => {
  it("best-of-n returns the judge's choice, with its rationale and scores", async () => {
    openaiAnswers({ text: 'It is Lyon.' }, (req) => judgeReply(req, 'Paris'));
    fakes.anthropic.respond({ text: 'The capital of France is Paris.' });
    fakes.gemini.respond({ text: 'Marseille, probably.' });
    const res = await gw.client().chat.completions.create({
      model: 'best',
      messages: [{ role: 'user', content: 'Capital of France?' }],
    });
    const q = (res as any).quorum;
    expect(res.choices[0]!.message.content).toBe('The capital of France is Paris.');
    expect(res.model).toBe('m-an');
    expect(q.judge).toMatchObject({ model: 'judge', rationale: expect.stringContaining('Paris') });
    expect(q.candidates.map((c: any) => c.score)).toEqual([3, 9, 3]);
    // judged in both orders: two judge calls, model names never shown to the judge
    const judgeCalls = fakes.openai.received.filter((r) => r.body.model === 'judge-up');
    expect(judgeCalls).toHaveLength(2);
    for (const call of judgeCalls) expect(JSON.stringify(call.body)).not.toMatch(/m-an|m-ge|m-oa/);
  });

  it('ensemble streams the aggregator live and records the proposers', async () => {
    openaiAnswers({ text: 'unused' }, () => ({
      text: 'Paris is the capital; Lyon is the second city.',
      chunkDelayMs: 5,
    }));
    fakes.anthropic.respond({ text: 'Paris.' });
    fakes.gemini.respond({ text: 'Lyon is big, Paris is the capital.' });
    const stream = await gw.client().chat.completions.create({
      model: 'mix',
      messages: [{ role: 'user', content: 'Tell me about French cities.' }],
      stream: true,
    });
    let text = '';
    let deltas = 0;
    let last: any;
    for await (const chunk of stream) {
      const d = chunk.choices[0]?.delta?.content;
      if (d) {
        text += d;
        deltas++;
      }
      last = chunk;
    }
    expect(text).toBe('Paris is the capital; Lyon is the second city.');
    expect(deltas).toBeGreaterThan(3);
    expect(last.model).toBe('judge');
    expect(last.quorum.strategy).toBe('ensemble');
    expect(last.quorum.candidates.map((c: any) => c.model)).toEqual(['m-an', 'm-ge', 'judge']);
    // the aggregator saw both proposals
    const aggregatorPrompt = JSON.stringify(
      fakes.openai.received.find((r) => r.body.model === 'judge-up')!.body,
    );
    expect(aggregatorPrompt).toContain('Paris.');
    expect(aggregatorPrompt).toContain('Lyon is big');
  });
});

describe('POST /v1/consensus', () => {
  async function consensus(body: Record<string, unknown>) {
    const res = await fetch(`${gw.url}/v1/consensus`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as any };
  }

  it('returns the chat completion with the full aggregation record', async () => {
    openaiAnswers({ text: '42' });
    fakes.anthropic.respond({ text: '42' });
    const res = await consensus({ strategy: 'consensus', models: ['m-oa', 'm-an'], messages: ask });
    expect(res.status).toBe(200);
    expect(res.json.object).toBe('chat.completion');
    expect(res.json.choices[0].message.content).toBe('42');
    expect(res.json.quorum).toMatchObject({
      strategy: 'consensus',
      agreement: 1,
      selected: { index: 0, model: 'm-oa' },
    });
    for (const c of res.json.quorum.candidates) {
      expect(Object.keys(c)).toEqual(
        expect.arrayContaining(['model', 'content', 'usage', 'cost_usd', 'latency_ms']),
      );
    }
  });

  it.each([
    [{ strategy: 'coin_flip', models: ['m-oa'], messages: ask }, 400, 'strategy'],
    [{ strategy: 'consensus', models: [], messages: ask }, 400, 'models'],
    [{ strategy: 'best_of_n', models: ['m-oa', 'm-an'], messages: ask }, 400, 'judge'],
    [{ strategy: 'consensus', models: ['m-oa', 'nope'], messages: ask }, 404, 'models[1]'],
    [{ strategy: 'consensus', models: ['m-oa'], quorum: 3, messages: ask }, 400, 'quorum'],
  ])('bad fan-out %# is a clear %s naming %s', async (body, status, param) => {
    const res = await consensus(body);
    expect(res.status).toBe(status);
    expect(res.json.error.param).toBe(param);
    expect(fakes.openai.received.length + fakes.anthropic.received.length).toBe(0);
  });

  it("inline models must be on the team's allow-list", async () => {
    await gw.close();
    gw = await startGateway(
      config(fakes, {
        teams: [{ id: 't', models: ['m-oa', 'panel'] }],
        keys: [{ key: 'qk-t-00000000', team: 't' }],
      }),
    );
    const res = await fetch(`${gw.url}/v1/consensus`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer qk-t-00000000' },
      body: JSON.stringify({ strategy: 'consensus', models: ['m-oa', 'm-an'], messages: ask }),
    });
    expect(res.status).toBe(403);
    // ...while the allowed preset brings its members along
    openaiAnswers({ text: '42' });
    fakes.anthropic.respond({ text: '42' });
    fakes.gemini.respond({ text: '42' });
    const preset = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer qk-t-00000000' },
      body: JSON.stringify({ model: 'panel', messages: ask }),
    });
    expect(preset.status).toBe(200);
  });
});

describe('POST /v1/reviews', () => {
  const reviewJson = (verdict: string, score: number, issues: string[]) => ({
    text: JSON.stringify({ verdict, score, issues }),
  });

  async function reviews(body: Record<string, unknown>) {
    const res = await fetch(`${gw.url}/v1/reviews`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as any };
  }
  const base = { artifact: 'def add(a, b): return a - b', instructions: 'Review this Python function.' };

  it('returns each review, the verdict and the revision; stops when the reviewers accept', async () => {
    fakes.anthropic.enqueue(
      reviewJson('revise', 3, ['subtracts instead of adding']),
      reviewJson('accept', 9, []),
    );
    fakes.gemini.enqueue(reviewJson('revise', 4, ['wrong operator']), reviewJson('accept', 9, []));
    openaiAnswers({ text: 'def add(a, b): return a + b' });
    const res = await reviews({ ...base, reviewers: ['m-an', 'm-ge'], author: 'm-oa', rounds: 3 });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      object: 'quorum.review',
      verdict: 'accept',
      stopped_by: 'accepted',
      artifact: 'def add(a, b): return a + b',
      revised: true,
      rounds: 2,
    });
    expect(res.json.reviews).toHaveLength(4);
    expect(res.json.reviews[0]).toMatchObject({
      reviewer: 'm-an',
      round: 1,
      verdict: 'revise',
      issues: ['subtracts instead of adding'],
    });
    expect(res.json.usage.total_tokens).toBeGreaterThan(0);
  });

  it('stops at the score threshold', async () => {
    fakes.anthropic.enqueue(reviewJson('revise', 9, ['naming']));
    fakes.gemini.enqueue(reviewJson('revise', 9, ['naming']));
    const res = await reviews({ ...base, reviewers: ['m-an', 'm-ge'], author: 'm-oa', threshold: 8 });
    expect(res.json.stopped_by).toBe('threshold');
    expect(res.json.revised).toBe(false);
    expect(fakes.openai.received).toHaveLength(0);
  });

  it('stops when a round brings no new issues, returning the best draft rather than the last', async () => {
    fakes.anthropic.enqueue(reviewJson('revise', 6, ['off by one']), reviewJson('revise', 4, ['off by one']));
    fakes.gemini.enqueue(reviewJson('revise', 6, ['off by one']), reviewJson('revise', 4, ['off by one']));
    openaiAnswers({ text: 'a worse draft' });
    const res = await reviews({ ...base, reviewers: ['m-an', 'm-ge'], author: 'm-oa', rounds: 5 });
    expect(res.json.stopped_by).toBe('no_new_issues');
    expect(res.json.artifact).toBe(base.artifact);
    expect(res.json.best_round).toBe(0);
  });

  it('stops after the maximum number of rounds', async () => {
    let n = 0;
    fakes.anthropic.respond(() => reviewJson('revise', 5, [`new issue ${++n}`]));
    openaiAnswers({ text: 'another draft' });
    const res = await reviews({ ...base, reviewers: ['m-an'], author: 'm-oa', rounds: 2 });
    expect(res.json.stopped_by).toBe('max_rounds');
    expect(res.json.rounds).toBe(2);
  });

  it('without an author it reviews once', async () => {
    fakes.anthropic.enqueue(reviewJson('revise', 5, ['x']));
    const res = await reviews({ ...base, reviewers: ['m-an'] });
    expect(res.json.stopped_by).toBe('no_author');
    expect(res.json.artifact).toBe(base.artifact);
  });

  it('rejects a body without reviewers, and an unknown reviewer', async () => {
    expect((await reviews({ ...base, reviewers: [] })).status).toBe(400);
    const unknown = await reviews({ ...base, reviewers: ['nope'] });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.param).toBe('reviewers[0]');
  });
});
