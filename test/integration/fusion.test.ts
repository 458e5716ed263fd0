/**
 * Fusion and self-ensembles through the real gateway, over the fake upstreams (real SDKs): a preset
 * whose candidates hold complementary facts returns the analysis and a final answer holding facts from
 * each; streaming; `quorum.ensemble`, POST /v1/consensus and a workflow step; degraded and strict
 * answers; self-ensemble samples reaching the upstreams at their temperatures; and the budget hold
 * covering every call fusion may make.
 */
import type { APIError } from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { maxPromptTokens, maxTextTokens } from '../../routing/tokens.ts';
import type { FakeReply, ReceivedRequest } from '../fakes/harness.ts';
import { type Fakes, startFakes, startGateway, type TestGateway, tempStore } from './helpers/gateway.ts';

let fakes: Fakes;
let gw: TestGateway;

const model = (id: string, provider: string, upstream: string, price = { input: 1, output: 2 }) => ({
  id,
  provider,
  upstream,
  context_window: 100_000,
  max_output_tokens: 4_000,
  price,
  capabilities: ['json', 'streaming'],
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
      model('writer', 'oa', 'writer-up'),
    ],
    ensembles: {
      fused: { strategy: 'fusion', models: ['m-oa', 'm-an', 'm-ge'], judge: 'judge', synthesizer: 'writer' },
    },
    ...extra,
  };
}

/** The fenced blocks of a prompt, label → text. */
function blocks(text: string): [string, string][] {
  return [...text.matchAll(/<<<BEGIN (\S+) (\S+)>>>\n([\s\S]*?)\n<<<END \1 \2>>>/g)].map((m) => [
    m[2]!,
    m[3]!,
  ]);
}

const textOf = (req: ReceivedRequest, role: string) =>
  (req.body.messages as { role: string; content: string }[])
    .filter((m) => m.role === role)
    .map((m) => m.content)
    .join('\n');

/**
 * A careful analyst: the sentence every response shares is an agreement, one some share is partly
 * covered, one only one response has is that response's unique insight (by the label it was shown).
 */
function analyst(req: ReceivedRequest): FakeReply {
  const shown = blocks(textOf(req, 'user')).filter(([l]) => l !== 'REQUEST');
  const sentencesOf = (t: string) => t.split(/(?<=\.)\s+/).filter(Boolean);
  const all = shown.flatMap(([, t]) => sentencesOf(t));
  const count = (s: string) => all.filter((x) => x === s).length;
  return {
    text: `Here is the analysis.\n\`\`\`json\n${JSON.stringify({
      agreements: [...new Set(all.filter((s) => count(s) === shown.length))].map((point) => ({
        point,
        candidates: shown.map(([l]) => l),
      })),
      contradictions: [],
      partial_coverage: [...new Set(all.filter((s) => count(s) > 1 && count(s) < shown.length))].map(
        (point) => ({
          point,
          candidates: shown.filter(([, t]) => sentencesOf(t).includes(point)).map(([l]) => l),
        }),
      ),
      unique_insights: shown.flatMap(([l, t]) =>
        sentencesOf(t)
          .filter((s) => count(s) === 1)
          .map((insight) => ({ candidate: l, insight })),
      ),
      gaps: ['None says how Mercury was first observed.'],
    })}\n\`\`\``,
  };
}

/** A synthesizer that writes its answer from the analysis it was given: every item, in order. */
function synthesizer(req: ReceivedRequest): FakeReply {
  const analysis = blocks(textOf(req, 'system')).find(([l]) => l === 'ANALYSIS')?.[1] ?? '';
  const items = analysis
    .split('\n')
    .filter((line) => line.startsWith('- '))
    .map((line) => line.replace(/^- (?:\[[A-Z, ]+\] )?/, ''));
  return { text: `About Mercury: ${items.join(' ')}`, chunkDelayMs: 2 };
}

const FACTS = {
  'gpt-up': 'Mercury orbits the Sun in 88 days.',
  'claude-up': 'A day on Mercury lasts 176 Earth days.',
  'gemini-up': 'Mercury has no moons.',
};
const SHARED = 'Mercury is the planet closest to the Sun.';

