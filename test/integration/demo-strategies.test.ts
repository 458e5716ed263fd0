/**
 * `npm start` with no configuration and no keys: every ensemble strategy, /v1/consensus and
 * /v1/reviews answer from the demo provider through the official OpenAI SDK, with real judge scores,
 * real review rounds and a real split vote — and nothing degraded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServeProcess, spawnServe } from './helpers/serve.ts';

let server: ServeProcess;
let client: OpenAI;
const cwd = mkdtempSync(join(tmpdir(), 'quorum-demo-strategies-'));

beforeAll(async () => {
  server = await spawnServe([], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, QUORUM_LOG_LEVEL: 'info' },
  });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'none', maxRetries: 0 });
});

afterAll(async () => {
  await server.stop('SIGKILL');
  rmSync(cwd, { recursive: true, force: true });
});

const quorumOf = (res: unknown): any => (res as { quorum: unknown }).quorum;

const ask = (model: string, content: string) =>
  client.chat.completions.create({ model, messages: [{ role: 'user', content }] });

async function post(path: string, body: unknown) {
  const res = await fetch(server.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as any };
}

describe('the demo presets', () => {
  it('are listed by GET /v1/models and named in the startup log', async () => {
    const ids = (await client.models.list()).data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['demo-mini', 'panel', 'best', 'mix', 'quick', 'review']));
    expect(server.output()).toMatch(/demo provider, with the ensemble presets panel \(consensus\), best/);
  });

  it("panel: the README's 17 * 23 returns 391 with agreement 0.67 (demo-mini disagrees)", async () => {
    const res = await ask('panel', 'What is 17 * 23?');
    expect(res.choices[0]!.message.content).toBe('The answer is 391.');
    const q = quorumOf(res);
    expect(q.strategy).toBe('consensus');
    expect(q.agreement).toBeCloseTo(2 / 3);
    expect(q.candidates.map((c: { content: string }) => c.content)).toEqual([
      'The answer is 391.',
      'The answer is 391.',
      'The answer is 392.',
    ]);
    expect(q.degraded).toBeUndefined();
    const agreed = quorumOf(await ask('panel', 'What is 3 * 3?'));
    expect(agreed.agreement).toBe(1);
  });

  it('panel on free text: no majority, so the USC judge picks, and says why', async () => {
    const q = quorumOf(await ask('panel', 'Summarise the CAP theorem in one sentence.'));
    expect(q.judge).toMatchObject({ model: 'demo-smart', rationale: expect.stringMatching(/\w/) });
    expect(q.degraded).toBeUndefined();
  });

  it('best: the judge scores every candidate, the wrong one lowest', async () => {
    const res = await ask('best', 'What is 17 * 23?');
    const q = quorumOf(res);
    expect(res.choices[0]!.message.content).toBe('The answer is 391.');
    expect(q.strategy).toBe('best_of_n');
    expect(q.degraded).toBeUndefined();
    expect(q.judge.model).toBe('demo-smart');
    const scores = Object.fromEntries(
      q.candidates.map((c: { model: string; score: number }) => [c.model, c.score]),
    );
    expect(scores['demo-fast']).toBeGreaterThan(8);
    expect(scores['demo-mini']).toBeLessThan(5);
  });

  it('mix: the aggregator synthesises, streamed too', async () => {
    const res = await ask('mix', 'What is 17 * 23?');
    const q = quorumOf(res);
    expect(res.choices[0]!.message.content).toBe('The answer is 391.');
    expect(q.strategy).toBe('ensemble');
    expect(q.candidates.at(-1)).toMatchObject({ model: 'demo-smart', role: 'aggregator' });
    expect(q.degraded).toBeUndefined();
    const stream = await client.chat.completions.create({
      model: 'mix',
      stream: true,
      messages: [{ role: 'user', content: 'Summarise the CAP theorem in one sentence.' }],
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toMatch(/^This is demo-smart.*3 answers on the CAP theorem/);
  });

  it('quick: answers once two agree', async () => {
    const res = await ask('quick', 'What is 3 * 3?');
    const q = quorumOf(res);
    expect(res.choices[0]!.message.content).toBe('The answer is 9.');
    expect(q.agreement).toBe(1);
    expect(q.degraded).toBeUndefined();
  });

  it('review: the draft goes through real rounds, sent back until accepted', async () => {
    const res = await ask('review', 'Summarise the CAP theorem in one sentence.');
    const q = quorumOf(res);
    expect(q.strategy).toBe('review');
    expect(q.degraded).toBeUndefined();
    expect(q.review).toMatchObject({ verdict: 'accept', stopped_by: 'accepted' });
    expect(q.review.rounds).toBeGreaterThanOrEqual(2);
    const first = q.review.reviews.filter((r: { round: number }) => r.round === 1);
    expect(
      first.every((r: { verdict: string; issues: string[] }) => r.verdict === 'revise' && r.issues.length),
    ).toBe(true);
    expect(res.choices[0]!.message.content).toMatch(/^Revision 1: /m);
  });
});

describe('POST /v1/consensus and POST /v1/reviews on the demo', () => {
  it('/v1/consensus with the three demo models shows the split vote', async () => {
    const { status, json } = await post('/v1/consensus', {
      strategy: 'consensus',
      models: ['demo-fast', 'demo-smart', 'demo-mini'],
      messages: [{ role: 'user', content: 'What is 17 * 23?' }],
    });
    expect(status).toBe(200);
    expect(json.choices[0].message.content).toBe('The answer is 391.');
    expect(json.quorum.agreement).toBeCloseTo(2 / 3);
    expect(json.quorum.degraded).toBeUndefined();
  });

  it('/v1/consensus best_of_n has judge scores and nothing degraded', async () => {
    const { status, json } = await post('/v1/consensus', {
      strategy: 'best_of_n',
      models: ['demo-fast', 'demo-mini'],
      judge: 'demo-smart',
      messages: [{ role: 'user', content: 'Tell me about message queues.' }],
    });
    expect(status).toBe(200);
    expect(json.quorum.candidates.every((c: { score?: number }) => typeof c.score === 'number')).toBe(true);
    expect(json.quorum.degraded).toBeUndefined();
  });

  it('/v1/reviews: reviewers send the artifact back, the author revises, the revision is accepted', async () => {
    const { status, json } = await post('/v1/reviews', {
      artifact: 'Tests catch regressions.',
      instructions: 'Write a paragraph on why tests matter.',
      reviewers: ['demo-fast', 'demo-mini'],
      author: 'demo-smart',
    });
    expect(status).toBe(200);
    expect(json).toMatchObject({ verdict: 'accept', stopped_by: 'accepted', revised: true, rounds: 2 });
    expect(json.reviews[0]).toMatchObject({ verdict: 'revise', issues: [expect.stringMatching(/example/)] });
    expect(json.artifact).toMatch(/^Tests catch regressions\.\n\nRevision 1: /);
    expect(json.quorum.degraded).toBeUndefined();
  });

  it('/v1/reviews without an author: one round, a verdict and its issues', async () => {
    const { status, json } = await post('/v1/reviews', {
      artifact: 'The answer is 392.',
      instructions: 'What is 17 * 23?',
      reviewers: ['demo-smart'],
    });
    expect(status).toBe(200);
    expect(json).toMatchObject({ verdict: 'revise', stopped_by: 'no_author', revised: false });
    expect(json.reviews[0].issues[0]).toMatch(/391, not 392/);
  });
});
