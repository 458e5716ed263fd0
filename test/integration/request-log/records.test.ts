/**
 * The request log on a real gateway (content logging off, the default): every proxied surface leaves
 * a record with the right facts — the model asked and the ones that answered, the route decision of
 * `auto`, a fan-out's panel, the attempts and error of a failure — and no prompt or answer text at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAIL, type LogGateway, MASTER, OPS, post, RESEARCH, recordOf, startLogGateway } from './helpers.ts';

let t: LogGateway;
let url: string;
// One word: it survives the normalisation a consensus applies to group its answers.
const SECRET_PROMPT = 'zebrasentinel';

beforeAll(async () => {
  t = await startLogGateway();
  url = t.gw.url;
});
afterAll(async () => {
  await t.close();
});

const chat = (content: string, extra: Record<string, unknown> = {}) => ({
  model: 'demo-fast',
  messages: [{ role: 'user', content }],
  ...extra,
});

describe('a chat completion', () => {
  it('is recorded with its key, models, usage, cost, timing and tags — no text', async () => {
    const r = await post(
      url,
      '/v1/chat/completions',
      chat(`hello ${SECRET_PROMPT}`, { quorum: { tags: { app: 'billing', env: 'prod' } } }),
      RESEARCH,
    );
    expect(r.status).toBe(200);
    const record = await recordOf(url, r.id);
    expect(record).toMatchObject({
      object: 'request',
      id: r.id,
      surface: 'chat.completions',
      path: '/v1/chat/completions',
      team: 'research',
      key_id: 'static:research-ci',
      key_name: 'research-ci',
      model: 'demo-fast',
      models: ['demo-fast'],
      status: 200,
      error: null,
      stream: false,
      tags: { app: 'billing', env: 'prod' },
      usage: { input_tokens: r.json.usage.prompt_tokens, output_tokens: r.json.usage.completion_tokens },
      cost_usd: Number(r.headers.get('x-quorum-cost-usd')),
      overhead_ms: Number(r.headers.get('x-quorum-overhead-ms')),
      attempts: [{ model: 'demo-fast', provider: 'demo', status: 200 }],
      route: null,
      panel: null,
      content: null,
    });
    expect(record.cost_usd).toBeGreaterThan(0);
    expect(record.latency_ms).toBeGreaterThanOrEqual(record.overhead_ms);
    expect(Date.parse(record.created_at)).toBeLessThanOrEqual(Date.now());
    expect(Date.now() - Date.parse(record.created_at)).toBeLessThan(60_000);
  });

  it('a stream is recorded when it ends, as a stream, with its usage and cost', async () => {
    const r = await post(
      url,
      '/v1/chat/completions',
      chat('stream me', { stream: true, stream_options: { include_usage: true } }),
      RESEARCH,
    );
    expect(r.status).toBe(200);
    const usage = r.text
      .split('\n')
      .filter((l) => l.startsWith('data: {'))
      .map((l) => JSON.parse(l.slice(6)))
      .find((c) => c.usage)!.usage;
    const record = await recordOf(url, r.id);
    expect(record).toMatchObject({
      stream: true,
      status: 200,
      models: ['demo-fast'],
      usage: { input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens },
    });
    expect(record.cost_usd).toBeGreaterThan(0);
  });

  it('a stream the client leaves is recorded as 499, with what its upstream call was charged', async () => {
    t.fakes.openai.enqueue({ text: 'one two three four five six seven eight', chunkDelayMs: 40 });
    const controller = new AbortController();
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${RESEARCH}` },
      body: JSON.stringify(chat('leave me', { model: 'oa-model', stream: true })),
      signal: controller.signal,
    });
    const id = res.headers.get('x-quorum-request-id')!;
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    let record: any;
    for (let i = 0; i < 100; i++) {
      const got = await fetch(`${url}/v1/requests/${id}`, { headers: { authorization: `Bearer ${MASTER}` } });
      if (got.status === 200) {
        record = await got.json();
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(record).toMatchObject({
      status: 499,
      stream: true,
      error: { code: 'client_closed_request' },
      models: ['oa-model'],
    });
    await t.store.ledger.flush();
    const ledger = await t.store.db
      .selectFrom('ledger')
      .select(['cost_nanos'])
      .where('request_id', '=', id)
      .execute();
    expect(ledger).toHaveLength(1);
    expect(record.cost_usd).toBe(Number(ledger[0]!.cost_nanos) / 1e9);
    expect(record.cost_usd).toBeGreaterThan(0);
  });

  it('a cache hit says so, and costs nothing', async () => {
    const body = chat('cache this one', { temperature: 0 });
    const first = await post(url, '/v1/chat/completions', body, RESEARCH);
    const second = await post(url, '/v1/chat/completions', body, RESEARCH);
    expect((await recordOf(url, first.id)).cache).toBe('miss');
    expect(await recordOf(url, second.id)).toMatchObject({ cache: 'hit', cost_usd: 0, attempts: [] });
  });
});

describe('auto', () => {
  it('records the route decision: policy, chosen, every candidate with scores or a reason', async () => {
    const r = await post(url, '/v1/chat/completions', chat('what is 12*12?', { model: 'auto:cost' }), OPS);
    expect(r.status).toBe(200);
    const record = await recordOf(url, r.id);
    expect(record.model).toBe('auto:cost');
    expect(record.route).toEqual(r.json.quorum.route);
    expect(record.route.policy).toBe('cost');
    expect(record.models).toEqual([record.route.chosen]);
    expect(record.route.candidates.length).toBeGreaterThan(2);
    for (const c of record.route.candidates) {
      if (c.eligible)
        expect(c.scores).toMatchObject({ quality: expect.any(Number), total: expect.any(Number) });
      else expect(c.reason).toEqual(expect.any(String));
    }
    // The embedding model cannot chat: excluded, with the reason.
    expect(record.route.candidates.find((c: any) => c.model === 'embed-model')).toMatchObject({
      eligible: false,
      reason: expect.any(String),
    });
  });
});

describe('fan-outs', () => {
  it('a consensus records its panel: candidates, groups, agreement, selection — answers only as metadata', async () => {
    const r = await post(
      url,
      '/v1/consensus',
      {
        strategy: 'consensus',
        models: ['demo-fast', 'demo-smart', 'demo-mini'],
        judge: 'demo-smart',
        messages: [{ role: 'user', content: `What is 17 + 26? ${SECRET_PROMPT}` }],
      },
      RESEARCH,
    );
    expect(r.status).toBe(200);
    const record = await recordOf(url, r.id);
    const q = r.json.quorum;
    expect(record.surface).toBe('consensus');
    expect(record.models.sort()).toEqual(r.headers.get('x-quorum-model')!.split(',').sort());
    expect(record.panel).toMatchObject({
      strategy: 'consensus',
      agreement: q.agreement,
      selected: q.selected,
    });
    // Which candidates agreed — but not the (normalised) answer text each group holds.
    expect(q.groups.length).toBeGreaterThan(0);
    expect(record.panel.groups).toEqual(q.groups.map((g: any) => ({ members: g.members })));
    expect(record.panel.candidates).toHaveLength(3);
    record.panel.candidates.forEach((c: any, i: number) => {
      expect(c).toMatchObject({
        model: q.candidates[i].model,
        cost_usd: q.candidates[i].cost_usd,
        latency_ms: q.candidates[i].latency_ms,
      });
      // The candidates' answers are text: kept only with content logging on.
      expect(c.content).toBeUndefined();
    });
    expect(record.attempts).toHaveLength(3);
    expect(record.cost_usd).toBe(q.cost_usd);
  });

  it('a best-of-n records the judge and its rationale', async () => {
    const r = await post(
      url,
      '/v1/consensus',
      {
        strategy: 'best_of_n',
        models: ['demo-fast', 'demo-mini'],
        judge: 'demo-smart',
        messages: [{ role: 'user', content: `Name a colour of the sky. ${SECRET_PROMPT}` }],
      },
      RESEARCH,
    );
    expect(r.status).toBe(200);
    const { panel } = await recordOf(url, r.id);
    expect(panel.strategy).toBe('best_of_n');
    expect(panel.judge).toEqual(r.json.quorum.judge);
    expect(panel.judge).toMatchObject({ model: 'demo-smart', rationale: expect.any(String) });
    expect(panel.candidates.map((c: any) => c.score)).toEqual(
      r.json.quorum.candidates.map((c: any) => c.score),
    );
  });

  it('a fusion records its judge and candidates; the analysis, which quotes them, is content', async () => {
    const r = await post(
      url,
      '/v1/consensus',
      {
        strategy: 'fusion',
        models: [{ model: 'demo-fast', temperatures: [0.3, 0.8] }, 'demo-mini'],
        judge: 'demo-smart',
        messages: [{ role: 'user', content: `Describe the sky. ${SECRET_PROMPT}` }],
      },
      RESEARCH,
    );
    expect(r.status).toBe(200);
    expect(JSON.stringify(r.json.quorum.analysis)).toContain(SECRET_PROMPT);
    const { panel } = await recordOf(url, r.id);
    expect(panel.strategy).toBe('fusion');
    expect(panel.judge).toEqual(r.json.quorum.judge);
    expect(panel.candidates.map((c: any) => c.temperature)).toEqual([0.3, 0.8, undefined, undefined]);
    expect(panel.analysis).toBeUndefined();
  });

  it('a preset named as the model is a fan-out too', async () => {
    const r = await post(url, '/v1/chat/completions', chat('What is 2+2?', { model: 'panel' }), OPS);
    const record = await recordOf(url, r.id);
    expect(record).toMatchObject({ model: 'panel', surface: 'chat.completions' });
    expect(record.panel.strategy).toBe('consensus');
  });
});

describe('failures', () => {
  it('a chain that fails records each attempt and the error the client got', async () => {
    const r = await post(
      url,
      '/v1/chat/completions',
      chat(`${FAIL} please`, { model: 'oa-model', quorum: { fallbacks: [] } }),
      RESEARCH,
    );
    expect(r.status).toBe(502);
    const record = await recordOf(url, r.id);
    expect(record).toMatchObject({
      status: 502,
      error: { code: 'upstream_failed', message: r.json.error.message },
      model: 'oa-model',
      models: [],
      attempts: [
        { model: 'oa-model', provider: 'oa', status: 500, error: expect.stringContaining('exploded') },
      ],
    });
  });

  it('a fallback records the failed try and the one that answered', async () => {
    const r = await post(
      url,
      '/v1/chat/completions',
      chat(`${FAIL} again`, { model: 'oa-model', quorum: { fallbacks: ['an-model'] } }),
      RESEARCH,
    );
    expect(r.status).toBe(200);
    const record = await recordOf(url, r.id);
    expect(record.models).toEqual(['an-model']);
    expect(record.attempts).toMatchObject([
      { model: 'oa-model', provider: 'oa', status: 500 },
      { model: 'an-model', provider: 'an', status: 200 },
    ]);
  });

  it('a refusal before any call (unknown model) is recorded with its code', async () => {
    const r = await post(url, '/v1/chat/completions', chat('hi', { model: 'no-such-model' }), RESEARCH);
    expect(r.status).toBe(404);
    expect(await recordOf(url, r.id)).toMatchObject({
      status: 404,
      model: 'no-such-model',
      error: { code: 'model_not_found' },
      attempts: [],
      cost_usd: 0,
    });
  });

  it('a body that fails validation is recorded as the 400 it got', async () => {
    const r = await post(url, '/v1/chat/completions', { model: 'demo-fast', messages: 'nope' }, RESEARCH);
    expect(r.status).toBe(400);
    expect(await recordOf(url, r.id)).toMatchObject({
      status: 400,
      error: { code: 'invalid_body' },
      model: null,
    });
  });

  it('an unauthenticated request leaves no record', async () => {
    const r = await post(url, '/v1/chat/completions', chat('hi'), 'sk-wrong');
    expect(r.status).toBe(401);
    expect(
      (await fetch(`${url}/v1/requests/${r.id}`, { headers: { authorization: `Bearer ${MASTER}` } })).status,
    ).toBe(404);
  });
});

describe('the other surfaces', () => {
  it('POST /v1/embeddings', async () => {
    const r = await post(url, '/v1/embeddings', { model: 'embed-model', input: ['a', 'b'] }, OPS);
    expect(r.status).toBe(200);
    expect(await recordOf(url, r.id)).toMatchObject({
      surface: 'embeddings',
      team: 'ops',
      model: 'embed-model',
      models: ['embed-model'],
      status: 200,
      usage: { input_tokens: r.json.usage.prompt_tokens, output_tokens: 0 },
      cost_usd: Number(r.headers.get('x-quorum-cost-usd')),
      cache: 'miss',
    });
  });

  it('POST /v1/responses', async () => {
    const r = await post(url, '/v1/responses', { model: 'demo-fast', input: 'Say hi.' }, OPS);
    expect(r.status).toBe(200);
    expect(await recordOf(url, r.id)).toMatchObject({
      surface: 'responses',
      model: 'demo-fast',
      models: ['demo-fast'],
      status: 200,
      overhead_ms: Number(r.headers.get('x-quorum-overhead-ms')),
      usage: { input_tokens: r.json.usage.input_tokens, output_tokens: r.json.usage.output_tokens },
    });
  });

  it('POST /v1/messages, translated (a demo model) and passed through (an Anthropic model), streamed too', async () => {
    const body = (model: string, stream = false) => ({
      model,
      max_tokens: 100,
      stream,
      messages: [{ role: 'user', content: 'Hello there' }],
    });
    const translated = await post(url, '/v1/messages', body('demo-fast'), OPS);
    const raw = await post(url, '/v1/messages', body('an-model'), OPS);
    const rawStream = await post(url, '/v1/messages', body('an-model', true), OPS);
    for (const r of [translated, raw, rawStream]) expect(r.status).toBe(200);
    expect(await recordOf(url, translated.id)).toMatchObject({
      surface: 'messages',
      path: '/v1/messages',
      models: ['demo-fast'],
      overhead_ms: Number(translated.headers.get('x-quorum-overhead-ms')),
    });
    expect(await recordOf(url, raw.id)).toMatchObject({
      surface: 'messages',
      model: 'an-model',
      models: ['an-model'],
      attempts: [{ model: 'an-model', provider: 'an', status: 200 }],
      usage: { input_tokens: raw.json.usage.input_tokens, output_tokens: raw.json.usage.output_tokens },
      overhead_ms: Number(raw.headers.get('x-quorum-overhead-ms')),
    });
    const streamed = await recordOf(url, rawStream.id);
    expect(streamed).toMatchObject({ stream: true, status: 200, models: ['an-model'] });
    expect(streamed.usage.output_tokens).toBeGreaterThan(0);
  });

  it('POST /v1/messages/count_tokens', async () => {
    const r = await post(
      url,
      '/v1/messages/count_tokens',
      { model: 'demo-fast', messages: [{ role: 'user', content: 'count me' }] },
      OPS,
    );
    expect(r.status).toBe(200);
    expect(await recordOf(url, r.id)).toMatchObject({
      surface: 'messages.count_tokens',
      model: 'demo-fast',
      cost_usd: 0,
    });
  });

  it("POST /v1/reviews records the verdict and every review's score (their words are content)", async () => {
    const r = await post(
      url,
      '/v1/reviews',
      {
        artifact: 'def add(a, b): return a - b',
        instructions: 'Review this function.',
        reviewers: ['demo-fast', 'demo-mini'],
      },
      OPS,
    );
    expect(r.status).toBe(200);
    const record = await recordOf(url, r.id);
    expect(record).toMatchObject({
      surface: 'reviews',
      model: null,
      cost_usd: r.json.quorum.cost_usd,
      review: {
        verdict: r.json.verdict,
        score: r.json.score,
        rounds: r.json.rounds,
        reviews: r.json.reviews.map(({ issues: _issues, ...rest }: any) => rest),
      },
    });
    expect(record.models.sort()).toEqual(r.headers.get('x-quorum-model')!.split(',').sort());
    expect(record.attempts.length).toBeGreaterThanOrEqual(2);
  });
});

describe('without content logging', () => {
  it('no prompt or answer text is stored anywhere in the log', async () => {
    await t.gw.booted.requestLog!.flush();
    const rows = await t.store.db.selectFrom('request_log').selectAll().execute();
    expect(rows.length).toBeGreaterThan(10);
    const all = JSON.stringify(rows);
    expect(all).not.toContain(SECRET_PROMPT);
    // The demo's answers ("The answer is 43.") and the review's artifact are not there either.
    expect(all).not.toContain('The answer is');
    expect(all).not.toContain('return a - b');
    expect(all).not.toContain('Add a concrete example'); // a demo reviewer's issue
    expect(rows.every((row) => row.content === null)).toBe(true);
  });
});