/** Candidates hold one shared sentence and one fact each; judge-up analyses, writer-up writes. */
function script(overrides: { analyst?: (r: ReceivedRequest) => FakeReply } = {}) {
  fakes.openai.respond((req) => {
    if (req.body.model === 'judge-up') return (overrides.analyst ?? analyst)(req);
    if (req.body.model === 'writer-up') return synthesizer(req);
    return { text: `${SHARED} ${FACTS['gpt-up']}` };
  });
  fakes.anthropic.respond({ text: `${SHARED} ${FACTS['claude-up']}` });
  fakes.gemini.respond({ text: `${SHARED} ${FACTS['gemini-up']}` });
}

const ask = [{ role: 'user' as const, content: 'Tell me about Mercury.' }];
const calls = (upstream: string) => fakes.openai.received.filter((r) => r.body.model === upstream);

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

describe('a fusion preset over the fakes', () => {
  it('returns the analysis and a final answer holding every candidate’s fact', async () => {
    script();
    const { data, response } = await gw
      .client()
      .chat.completions.create({ model: 'fused', messages: ask })
      .withResponse();
    const answer = data.choices[0]!.message.content!;
    for (const fact of [...Object.values(FACTS), SHARED]) expect(answer).toContain(fact);
    expect(data.model).toBe('writer');
    const q = (data as any).quorum;
    expect(q.strategy).toBe('fusion');
    expect(q.candidates.map((c: any) => [c.model, c.role])).toEqual([
      ['m-oa', undefined],
      ['m-an', undefined],
      ['m-ge', undefined],
      ['writer', 'aggregator'],
    ]);
    expect(q.selected).toEqual({ index: 3, model: 'writer' });
    // The analysis names candidates by their index in `candidates`, whatever order the analyst saw.
    expect(q.analysis.agreements).toEqual([{ point: SHARED, candidates: [0, 1, 2] }]);
    expect(q.analysis.unique_insights).toEqual(
      expect.arrayContaining([
        { candidate: 0, insight: FACTS['gpt-up'] },
        { candidate: 1, insight: FACTS['claude-up'] },
        { candidate: 2, insight: FACTS['gemini-up'] },
      ]),
    );
    expect(q.analysis.gaps).toEqual(['None says how Mercury was first observed.']);
    expect(q.judge).toMatchObject({ model: 'judge', rationale: expect.stringMatching(/3 unique insights/) });
    expect(q.degraded).toBeUndefined();
    // Usage and cost sum all five calls.
    expect(response.headers.get('x-quorum-model')!.split(',').sort()).toEqual(
      ['judge', 'm-an', 'm-ge', 'm-oa', 'writer'].sort(),
    );
    const upstreamCalls =
      fakes.openai.received.length + fakes.anthropic.received.length + fakes.gemini.received.length;
    expect(upstreamCalls).toBe(5);
    // The analyst never saw a model name; the synthesizer got the user's own message after its instructions.
    expect(JSON.stringify(calls('judge-up')[0]!.body)).not.toMatch(
      /m-oa|m-an|m-ge|gpt-up|claude-up|gemini-up/,
    );
    expect(calls('writer-up')[0]!.body.messages.at(-1)).toEqual(ask[0]);
  });

  it('streams the final answer as the synthesizer writes it; the last chunk carries usage and the record', async () => {
    script();
    const stream = await gw.client().chat.completions.create({
      model: 'fused',
      messages: ask,
      stream: true,
      stream_options: { include_usage: true },
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
    for (const fact of Object.values(FACTS)) expect(text).toContain(fact);
    expect(deltas).toBeGreaterThan(3);
    expect(calls('writer-up')[0]!.stream).toBe(true);
    expect(last.model).toBe('writer');
    expect(last.usage.total_tokens).toBeGreaterThan(0);
    expect(last.quorum).toMatchObject({ strategy: 'fusion', selected: { index: 3, model: 'writer' } });
    expect(last.quorum.analysis.unique_insights).toHaveLength(3);
    expect(last.quorum.candidates[3].content).toBe(text);
  });

  it('an unreadable analysis: the answer is written from the candidates alone and says judge_failed', async () => {
    script({ analyst: () => ({ text: 'I cannot help with that.' }) });
    const res = await gw.client().chat.completions.create({ model: 'fused', messages: ask });
    const q = (res as any).quorum;
    expect(q.degraded).toEqual(['judge_failed']);
    expect(q.analysis).toBeUndefined();
    expect(q.judge.rationale).toMatch(/unreadable analysis/);
    // No ANALYSIS block reached the synthesizer, so it had no items to write from.
    expect(res.choices[0]!.message.content).toBe('About Mercury: ');
  });

  it('a failed synthesizer: the candidates’ vote stands, marked aggregator_failed', async () => {
    script();
    fakes.openai.respond((req) => {
      if (req.body.model === 'judge-up') return analyst(req);
      if (req.body.model === 'writer-up') return { error: { status: 500, message: 'writer down' } };
      return { text: `${SHARED} ${FACTS['gpt-up']}` };
    });
    for (const stream of [false, true]) {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'fused', messages: ask, stream }),
      });
      expect(res.status).toBe(200);
      const text = await res.text();
      const record = stream
        ? JSON.parse(
            text
              .split('\n')
              .filter((l) => l.startsWith('data: {'))
              .at(-1)!
              .slice(6),
          ).quorum
        : JSON.parse(text).quorum;
      expect(record.degraded).toEqual(['aggregator_failed']);
      expect(record.selected).toEqual({ index: 0, model: 'm-oa' });
      expect(record.analysis.unique_insights).toHaveLength(3);
    }
  });

  it.each([false, true])(
    'strict (stream %s): a degraded fusion is a 502, refused before the synthesizer is paid for',
    async (stream) => {
      script({ analyst: () => ({ text: 'no' }) });
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'fused', messages: ask, stream, quorum: { strict: true } }),
      });
      expect(res.status).toBe(502);
      const body = (await res.json()) as any;
      expect(body.error).toMatchObject({ type: 'upstream_error', code: 'upstream_failed' });
      expect(body.error.message).toMatch(/fusion fan-out answered without what it needed \(judge_failed\)/);
      expect(calls('writer-up')).toHaveLength(0);
    },
  );
});

