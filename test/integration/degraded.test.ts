/**
 * No silent degradation: a fan-out whose judge or reviewer failed answers, but its record says so and a
 * metric counts it; with `"quorum": {"strict": true}` it is a 502 instead.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Fakes, fakesConfig, startFakes, startGateway, type TestGateway } from './helpers/gateway.ts';

let fakes: Fakes;
let gw: TestGateway;

beforeAll(async () => {
  fakes = await startFakes();
  gw = await startGateway(fakesConfig(fakes));
});
afterAll(async () => {
  await gw?.close();
  await fakes?.close();
});
beforeEach(() => {
  fakes.openai.reset();
  fakes.gemini.reset();
  fakes.anthropic.reset();
  // The judge's and the reviewer's provider is down.
  fakes.anthropic.respond({ error: { status: 500, message: 'overloaded' } });
});

async function chat(ensemble: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'oa-model',
      messages: [{ role: 'user', content: 'Name a prime number.' }],
      quorum: { ensemble, fallbacks: [], ...extra },
    }),
  });
  return { status: res.status, json: (await res.json()) as any };
}

async function degradedCount(strategy: string, reason: string): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`quorum_fanout_degraded_total{strategy="${strategy}",reason="${reason}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

const BEST = { strategy: 'best_of_n', models: ['oa-model', 'ge-model'], judge: 'an-model' };
// oa-model drafts; an-model's review fails, ge-model's accepts.
const REVIEW = { strategy: 'review', models: ['oa-model', 'an-model', 'ge-model'] };

describe('a failed judge or reviewer is never silent', () => {
  it('best_of_n: the answer says degraded: ["judge_failed"], and the metric counts it', async () => {
    const before = await degradedCount('best_of_n', 'judge_failed');
    const res = await chat(BEST);
    expect(res.status).toBe(200);
    expect(res.json.quorum.degraded).toEqual(['judge_failed']);
    expect(res.json.quorum.judge.rationale).toMatch(/judge failed/);
    expect(await degradedCount('best_of_n', 'judge_failed')).toBe(before + 1);
  });

  it('review: a failed reviewer is recorded as reviewer_failed', async () => {
    fakes.gemini.respond({ text: '{"verdict":"accept","score":9,"issues":[]}' });
    const res = await chat(REVIEW);
    expect(res.status).toBe(200);
    expect(res.json.quorum.degraded).toEqual(['reviewer_failed']);
  });

  it.each([
    ['best_of_n', BEST],
    ['review', REVIEW],
  ])('%s with "strict": true is a 502 naming what failed', async (_name, ensemble) => {
    fakes.gemini.respond({ text: '{"verdict":"accept","score":9,"issues":[]}' });
    const res = await chat(ensemble, { strict: true });
    expect(res.status).toBe(502);
    expect(res.json.error).toMatchObject({ type: 'upstream_error', code: 'upstream_failed' });
    expect(res.json.error.message).toMatch(/judge_failed|reviewer_failed/);
  });

  it('a healthy fan-out is not marked degraded, strict or not', async () => {
    fakes.anthropic.reset();
    const res = await chat(
      { strategy: 'consensus', models: ['oa-model', 'an-model', 'ge-model'] },
      { strict: true },
    );
    expect(res.status).toBe(200);
    expect(res.json.quorum.degraded).toBeUndefined();
  });
});
