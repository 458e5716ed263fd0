/**
 * A hostile tenant against the budget hold: requests shaped so that the hold the gateway takes is
 * smaller than what the upstream can bill. Any such gap is spend past the limit (the charge is capped
 * at the hold, so the operator pays the difference). Each case is checked against the real server and
 * a fake OpenAI upstream that plays the billing the attack relies on:
 *
 * - `max_tokens` and `max_completion_tokens` both set: the hold must cover the larger, since an
 *   upstream may honour either;
 * - a call the client abandons before its first chunk (or before a plain answer): the prompt was sent
 *   and is billed, so it is charged;
 * - a judge or aggregator that reads every candidate's answer: its hold covers that reading;
 * - a review of Han text: the hold uses the upper-bound estimate, as a chat request's does.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { metrics } from '../../../src/telemetry/index.ts';
import type { FakeServer } from '../../fakes/harness.ts';
import { startFakeOpenAI } from '../../fakes/openai.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

const CAPS = ['tools', 'vision', 'json', 'streaming'];
const KEYS = {
  tokens: 'qk-tenant-tokens-000001', // $0.50
  rich: 'qk-tenant-rich-00000002', // $5
  abandon: 'qk-tenant-abandon-00003', // $10
  fanout: 'qk-tenant-fanout-000004', // $2
  review: 'qk-tenant-review-000005', // $0.40
} as const;
type Team = keyof typeof KEYS;
const LIMITS: Record<Team, number> = { tokens: 0.5, rich: 5, abandon: 10, fanout: 2, review: 0.4 };

function model(id: string, price: { input: number; output: number }, maxOutput: number) {
  return {
    id,
    provider: 'up',
    upstream: `${id}-up`,
    context_window: 1_000_000,
    max_output_tokens: maxOutput,
    price,
    capabilities: CAPS,
  };
}

let fake: FakeServer;
let gw: TestGateway;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  gw = await startGateway({
    providers: [{ id: 'up', type: 'openai', base_url: `${fake.url}/v1`, api_key: 'k', max_retries: 0 }],
    models: [
      model('wide', { input: 2.5, output: 10 }, 100_000),
      model('cheap-a', { input: 0, output: 1 }, 100_000),
      model('cheap-b', { input: 0, output: 1 }, 100_000),
      model('cheap-c', { input: 0, output: 1 }, 100_000),
      model('dear', { input: 10, output: 10 }, 8_000),
      model('rev', { input: 10, output: 10 }, 1_000),
      model('terse', { input: 10, output: 10 }, 100),
    ],
    teams: (Object.keys(KEYS) as Team[]).map((id) => ({
      id,
      budget: {
        limit_usd: LIMITS[id],
        period: 'total',
        ...(id === 'fanout' ? { min_output_tokens: 100_000 } : {}),
      },
    })),
    keys: (Object.keys(KEYS) as Team[]).map((team) => ({ key: KEYS[team], team, name: team })),
  });
});
afterAll(async () => {
  await gw.close();
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  fake.respond({ text: 'ok', usage: { input: 10, output: 5 } });
});

async function post(path: string, team: Team, body: Record<string, unknown>, signal?: AbortSignal) {
  const res = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS[team]}` },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
  const text = await res.text();
  return { status: res.status, text, json: text.startsWith('{') ? JSON.parse(text) : null };
}

async function budget(team: Team) {
  const res = await fetch(`${gw.url}/v1/budget`, { headers: { authorization: `Bearer ${KEYS[team]}` } });
  return (await res.json()) as { spent_usd: number; reserved_usd: number; limit_usd: number };
}

async function until(check: () => boolean | Promise<boolean>) {
  while (!(await check())) await new Promise((r) => setTimeout(r, 10));
}

describe('max_tokens and max_completion_tokens both set', () => {
  const body = {
    model: 'wide',
    max_completion_tokens: 1,
    max_tokens: 60_000,
    messages: [{ role: 'user', content: 'Write as much as you may.' }],
  };

  it('the hold covers the larger: 60,000 output tokens at $10/M, more than a $0.50 budget, are lowered to fit', async () => {
    // An upstream that honours max_tokens writes all it may: the cap sent is what the hold paid for.
    fake.respond((req) => ({ text: 'long', usage: { input: 10, output: req.body.max_tokens } }));
    const res = await post('/v1/chat/completions', 'tokens', body);
    expect(res.status).toBe(200);
    expect(res.json.quorum.output_cap.reason).toBe('budget_remaining');
    const cap = res.json.quorum.output_cap.max_tokens;
    expect(cap).toBeLessThan(50_000);
    expect(fake.received[0]!.body).toMatchObject({ max_tokens: cap, max_completion_tokens: 1 });
    expect((await budget('tokens')).spent_usd).toBeLessThanOrEqual(0.5);
    expect((await budget('tokens')).spent_usd).toBeGreaterThan(0.49);
  });

  it('an upstream that honours max_tokens is charged in full, not cut at a one-token hold', async () => {
    fake.respond((req) => ({ text: 'long', usage: { input: 10, output: req.body.max_tokens } }));
    const res = await post('/v1/chat/completions', 'rich', body);
    expect(res.status).toBe(200);
    // 10 × $2.50/M + 60,000 × $10/M
    expect(res.json.quorum.cost_usd).toBeCloseTo(0.600025, 9);
    expect((await budget('rich')).spent_usd).toBeCloseTo(0.600025, 9);
  });
});

describe('a call abandoned before its first chunk', () => {
  // About 10,000 tokens of prompt: $0.025 at $2.50/M, billed once the upstream has it.
  const prompt = 'word '.repeat(8_000);

  for (const stream of [true, false]) {
    it(`is charged for its prompt (${stream ? 'streamed' : 'not streamed'})`, async () => {
      fake.respond({ hang: true });
      const before = await budget('abandon');
      const client = new AbortController();
      const pending = post(
        '/v1/chat/completions',
        'abandon',
        { model: 'wide', stream, max_tokens: 10, messages: [{ role: 'user', content: prompt }] },
        client.signal,
      ).catch((err: unknown) => err);
      await until(() => fake.received.length === 1);
      client.abort();
      await pending;
      await fake.received[0]!.done;
      expect(fake.received[0]!.aborted).toBe(true);
      // The hold is settled once the gateway has seen the call end.
      await until(async () => (await budget('abandon')).reserved_usd === 0);
      const after = await budget('abandon');
      expect(after.spent_usd - before.spent_usd).toBeGreaterThanOrEqual(0.025);
    });
  }
});

describe('a judge reads every candidate', () => {
  it("the hold prices the judge's reading of three 100,000-token answers at the judge's input price", async () => {
    // Candidates: 3 × 100,000 × $1/M = $0.30. The two judge passes each read up to 300,000 tokens of
    // answers at $10/M: $3 each. A $2 budget cannot cover that.
    // The team's floor is the request's own 100,000 tokens: nothing is lowered to fit.
    const res = await post('/v1/chat/completions', 'fanout', {
      model: 'cheap-a',
      max_tokens: 100_000,
      messages: [{ role: 'user', content: 'Which is best?' }],
      quorum: {
        ensemble: { strategy: 'best_of_n', models: ['cheap-a', 'cheap-b', 'cheap-c'], judge: 'dear' },
      },
    });
    expect(res.status).toBe(429);
    expect(res.json.error.code).toBe('budget_exceeded');
    expect(fake.received).toHaveLength(0);
  });
});

describe('a review of Han text', () => {
  const HAN = '我们今天讨论人工智能在医疗领域的应用以及它如何改变医生诊断疾病的方式'.repeat(600);

  it('is held at the upper-bound estimate, as a chat request is, and refused when that is over budget', async () => {
    // 20,400 Han characters may bill up to ~61,000 tokens: $0.61 at $10/M, over a $0.40 budget.
    fake.respond({
      text: '{"verdict":"accept","score":9,"issues":[]}',
      usage: { input: HAN.length * 2, output: 20 },
    });
    const res = await post('/v1/reviews', 'review', {
      artifact: HAN,
      instructions: 'Review.',
      reviewers: ['rev'],
    });
    expect(res.status).toBe(429);
    expect(res.json.error.code).toBe('budget_exceeded');
    expect(fake.received).toHaveLength(0);
  });
});

describe('a review whose author reads long issue lists', () => {
  it("the hold covers the author's reading of every reviewer's issues: nothing is charged past it", async () => {
    // Five reviewers each write a different 2,000-token issue; the author reads all of them.
    let n = 0;
    fake.respond((req) => {
      const system = String(req.body.messages[0]?.content ?? '');
      if (system.startsWith('You revise')) return { text: 'revised', usage: { output: 100 } };
      const issue = `issue ${++n}: ${'x'.repeat(8_000)}`;
      return {
        text: JSON.stringify({ verdict: 'revise', score: 1, issues: [issue] }),
        usage: { output: 2_048 },
      };
    });
    const overHold = async () =>
      (await metrics.usageOverHold.get()).values.find((v) => v.labels.team === 'rich')?.value ?? 0;
    const before = await overHold();
    const res = await post('/v1/reviews', 'rich', {
      artifact: 'def f(): pass',
      instructions: 'Review.',
      reviewers: ['terse', 'terse', 'terse', 'terse', 'terse'],
      author: 'terse',
      rounds: 2,
    });
    expect(res.status).toBe(200);
    expect(
      fake.received.filter((r) => String(r.body.messages[0].content).startsWith('You revise')),
    ).toHaveLength(1);
    expect(await overHold()).toBe(before);
  });
});

describe('the review strategy on a chat request', () => {
  it("keeps the author's revisions within the request's max_tokens, and holds the issues it reads", async () => {
    // The request asks for 10 tokens; each revision is the answer, so it may not run to 100,000.
    let n = 0;
    fake.respond((req) => {
      const system = String(req.body.messages[0]?.content ?? '');
      if (system.startsWith('You revise')) {
        return { text: 'revised', usage: { output: Math.min(req.body.max_tokens ?? 100_000, 100_000) } };
      }
      if (system.startsWith('You are a meticulous')) {
        const issue = `issue ${++n}: ${'x'.repeat(8_000)}`;
        return {
          text: JSON.stringify({ verdict: 'revise', score: 1, issues: [issue] }),
          usage: { output: 2_048 },
        };
      }
      return { text: 'draft', usage: { output: 10 } };
    });
    const overHold = async () =>
      (await metrics.usageOverHold.get()).values.find((v) => v.labels.team === 'rich')?.value ?? 0;
    const before = await overHold();
    const res = await post('/v1/chat/completions', 'rich', {
      model: 'wide',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'Write a haiku.' }],
      quorum: { ensemble: { strategy: 'review', models: ['wide', 'terse', 'terse', 'terse'] } },
    });
    expect(res.status).toBe(200);
    const revisions = fake.received.filter((r) =>
      String(r.body.messages[0].content).startsWith('You revise'),
    );
    expect(revisions.length).toBeGreaterThan(0);
    for (const r of revisions) expect(r.body.max_tokens).toBe(10);
    expect(await overHold()).toBe(before);
  });
});