describe('fusion on every surface', () => {
  it('quorum.ensemble, with the judge writing the answer when no synthesizer is named', async () => {
    script();
    fakes.openai.respond((req) => {
      const system = textOf(req, 'system');
      if (req.body.model === 'judge-up')
        return /impartial analyst/.test(system) ? analyst(req) : synthesizer(req);
      return { text: `${SHARED} ${FACTS['gpt-up']}` };
    });
    const res = await gw.client().chat.completions.create({
      model: 'm-oa',
      messages: ask,
      // @ts-expect-error Quorum's extension field
      quorum: { ensemble: { strategy: 'fusion', models: ['m-oa', 'm-ge'], judge: 'judge' } },
    });
    expect(res.model).toBe('judge');
    expect(res.choices[0]!.message.content).toContain(FACTS['gemini-up']);
    expect(calls('judge-up')).toHaveLength(2);
  });

  it('POST /v1/consensus', async () => {
    script();
    const res = await fetch(`${gw.url}/v1/consensus`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        strategy: 'fusion',
        models: ['m-an', 'm-ge'],
        judge: 'judge',
        synthesizer: 'writer',
        messages: ask,
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.choices[0].message.content).toContain(FACTS['claude-up']);
    expect(body.quorum.analysis.unique_insights.map((u: any) => u.candidate).sort()).toEqual([0, 1]);
  });

  it.each([
    [{ strategy: 'fusion', models: ['m-oa'] }, 400, 'judge'],
    [{ strategy: 'consensus', models: ['m-oa'], synthesizer: 'writer' }, 400, 'synthesizer'],
    [{ strategy: 'fusion', models: ['m-oa'], judge: 'judge', synthesizer: 'nope' }, 404, 'synthesizer'],
    [{ strategy: 'fusion', models: [{ model: 'nope', samples: 2 }], judge: 'judge' }, 404, 'models[0].model'],
  ])('a bad fusion body %# is a clear %s naming %s, before any call', async (fan, status, param) => {
    const res = await fetch(`${gw.url}/v1/consensus`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...fan, messages: ask }),
    });
    expect(res.status).toBe(status);
    expect(((await res.json()) as any).error.param).toBe(param);
    expect(fakes.openai.received).toHaveLength(0);
  });

  it('the synthesizer is checked against the team’s allow-list like any model the client names', async () => {
    await gw.close();
    gw = await startGateway(
      config(fakes, {
        teams: [{ id: 't', models: ['m-oa', 'm-ge', 'judge', 'fused'] }],
        keys: [{ key: 'qk-fusion-team-0001', team: 't' }],
      }),
    );
    const err = (await gw
      .client('qk-fusion-team-0001')
      .chat.completions.create({
        model: 'm-oa',
        messages: ask,
        // @ts-expect-error Quorum's extension field
        quorum: {
          ensemble: { strategy: 'fusion', models: ['m-oa', 'm-ge'], judge: 'judge', synthesizer: 'writer' },
        },
      })
      .catch((e) => e)) as APIError;
    expect(err.status).toBe(403);
    expect((err.error as any).param).toBe('quorum.ensemble.synthesizer');
    expect(fakes.openai.received).toHaveLength(0);
    // The preset's own synthesizer comes with the preset.
    script();
    const ok = await gw
      .client('qk-fusion-team-0001')
      .chat.completions.create({ model: 'fused', messages: ask });
    expect(ok.model).toBe('writer');
  });

  it('a workflow ensemble step with strategy fusion', async () => {
    script();
    const { store, close } = await tempStore('quorum-fusion-wf-');
    await gw.close();
    gw = await startGateway(config(fakes), { store, workflows: true });
    try {
      const headers = { 'content-type': 'application/json' };
      const made = await fetch(`${gw.url}/v1/workflows`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          name: 'fused-facts',
          steps: {
            facts: {
              type: 'ensemble',
              strategy: 'fusion',
              models: ['m-oa', 'm-an', { model: 'm-ge', samples: 2, temperatures: [0.3, 0.9] }],
              judge: 'judge',
              synthesizer: 'writer',
              prompt: 'Tell me about Mercury.',
            },
          },
          outputs: { facts: '{{ steps.facts.output }}' },
        }),
      });
      expect(made.status).toBe(201);
      const { id } = (await made.json()) as any;
      const run = await fetch(`${gw.url}/v1/workflows/${id}/runs?wait=true`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ inputs: {} }),
      });
      const record = (await run.json()) as any;
      expect(record.status).toBe('succeeded');
      for (const fact of Object.values(FACTS)) expect(record.outputs.facts).toContain(fact);
      expect(fakes.gemini.received.map((r) => r.body.generationConfig?.temperature)).toEqual([0.3, 0.9]);
      expect(calls('judge-up')).toHaveLength(1);
    } finally {
      await gw.close();
      await close();
      gw = await startGateway(config(fakes));
    }
  });

  it('a workflow step whose samples and temperatures disagree is refused when stored', async () => {
    const { store, close } = await tempStore('quorum-fusion-wf-bad-');
    await gw.close();
    gw = await startGateway(config(fakes), { store, workflows: true });
    try {
      const made = await fetch(`${gw.url}/v1/workflows`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'bad-samples',
          steps: {
            s: {
              type: 'ensemble',
              models: [{ model: 'm-oa', samples: 2 }],
              temperatures: [0.1, 0.5, 0.9],
              prompt: 'x',
            },
          },
        }),
      });
      expect(made.status).toBe(400);
      const body = (await made.json()) as any;
      expect(body.error.code).toBe('invalid_workflow');
      expect(body.error.message).toContain('steps.s.models[0].samples');
    } finally {
      await gw.close();
      await close();
      gw = await startGateway(config(fakes));
    }
  });
});

