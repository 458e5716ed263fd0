/**
 * A fan-out the models cannot answer is the models' failure, never the gateway's: every strategy
 * (consensus with and without a majority, best_of_n, ensemble with layers and streamed, review through
 * chat completions, POST /v1/consensus and POST /v1/reviews, workflow ensemble and review steps) answers
 * 502 upstream_failed naming each attempt — or 504 upstream_timeout once the deadline passed — when
 * candidates, reviewers or the author fail as HTTP errors, timeouts or unreadable replies. A 500 would
 * make the OpenAI SDK retry, paying for the whole fan-out again. A judge, aggregator, reviewer or
 * revision that fails while an answer exists is a 200 saying `degraded`. And every cost in the answers,
 * in /admin/spend and in a workflow run has at most 9 decimals and adds up exactly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/index.ts';
import { Engine } from '../../src/workflows/engine/index.ts';
import { EventHub } from '../../src/workflows/event-hub.ts';
import { createGatewayRunner, storeCallerResolver } from '../../src/workflows/gateway-runner.ts';
import type { FakeReply, FakeServer, ReceivedRequest } from '../fakes/harness.ts';
import { startFakeOpenAI } from '../fakes/openai.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

const KEY = 'qk-fanout-failures-0001';
const MASTER = 'mk-fanout-failures-master';
/** Every call is 341 prompt + 97 output tokens at $0.1/$0.4 per million: $0.0000729, which floats get wrong. */
const USAGE = { input: 341, output: 97 };
const CALL_NANOS = 72_900;
/** Model `c` is priced at $0.0375/$0.15: 27,337.5 nano-dollars a call, charged as 27,338. */
const C_PRICE = { input: 0.0375, output: 0.15 };
const C_NANOS = 27_338;

/** Models by role; each scenario scripts its upstream by name (the upstream name is the model id). */
const FAST = ['a', 'b', 'c', 'judge', 'agg', 'author', 'r1', 'r2'];
/** On a provider whose calls time out after 300 ms. */
const SLOW = ['slow-a', 'slow-b', 'slow-judge', 'slow-r1', 'slow-r2'];

let upstream: FakeServer;
let gw: TestGateway;
let client: OpenAI;
let store: Store;
let dir: string;
/** What each upstream model answers; unscripted models answer `<model> answer`. */
let script: Record<string, FakeReply | ((req: ReceivedRequest) => FakeReply)> = {};
/** The circuit breakers' clock: each test starts an hour later, so no breaker opened by a failing
 * model in one scenario skips it in the next. */
let clock = Date.now();

const ERR_500: FakeReply = {
  error: { status: 500, message: 'internal upstream error', type: 'server_error' },
};
const ERR_503: FakeReply = { error: { status: 503, message: 'overloaded', type: 'server_error' } };
/** A 200 whose text no judge or reviewer parser can read. */
const GARBAGE: FakeReply = { text: 'Honestly they are all lovely, hard to say!' };
/** A 200 whose body is not a chat completion at all. */
const BROKEN: FakeReply = { raw: '<html>502 Bad Gateway</html>' };
const HANG: FakeReply = { hang: true };
const REVIEW_OK = (verdict: string, score: number, ...issues: string[]): FakeReply => ({
  text: JSON.stringify({ verdict, score, issues }),
});

const model = (id: string, provider: string) => ({
  id,
  provider,
  upstream: id,
  context_window: 100_000,
  max_output_tokens: 1_000,
  price: id === 'c' ? C_PRICE : { input: 0.1, output: 0.4 },
  capabilities: ['streaming'],
});

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  upstream.respond((req) => {
    const name = String(req.body?.model ?? '');
    const entry = script[name];
    const reply = typeof entry === 'function' ? entry(req) : entry;
    return { usage: USAGE, text: `${name} answer`, ...reply };
  });
  dir = mkdtempSync(join(tmpdir(), 'quorum-fanout-failures-'));
  store = await openStore(`sqlite:${join(dir, 'q.db')}`);
  const provider = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    type: 'openai',
    base_url: `${upstream.url}/v1`,
    api_key: 'sk-upstream-not-a-secret',
    max_retries: 0,
    ...extra,
  });
  gw = await startGateway(
    {
      providers: [provider('fast'), provider('slow', { timeout_ms: 300 })],
      models: [...FAST.map((m) => model(m, 'fast')), ...SLOW.map((m) => model(m, 'slow'))],
      // Candidates that never answer on a provider without a short timeout: only the deadline ends them.
      ensembles: { 'deadline-panel': { strategy: 'consensus', models: ['a', 'b'], timeout_ms: 400 } },
      teams: [{ id: 'lab' }],
      keys: [{ key: KEY, team: 'lab', name: 'ci' }],
    },
    {
      masterKey: MASTER,
      gateway: { ledger: store.ledger, health: { now: () => clock } },
      app: (gateway) => {
        const hub = new EventHub();
        const runner = createGatewayRunner(gateway, storeCallerResolver(store, gateway.config));
        return { store, workflows: { engine: new Engine({ store, runner, onEvent: hub.publish }), hub } };
      },
    },
  );
  client = gw.client(KEY);
});