describe('self-ensembles', () => {
  it('each sample reaches its upstream at its temperature, and the record says which', async () => {
    fakes.openai.respond((req) => ({ text: req.body.temperature >= 1 ? '41' : '42' }));
    fakes.gemini.respond({ text: '42' });
    const res = await gw.client().chat.completions.create({
      model: 'm-oa',
      messages: [{ role: 'user', content: 'What is 6 * 7?' }],
      temperature: 0.5,
      // @ts-expect-error Quorum's extension field
      quorum: {
        ensemble: {
          strategy: 'consensus',
          models: [
            { model: 'm-oa', temperatures: [0.2, 0.7, 1.0] },
            { model: 'm-ge', samples: 2 },
          ],
        },
      },
    });
    expect(fakes.openai.received.map((r) => r.body.temperature).sort()).toEqual([0.2, 0.7, 1.0]);
    // Samples without a temperature of their own are asked at the request's.
    expect(fakes.gemini.received.map((r) => r.body.generationConfig?.temperature)).toEqual([0.5, 0.5]);
    const q = (res as any).quorum;
    expect(q.candidates.map((c: any) => [c.model, c.temperature, c.content])).toEqual([
      ['m-oa', 0.2, '42'],
      ['m-oa', 0.7, '42'],
      ['m-oa', 1.0, '41'],
      ['m-ge', undefined, '42'],
      ['m-ge', undefined, '42'],
    ]);
    expect(q.agreement).toBeCloseTo(4 / 5);
    expect(res.choices[0]!.message.content).toBe('42');
  });

  it('a preset with samples and temperatures for every member', async () => {
    await gw.close();
    gw = await startGateway(
      config(fakes, {
        ensembles: {
          self: { strategy: 'consensus', models: ['m-oa'], temperatures: [0, 0.6, 1.2] },
        },
      }),
    );
    fakes.openai.respond({ text: '42' });
    const res = await gw.client().chat.completions.create({ model: 'self', messages: ask });
    expect(fakes.openai.received.map((r) => r.body.temperature).sort()).toEqual([0, 0.6, 1.2]);
    expect((res as any).quorum.candidates).toHaveLength(3);
  });

  it('review: the author drafts at its temperature and each reviewer sample reviews at its own', async () => {
    fakes.openai.respond({ text: 'A draft.' });
    fakes.gemini.respond({ text: '{"verdict": "accept", "score": 9, "issues": []}' });
    const res = await fetch(`${gw.url}/v1/consensus`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        strategy: 'review',
        models: [
          { model: 'm-oa', temperature: 0.4 },
          { model: 'm-ge', temperatures: [0.1, 0.8] },
        ],
        messages: ask,
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(fakes.openai.received[0]!.body.temperature).toBe(0.4);
    expect(fakes.gemini.received.map((r) => r.body.generationConfig?.temperature).sort()).toEqual([0.1, 0.8]);
    expect(body.quorum.candidates[0].temperature).toBe(0.4);
    expect(body.quorum.review.reviews.map((r: any) => r.temperature).sort()).toEqual([0.1, 0.8]);
  });

  it.each([
    [{ models: [{ model: 'm-oa', samples: 2, temperatures: [0.1, 0.2, 0.3] }] }, 'models[0].temperatures'],
    [{ models: ['m-oa'], samples: 2, temperatures: [0.1, 0.2, 0.3] }, 'temperatures'],
    [{ models: [{ model: 'm-oa', samples: 3 }], temperatures: [0.1, 0.2] }, 'models[0].samples'],
    [{ models: [{ model: 'm-oa', samples: 99 }] }, 'models[0]'],
  ])('a self-ensemble that cannot be read %# is a 400 naming %s, before any call', async (fan, param) => {
    const res = await fetch(`${gw.url}/v1/consensus`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ strategy: 'consensus', ...fan, messages: ask }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.param).toMatch(
      new RegExp(`^${param.replace(/[[\].]/g, '\\$&')}`),
    );
    expect(fakes.openai.received).toHaveLength(0);
  });
});