afterAll(async () => {
  await gw?.close();
  await upstream?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  script = {};
  clock += 3_600_000;
});

const ask = [{ role: 'user' as const, content: 'Name a good city for a weekend trip.' }];

/** A chat completion through the OpenAI SDK (no retries), fanned out as `ensemble` says. */
async function chat(ensemble: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return client.chat.completions.create({
    model: 'a',
    messages: ask,
    // @ts-expect-error the gateway's extension field, passed through by the SDK
    quorum: { ensemble, fallbacks: [], ...extra },
  }) as Promise<any>;
}

/** The API error a call ended in (the test fails if it answered). */
async function failure(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const outcome = await call.then(
    (answer) => ({ answer }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected an error, got ${JSON.stringify(outcome.answer)}`);
  expect(outcome.error).toBeInstanceOf(OpenAI.APIError);
  return outcome.error as InstanceType<typeof OpenAI.APIError>;
}

/** 502 upstream_failed (never 500) whose message names every model given. */
function expectUpstreamFailed(err: InstanceType<typeof OpenAI.APIError>, ...models: string[]) {
  expect(err.status).toBe(502);
  expect(err.error).toMatchObject({ type: 'upstream_error', code: 'upstream_failed' });
  for (const m of models) expect(err.message).toContain(m);
}

/** A usd amount is a whole number of nano-dollars, i.e. prints with at most 9 decimals. */
function expectNanoExact(usd: number) {
  expect(typeof usd).toBe('number');
  expect(usd).toBe(Math.round(usd * 1e9) / 1e9);
}
const nanos = (usd: number) => Math.round(usd * 1e9);

describe('consensus', () => {
  it('every candidate failing (500, 503, a timeout) is a 502 naming each', async () => {
    script = { a: ERR_500, b: ERR_503 };
    script['slow-a'] = HANG;
    const err = await failure(chat({ strategy: 'consensus', models: ['a', 'b', 'slow-a'] }));
    expectUpstreamFailed(err, 'candidate a', 'candidate b', 'candidate slow-a', '500', '503');
  });

  it('without a majority, a failing USC judge (unreadable, 500, timeout) degrades the answer', async () => {
    for (const [judge, reply] of [
      ['judge', GARBAGE],
      ['judge', ERR_500],
      ['slow-judge', HANG],
    ] as const) {
      script = { a: { text: 'Lisbon' }, b: { text: 'Kyoto' }, c: { text: 'Oaxaca' }, [judge]: reply };
      const res = await chat({ strategy: 'consensus', models: ['a', 'b', 'c'], judge });
      expect(res.quorum.degraded).toEqual(['judge_failed']);
      expect(res.quorum.judge.rationale).toMatch(/judge failed/);
      expect(res.choices[0].message.content).toBe('Lisbon');
    }
  });

  it('with "strict": true the same failed judge is a 502 saying so', async () => {
    script = { a: { text: 'Lisbon' }, b: { text: 'Kyoto' }, c: { text: 'Oaxaca' }, judge: GARBAGE };
    const err = await failure(
      chat({ strategy: 'consensus', models: ['a', 'b', 'c'], judge: 'judge' }, { strict: true }),
    );
    expectUpstreamFailed(err, 'judge_failed');
  });

  it('with a majority the judge is never asked, so its failure changes nothing', async () => {
    script = { a: { text: 'Lisbon' }, b: { text: 'Lisbon' }, c: { text: 'Kyoto' }, judge: ERR_500 };
    const res = await chat({ strategy: 'consensus', models: ['a', 'b', 'c'], judge: 'judge' });
    expect(res.choices[0].message.content).toBe('Lisbon');
    expect(res.quorum.degraded).toBeUndefined();
  });

  it('a quorum out of reach is a 502 naming the failures', async () => {
    script = { b: ERR_503, c: BROKEN };
    const err = await failure(chat({ strategy: 'consensus', models: ['a', 'b', 'c'], quorum: 2 }));
    expectUpstreamFailed(err, '2 needed', 'candidate b', 'candidate c');
  });

  it('the deadline passing is a 504 upstream_timeout naming the candidates', async () => {
    script = { a: HANG, b: HANG };
    const err = await failure(
      client.chat.completions.create({
        model: 'deadline-panel',
        messages: ask,
        // @ts-expect-error extension field
        quorum: { fallbacks: [] },
      }),
    );
    expect(err.status).toBe(504);
    expect(err.error).toMatchObject({ type: 'upstream_error', code: 'upstream_timeout' });
    expect(err.message).toMatch(/candidate a: .*candidate b: /);
  });
});

describe('best_of_n', () => {
  it('candidates that answer unreadable bodies or time out are a 502 naming each', async () => {
    script = { a: BROKEN, 'slow-b': HANG };
    const err = await failure(chat({ strategy: 'best_of_n', models: ['a', 'slow-b'], judge: 'judge' }));
    expectUpstreamFailed(err, 'candidate a', 'candidate slow-b');
  });

  it('an unreadable or failing judge degrades the answer', async () => {
    for (const reply of [GARBAGE, ERR_503]) {
      script = { judge: reply };
      const res = await chat({ strategy: 'best_of_n', models: ['a', 'b'], judge: 'judge' });
      expect(res.quorum.degraded).toEqual(['judge_failed']);
      expect(res.choices[0].message.content).toBe('a answer');
    }
  });
});

describe('ensemble', () => {
  it('a failing or unreadable aggregator leaves the proposers\u2019 vote, marked aggregator_failed', async () => {
    for (const reply of [ERR_503, BROKEN]) {
      script = { a: { text: 'Lisbon' }, b: { text: 'Kyoto' }, c: { text: 'Kyoto' }, agg: reply };
      const res = await chat({ strategy: 'ensemble', models: ['a', 'b', 'c'], judge: 'agg' });
      expect(res.choices[0].message.content).toBe('Kyoto');
      expect(res.model).toBe('b');
      expect(res.quorum.degraded).toEqual(['aggregator_failed']);
      expect(res.quorum.judge.rationale).toMatch(/aggregator failed/);
    }
  });

  it('a failed aggregator with "strict": true is a 502', async () => {
    script = { agg: ERR_500 };
    const err = await failure(
      chat({ strategy: 'ensemble', models: ['a', 'b'], judge: 'agg' }, { strict: true }),
    );
    expectUpstreamFailed(err, 'aggregator_failed');
  });

  it('no proposer answering is a 502 naming each', async () => {
    script = { a: ERR_500, b: GARBAGE, 'slow-a': HANG };
    script.b = BROKEN;
    const err = await failure(chat({ strategy: 'ensemble', models: ['a', 'b', 'slow-a'], judge: 'agg' }));
    expectUpstreamFailed(err, 'candidate a', 'candidate b', 'candidate slow-a');
  });

  it('layers: 2 — a failed second layer falls back to the first; a failed first layer is a 502', async () => {
    const second = (req: ReceivedRequest) => JSON.stringify(req.body.messages).includes('as references');
    script = { a: (req) => (second(req) ? ERR_503 : {}), b: (req) => (second(req) ? BROKEN : {}) };
    const res = await chat({ strategy: 'ensemble', models: ['a', 'b'], judge: 'agg', layers: 2 });
    expect(res.choices[0].message.content).toBe('agg answer');
    expect(res.quorum.candidates.map((c: any) => [c.layer, Boolean(c.error)])).toEqual([
      [1, false],
      [1, false],
      [2, true],
      [2, true],
      [undefined, false],
    ]);

    script = { a: ERR_503, b: ERR_500 };
    const err = await failure(chat({ strategy: 'ensemble', models: ['a', 'b'], judge: 'agg', layers: 2 }));
    expectUpstreamFailed(err, 'candidate a', 'candidate b');

    script = { agg: ERR_500 };
    const degraded = await chat({ strategy: 'ensemble', models: ['a', 'b'], judge: 'agg', layers: 2 });
    expect(degraded.quorum.degraded).toEqual(['aggregator_failed']);
  });

  it('stream: true — a failed aggregator streams the vote, its last chunk saying aggregator_failed', async () => {
    script = { a: { text: 'Lisbon' }, b: { text: 'Lisbon' }, agg: ERR_503 };
    const stream = await client.chat.completions.create({
      model: 'a',
      messages: ask,
      stream: true,
      // @ts-expect-error extension field
      quorum: { ensemble: { strategy: 'ensemble', models: ['a', 'b'], judge: 'agg' }, fallbacks: [] },
    });
    let text = '';
    let quorum: any;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if ((chunk as any).quorum) quorum = (chunk as any).quorum;
    }
    expect(text).toBe('Lisbon');
    expect(quorum.degraded).toEqual(['aggregator_failed']);
  });

  it('stream: true — proposers all failing is a 502 before the stream starts; strict refuses a degraded one', async () => {
    script = { a: ERR_500, b: HANG };
    script['slow-b'] = HANG;
    const streamed = (ensemble: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      client.chat.completions.create({
        model: 'a',
        messages: ask,
        stream: true,
        // @ts-expect-error extension field
        quorum: { ensemble, fallbacks: [], ...extra },
      });
    const err = await failure(streamed({ strategy: 'ensemble', models: ['a', 'slow-b'], judge: 'agg' }));
    expectUpstreamFailed(err, 'candidate a', 'candidate slow-b');

    script = { agg: ERR_503 };
    const strict = await failure(
      streamed({ strategy: 'ensemble', models: ['a', 'b'], judge: 'agg' }, { strict: true }),
    );
    expectUpstreamFailed(strict, 'aggregator_failed');
  });
});

describe('review', () => {
  const REVIEW = { strategy: 'review', models: ['author', 'r1', 'r2'] };

  it('reviewers that all answer unreadable reviews are a 502 naming each, not a 500', async () => {
    script = { r1: GARBAGE, r2: GARBAGE };
    const err = await failure(chat(REVIEW));
    expectUpstreamFailed(err, 'reviewer r1: unreadable review', 'reviewer r2: unreadable review');
  });

  it('reviewers failing as HTTP errors or timeouts are a 502 naming each', async () => {
    script = { r1: ERR_503, 'slow-r2': HANG };
    const err = await failure(chat({ strategy: 'review', models: ['author', 'r1', 'slow-r2'] }));
    expectUpstreamFailed(err, 'reviewer r1', 'reviewer slow-r2', '503');
  });

  it('an author whose draft fails is a 502 naming the author', async () => {
    script = { author: BROKEN };
    const err = await failure(chat(REVIEW));
    expectUpstreamFailed(err, 'author author');
  });

  it('a revision that fails keeps the reviewed draft, marked author_failed', async () => {
    let drafts = 0;
    script = {
      author: () => (drafts++ === 0 ? { text: 'Lisbon, for the light.' } : ERR_500),
      r1: REVIEW_OK('revise', 5, 'Say why.'),
      r2: REVIEW_OK('revise', 6, 'Name a season.'),
    };
    const res = await chat(REVIEW);
    expect(res.choices[0].message.content).toBe('Lisbon, for the light.');
    expect(res.quorum.degraded).toEqual(['author_failed']);
    expect(res.quorum.review.stopped_by).toBe('author_failed');
  });

  it('POST /v1/consensus with strategy review: unreadable reviewers are a 502, not a 500', async () => {
    script = { r1: GARBAGE, r2: BROKEN };
    const res = await fetch(`${gw.url}/v1/consensus`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: ask, strategy: 'review', models: ['author', 'r1', 'r2'] }),
    });
    const body = (await res.json()) as any;
    expect(res.status).toBe(502);
    expect(body.error).toMatchObject({ type: 'upstream_error', code: 'upstream_failed' });
    expect(body.error.message).toContain('reviewer r1: unreadable review');
    expect(body.error.message).toContain('reviewer r2');
  });

  const reviews = (body: Record<string, unknown>) =>
    fetch(`${gw.url}/v1/reviews`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ artifact: 'Lisbon.', instructions: 'Name a city.', ...body }),
    }).then(async (res) => ({ status: res.status, json: (await res.json()) as any }));

  it('POST /v1/reviews: unreadable or timed-out reviewers are a 502 naming each', async () => {
    script = { r1: GARBAGE };
    script['slow-r2'] = HANG;
    const res = await reviews({ reviewers: ['r1', 'slow-r2'] });
    expect(res.status).toBe(502);
    expect(res.json.error).toMatchObject({ type: 'upstream_error', code: 'upstream_failed' });
    expect(res.json.error.message).toContain('reviewer r1: unreadable review');
    expect(res.json.error.message).toContain('reviewer slow-r2');
  });

  it('POST /v1/reviews: a failed revision answers the reviewed draft, degraded', async () => {
    script = { author: ERR_503, r1: REVIEW_OK('revise', 4, 'Too short.'), r2: GARBAGE };
    const res = await reviews({ reviewers: ['r1', 'r2'], author: 'author' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      artifact: 'Lisbon.',
      stopped_by: 'author_failed',
      degraded: ['reviewer_failed', 'author_failed'],
    });
  });
});

describe('workflow steps', () => {
  async function run(steps: Record<string, unknown>) {
    const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
    const made = await fetch(`${gw.url}/v1/workflows`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: `wf-${Object.keys(steps).join('-')}`, steps }),
    });
    expect(made.status).toBe(201);
    const { id } = (await made.json()) as any;
    const started = await fetch(`${gw.url}/v1/workflows/${id}/runs?wait=true`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ inputs: {} }),
    });
    expect(started.status).toBe(200);
    const { id: runId } = (await started.json()) as any;
    const res = await fetch(`${gw.url}/v1/runs/${runId}`, { headers });
    return (await res.json()) as any;
  }

  it('an ensemble step no candidate answers fails as a step, naming the attempts', async () => {
    script = { a: ERR_500, b: BROKEN };
    const record = await run({
      vote: { type: 'ensemble', strategy: 'consensus', models: ['a', 'b'], prompt: 'Pick a city.' },
    });
    expect(record.status).toBe('failed');
    expect(record.steps.vote.status).toBe('failed');
    expect(record.steps.vote.error).toMatch(/candidate a: .*candidate b: /);
  });

  it('a review step whose reviewers are unreadable fails as a step, naming them', async () => {
    script = { r1: GARBAGE, r2: GARBAGE };
    const record = await run({
      check: {
        type: 'review',
        reviewers: ['r1', 'r2'],
        artifact: 'Lisbon.',
        prompt: 'Check that this names a city.',
      },
    });
    expect(record.status).toBe('failed');
    expect(record.steps.check.status).toBe('failed');
    expect(record.steps.check.error).toContain('reviewer r1: unreadable review');
  });
});

describe('money: every cost_usd is whole nano-dollars and adds up', () => {
  it('a fan-out answer: each candidate, the total and the header', async () => {
    const raw = await client.chat.completions
      .create({
        model: 'a',
        messages: ask,
        // @ts-expect-error extension field
        quorum: { ensemble: { strategy: 'ensemble', models: ['a', 'b', 'c'], judge: 'agg' }, fallbacks: [] },
      })
      .withResponse();
    const body = raw.data as any;
    const costs = body.quorum.candidates.map((c: any) => c.cost_usd);
    for (const c of [...costs, body.quorum.cost_usd]) expectNanoExact(c);
    expect(costs).toEqual([0.0000729, 0.0000729, 0.000027338, 0.0000729]);
    // The candidates (the aggregator among them) add up to the request's cost, to the nano-dollar.
    expect(costs.reduce((s: number, c: number) => s + nanos(c), 0)).toBe(3 * CALL_NANOS + C_NANOS);
    expect(body.quorum.cost_usd).toBe(0.000246038);
    expect(raw.response.headers.get('x-quorum-cost-usd')).toBe('0.000246038');
  });

  it('/admin/spend rows and a workflow run record', async () => {
    const record = await run3();
    for (const step of Object.values(record.steps) as any[]) expectNanoExact(step.cost_usd);
    expectNanoExact(record.cost_usd);
    const stepNanos = (Object.values(record.steps) as any[]).reduce((s, st) => s + nanos(st.cost_usd), 0);
    expect(nanos(record.cost_usd)).toBe(stepNanos);
    // An llm step (one call) and an ensemble step (three proposers, `c` among them, and the aggregator).
    expect(stepNanos).toBe(4 * CALL_NANOS + C_NANOS);

    await store.ledger.flush();
    const res = await fetch(`${gw.url}/admin/spend?group_by=model`, {
      headers: { authorization: `Bearer ${MASTER}` },
    });
    const rows = ((await res.json()) as any).data as { cost_usd: number; group: string }[];
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expectNanoExact(row.cost_usd);
    // Spend by model counts `c` at what it was charged: whole nanos, never 0.0000273375 per call.
    const c = rows.find((r) => r.group === 'c')!;
    expect(nanos(c.cost_usd) % C_NANOS).toBe(0);
  });

  async function run3() {
    const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
    const made = await fetch(`${gw.url}/v1/workflows`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        name: 'costs',
        steps: {
          draft: { model: 'a', prompt: 'Pick a city.' },
          mix: {
            type: 'ensemble',
            strategy: 'ensemble',
            models: ['a', 'b', 'c'],
            judge: 'agg',
            needs: ['draft'],
            prompt: 'Improve: {{ steps.draft.output }}',
          },
        },
      }),
    });
    const { id } = (await made.json()) as any;
    const started = await fetch(`${gw.url}/v1/workflows/${id}/runs?wait=true`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ inputs: {} }),
    });
    const done = (await started.json()) as any;
    expect(done.status).toBe('succeeded');
    return (await (await fetch(`${gw.url}/v1/runs/${done.id}`, { headers })).json()) as any;
  }
});