describe('the budget hold covers every call fusion may make', () => {
  const KEY = 'qk-fusion-budget-01';
  const MAX = 60;
  const priced = (f: Fakes, limitUsd: number) =>
    config(f, {
      models: [
        model('m-oa', 'oa', 'gpt-up', { input: 3, output: 15 }),
        model('m-ge', 'ge', 'gemini-up', { input: 1, output: 4 }),
        model('judge', 'oa', 'judge-up', { input: 5, output: 25 }),
        model('writer', 'oa', 'writer-up', { input: 2, output: 10 }),
      ],
      ensembles: {
        fused: {
          strategy: 'fusion',
          models: ['m-oa', 'm-ge', 'm-ge'],
          judge: 'judge',
          synthesizer: 'writer',
        },
      },
      teams: [{ id: 'lab', budget: { limit_usd: limitUsd, period: 'total' } }],
      keys: [{ key: KEY, team: 'lab', name: 'ci' }],
    });
  const PRICES: Record<string, { input: number; output: number }> = {
    'gpt-up': { input: 3, output: 15 },
    'gemini-up': { input: 1, output: 4 },
    'judge-up': { input: 5, output: 25 },
    'writer-up': { input: 2, output: 10 },
  };

  /** Words until the upper-bound token estimate reaches `tokens`: text as long as its limit allows. */
  const fill = (tokens: number, word = 'mercury') => {
    let text = '';
    while (maxTextTokens(`${text} ${word}`) <= tokens) text += ` ${word}`;
    return text.trim();
  };
  /** An analysis as long as the analyst may write, in items the parser keeps whole. */
  const longAnalysis = () => {
    const items: { point: string; candidates: string[] }[] = [];
    const json = () => JSON.stringify({ agreements: items, gaps: [] });
    while (maxTextTokens(json()) < 2048 - 200) items.push({ point: fill(120), candidates: ['A', 'B', 'C'] });
    return json();
  };

  /**
   * Every call answers as much as it may: output at its limit, and the prompt billed at the gateway's
   * own upper-bound count of what it was sent (no real tokenizer bills more).
   */
  function worstCase(): { spent: () => number } {
    let spent = 0;
    const bill = (req: ReceivedRequest, upstream: string, text: string, output: number): FakeReply => {
      const messages = req.body.messages ?? [
        ...(req.body.systemInstruction
          ? [{ role: 'system', content: JSON.stringify(req.body.systemInstruction) }]
          : []),
        ...req.body.contents.map((c: any) => ({
          role: 'user',
          content: c.parts.map((p: any) => p.text).join(''),
        })),
      ];
      const input = maxPromptTokens(messages);
      spent += (input * PRICES[upstream]!.input + output * PRICES[upstream]!.output) / 1e6;
      return { text, usage: { input, output } };
    };
    const candidate = fill(MAX);
    fakes.openai.respond((req) => {
      if (req.body.model === 'judge-up') {
        const text = longAnalysis();
        return bill(req, 'judge-up', text, maxTextTokens(text));
      }
      if (req.body.model === 'writer-up')
        return { ...bill(req, 'writer-up', fill(MAX), MAX), latencyMs: 150 };
      return bill(req, 'gpt-up', candidate, MAX);
    });
    fakes.gemini.respond((req) => bill(req, 'gemini-up', candidate, MAX));
    return { spent: () => spent };
  }

  const post = (g: TestGateway) =>
    fetch(`${g.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ model: 'fused', max_tokens: MAX, messages: ask }),
    });
  const reserved = async (g: TestGateway) =>
    (
      (await (
        await fetch(`${g.url}/v1/budget`, { headers: { authorization: `Bearer ${KEY}` } })
      ).json()) as any
    ).reserved_usd as number;

  it('with every call at its maximum, the hold is not exceeded and the whole cost is charged', async () => {
    await gw.close();
    gw = await startGateway(priced(fakes, 100));
    const billed = worstCase();
    const pending = post(gw);
    // The hold, read while the synthesizer is still writing.
    let hold = 0;
    while (!hold) hold = await reserved(gw);
    const res = await pending;
    expect(res.status).toBe(200);
    const charged = Number(res.headers.get('x-quorum-cost-usd'));
    // Charged in full (a hold too small would have capped it), and within the hold.
    expect(charged).toBeCloseTo(billed.spent(), 9);
    expect(charged).toBeLessThanOrEqual(hold);
    expect(gw.logs()).not.toContain('exceeds the request hold');
    expect(calls('writer-up')).toHaveLength(1);
    expect(calls('judge-up')[0]!.body.max_tokens).toBe(2048);

    // The hold is what admission checks: a budget a hair below it refuses before any call.
    await gw.close();
    for (const f of [fakes.openai, fakes.anthropic, fakes.gemini]) f.reset();
    gw = await startGateway(priced(fakes, hold - 1e-6));
    const refused = await post(gw);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as any).error.code).toBe('budget_exceeded');
    expect(fakes.openai.received.length + fakes.gemini.received.length).toBe(0);
  });
});
