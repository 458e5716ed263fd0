/**
 * The workflow StepRunner over the real gateway (fake upstreams, a real SQLite store): every step goes
 * through the gateway's request path — prompts reach the providers, costs add up to usage × prices, the
 * run is charged to the key that started it (ledger, budget), cancel aborts the upstream call, and
 * `workflow.step` spans parent the model calls' spans.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../../src/config/index.ts';
import { Gateway } from '../../../src/gateway/index.ts';
import { openStore, type Store } from '../../../src/store/index.ts';
import { parseDefinition, type WorkflowDefinitionInput } from '../../../src/workflows/definition/index.ts';
import { Engine } from '../../../src/workflows/engine/index.ts';
import {
  createGatewayRunner,
  splitReviewMessages,
  storeCallerResolver,
} from '../../../src/workflows/gateway-runner.ts';
import type { RunRecord } from '../../../src/workflows/state.ts';
import { type Fakes, fakesConfig, startFakes } from '../helpers/gateway.ts';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const contextManager = new AsyncLocalStorageContextManager().enable();

let fakes: Fakes;
let store: Store;
let gw: Gateway;
let dir: string;
let labKey: string;
let tightKey: string;
const engines: Engine[] = [];

/** Per million tokens, as fakesConfig prices them. */
const PRICE = {
  'oa-model': { input: 1, output: 2 },
  'an-model': { input: 3, output: 15 },
  'ge-model': { input: 0.5, output: 1.5 },
} as const;
const cost = (model: keyof typeof PRICE, input: number, output: number) =>
  (input * PRICE[model].input + output * PRICE[model].output) / 1e6;

beforeAll(async () => {
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(contextManager);
  fakes = await startFakes();
  dir = mkdtempSync(join(tmpdir(), 'quorum-wf-runner-'));
  store = await openStore('sqlite:' + join(dir, 'quorum.db'));
  const path = join(dir, 'quorum.yaml');
  writeFileSync(path, stringify(fakesConfig(fakes)));
  gw = await Gateway.create(loadConfig({ path, env: {} }), { ledger: store.ledger });
  await store.teams.create({ id: 'lab', budget: { limit_usd: 10, period: 'total' } });
  // Too small even for the least output a budget lowers a request to (256 tokens at $2/M: $0.000512).
  await store.teams.create({ id: 'tight', budget: { limit_usd: 0.0004, period: 'total' } });
  labKey = (await store.keys.create({ team: 'lab', name: 'workflows' })).id;
  tightKey = (await store.keys.create({ team: 'tight', name: 'small' })).id;
});

afterAll(async () => {
  await gw.close();
  await store.close();
  await fakes.close();
  rmSync(dir, { recursive: true, force: true });
  await provider.shutdown();
  trace.disable();
  context.disable();
});

beforeEach(() => {
  fakes.openai.reset();
  fakes.anthropic.reset();
  fakes.gemini.reset();
  exporter.reset();
});

function engine(): Engine {
  const e = new Engine({
    store,
    runner: createGatewayRunner(gw, storeCallerResolver(store, gw.config)),
    onError: (err) => {
      throw err;
    },
  });
  engines.push(e);
  return e;
}

async function save(input: WorkflowDefinitionInput): Promise<string> {
  const parsed = parseDefinition(input);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return (
    await store.workflows.createWorkflow({
      team: 'lab',
      name: parsed.definition.name,
      definition: parsed.definition,
    })
  ).id;
}

/** The hometown-distance example, each step pinned to one fake provider. */
function hometown(): WorkflowDefinitionInput {
  const def = parse(readFileSync('examples/workflows/hometown-distance.yaml', 'utf8'));
  def.steps.town_a.model = 'oa-model';
  def.steps.town_b.model = 'an-model';
  def.steps.distance.model = 'ge-model';
  return def;
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const body = (f: { received: { body: unknown }[] }, i = 0) => JSON.stringify(f.received[i]?.body);

describe('the gateway runner', () => {
  it('runs hometown-distance end to end through the fakes; costs are usage × prices, charged to the key', async () => {
    fakes.openai.enqueue({ text: 'London', usage: { input: 100, output: 10 } });
    fakes.anthropic.enqueue({ text: 'Maida Vale', usage: { input: 200, output: 20 } });
    fakes.gemini.enqueue({ text: '8 km', usage: { input: 300, output: 30 } });
    const e = engine();
    const id = await save(hometown());
    const started = await e.start(
      id,
      { a: 'Ada Lovelace', b: 'Alan Turing' },
      { team: 'lab', key_id: labKey },
    );
    const waiting = await e.wait(started.id);
    expect(waiting.status).toBe('waiting');

    // The providers received the rendered prompts.
    expect(fakes.openai.received[0]!.body.messages).toEqual([
      { role: 'user', content: 'Home town of Ada Lovelace? Reply with the town only.' },
    ]);
    expect(body(fakes.anthropic)).toContain('Home town of Alan Turing? Reply with the town only.');
    expect(body(fakes.gemini)).toContain('Distance in km between London and Maida Vale?');

    const steps = waiting.steps;
    expect(steps.town_a).toMatchObject({ status: 'succeeded', output: 'London' });
    expect(steps.town_b).toMatchObject({ status: 'succeeded', output: 'Maida Vale' });
    expect(steps.distance).toMatchObject({ status: 'succeeded', output: '8 km' });
    expect(steps.town_a!.cost_usd).toBeCloseTo(cost('oa-model', 100, 10), 12);
    expect(steps.town_b!.cost_usd).toBeCloseTo(cost('an-model', 200, 20), 12);
    expect(steps.distance!.cost_usd).toBeCloseTo(cost('ge-model', 300, 30), 12);
    const total = cost('oa-model', 100, 10) + cost('an-model', 200, 20) + cost('ge-model', 300, 30);
    expect(waiting.cost_usd).toBeCloseTo(total, 12);

    const done: RunRecord = await e.approve(started.id, 'check', { approved: true });
    expect(done.status).toBe('succeeded');
    expect(done.outputs).toEqual({ km: '8 km' });
    expect((await store.workflows.getRun(started.id))!.cost_usd).toBeCloseTo(total, 12);

    // The ledger has every call, charged to the key that started the run, naming the run and step.
    const [row] = await store.spend.all({ team: 'lab', group_by: 'key' });
    expect(row).toMatchObject({ group: labKey, requests: 3, calls: 3 });
    expect(row!.cost_usd).toBeCloseTo(total, 9);
    const rows = await store.db
      .selectFrom('ledger')
      .select(['request_id', 'tags', 'surface', 'workflow_run', 'workflow_step', 'key_id', 'key_name'])
      .where('team_id', '=', 'lab')
      .orderBy('request_id')
      .execute();
    expect(rows).toEqual(
      ['distance', 'town_a', 'town_b'].map((s) => ({
        request_id: `wf-${started.id}-${s}-1`,
        tags: null,
        surface: 'workflow',
        workflow_run: started.id,
        workflow_step: s,
        key_id: labKey,
        key_name: expect.any(String),
      })),
    );
    // Spend by step of this run.
    const bySteps = await store.spend.all({ run: started.id, group_by: 'step' });
    expect(bySteps.map((r) => [r.step, r.calls])).toEqual([
      ['distance', 1],
      ['town_a', 1],
      ['town_b', 1],
    ]);
    // The team's budget was charged too.
    const status = await gw.limits.budget.status({ team: 'lab', limitUsd: 10, period: 'total' });
    expect(status.spentUsd).toBeCloseTo(total, 9);
  });

  it('independent steps are in flight at the same time at the fakes; their dependent waits for both', async () => {
    // town_a (OpenAI fake) and town_b (Anthropic fake) each answer after 300 ms; whichever arrives second
    // notes whether the other is still in flight (run one after the other, it never would be).
    const finished = { a: false, b: false };
    let overlap = false;
    fakes.openai.respond(() => {
      overlap ||= fakes.anthropic.received.length === 1 && !finished.b;
      return { text: 'London', latencyMs: 300 };
    });
    fakes.anthropic.respond(() => {
      overlap ||= fakes.openai.received.length === 1 && !finished.a;
      return { text: 'Maida Vale', latencyMs: 300 };
    });
    fakes.gemini.enqueue({ text: '8 km' });
    const e = engine();
    const run = await e.start(
      await save(hometown()),
      { a: 'Ada', b: 'Alan' },
      { team: 'lab', key_id: labKey },
    );
    void until(() => fakes.openai.received.length === 1).then(() =>
      fakes.openai.received[0]!.done.then(() => {
        finished.a = true;
      }),
    );
    void until(() => fakes.anthropic.received.length === 1).then(() =>
      fakes.anthropic.received[0]!.done.then(() => {
        finished.b = true;
      }),
    );
    expect((await e.wait(run.id)).status).toBe('waiting');
    expect(overlap).toBe(true); // the second town reached its fake while the first was still in flight
    expect(fakes.gemini.received).toHaveLength(1);
    expect(body(fakes.gemini)).toContain('London');
    expect(body(fakes.gemini)).toContain('Maida Vale');
  });

  it('a team budget too small refuses the step with budget_exceeded and the run fails', async () => {
    const e = engine();
    const id = await save({
      name: 'tight-budget',
      steps: { only: { prompt: 'Say hi', model: 'oa-model', retry: { attempts: 3, backoff_ms: 1 } } },
    });
    const run = await e.start(id, {}, { team: 'tight', key_id: tightKey });
    const ended = await e.wait(run.id);
    expect(ended.status).toBe('failed');
    expect(ended.steps.only!.status).toBe('failed');
    expect(ended.steps.only!.error).toMatch(
      /^Team `tight` has spent .* of its \$0\.000400 total budget, \$0\.000400 remaining; this request may cost up to/,
    );
    expect(ended.steps.only!.attempts).toBe(1); // a refusal is not retried
    expect(ended.error).toContain('total budget');
    expect(fakes.openai.received).toHaveLength(0);
  });

  it('cancel mid-step aborts the upstream call', async () => {
    fakes.openai.respond({ hang: true });
    const e = engine();
    const id = await save({
      name: 'hangs',
      steps: { slow: { prompt: 'Take your time', model: 'oa-model' } },
    });
    const run = await e.start(id, {}, { team: 'lab', key_id: labKey });
    await until(() => fakes.openai.received.length === 1);
    const cancelled = await e.cancel(run.id);
    expect(cancelled.status).toBe('cancelled');
    const call = fakes.openai.received[0]!;
    await call.done;
    expect(call.aborted).toBe(true);
  });

  it('ensemble steps fan out through quorum.ensemble; until judges are llm calls', async () => {
    fakes.openai.enqueue({ text: '42', usage: { input: 10, output: 1 } });
    fakes.anthropic.enqueue({ text: '42', usage: { input: 20, output: 2 } });
    fakes.gemini.enqueue({ text: '{"score": 9, "critique": "fine"}', usage: { input: 40, output: 8 } });
    const e = engine();
    const id = await save({
      name: 'ens',
      steps: {
        answer: {
          type: 'ensemble',
          strategy: 'consensus',
          models: ['oa-model', 'an-model'],
          prompt: 'Six times seven?',
          until: { judge: 'ge-model', criteria: 'correct', min_score: 7, max_iterations: 2 },
        },
      },
      outputs: { answer: '{{ steps.answer.output }}' },
    });
    const run = await e.start(id, {}, { team: 'lab', key_id: labKey });
    const ended = await e.wait(run.id);
    expect(ended.status).toBe('succeeded');
    expect(ended.outputs).toEqual({ answer: '42' });
    expect(body(fakes.openai)).toContain('Six times seven?');
    expect(body(fakes.anthropic)).toContain('Six times seven?');
    expect(body(fakes.gemini)).toContain('Criteria: correct');
    // The judge asked for JSON.
    expect(body(fakes.gemini)).toContain('application/json');
    expect(ended.steps.answer!.cost_usd).toBeCloseTo(
      cost('oa-model', 10, 1) + cost('an-model', 20, 2) + cost('ge-model', 40, 8),
      12,
    );
  });

  it('review steps run the consensus review loop; a verdict with issues sends the run back', async () => {
    fakes.openai.enqueue(
      { text: 'A draft poem about otters.', usage: { input: 10, output: 10 } },
      { text: 'A longer, rhyming otter poem.', usage: { input: 10, output: 10 } },
    );
    fakes.anthropic.enqueue(
      {
        text: '{"verdict": "revise", "score": 4, "issues": ["too short", "no rhyme"]}',
        usage: { input: 50, output: 20 },
      },
      { text: '{"verdict": "accept", "score": 9, "issues": []}', usage: { input: 50, output: 20 } },
    );
    const e = engine();
    const id = await save({
      name: 'reviewed',
      steps: {
        draft: { prompt: 'Write a poem about otters. {{ feedback }}', model: 'oa-model' },
        critique: {
          type: 'review',
          needs: ['draft'],
          prompt: 'Is it a good poem?',
          reviewers: ['an-model'],
          back_to: { step: 'draft', max_loops: 2 },
        },
      },
    });
    const run = await e.start(id, {}, { team: 'lab', key_id: labKey });
    const ended = await e.wait(run.id);
    expect(ended.status).toBe('succeeded');
    expect(ended.steps.critique!.output).toBe('A longer, rhyming otter poem.');
    expect(ended.steps.critique!.loops).toBe(1);
    expect(body(fakes.anthropic, 0)).toContain('A draft poem about otters.');
    expect(body(fakes.anthropic, 0)).toContain('Is it a good poem?');
    // The reviewer's issues came back as the verdict's feedback, into the draft's next prompt.
    expect(body(fakes.openai, 1)).toContain('too short\\nno rhyme');
    expect(ended.steps.critique!.cost_usd).toBeCloseTo(2 * cost('an-model', 50, 20), 12);
  });

  it('a step of a run whose key was revoked fails with invalid_api_key', async () => {
    const key = await store.keys.create({ team: 'lab', name: 'short-lived' });
    await store.keys.revoke(key.id);
    const e = engine();
    const id = await save({ name: 'revoked', steps: { only: { prompt: 'hi', model: 'oa-model' } } });
    const ended = await e.wait((await e.start(id, {}, { team: 'lab', key_id: key.id })).id);
    expect(ended.status).toBe('failed');
    expect(ended.steps.only!.error).toContain('revoked');
    expect(fakes.openai.received).toHaveLength(0);
  });
});

describe('spans', () => {
  it('workflow.run parents workflow.step spans, which parent the route and chat spans', async () => {
    fakes.openai.enqueue({ text: 'first', usage: { input: 10, output: 5 } });
    fakes.gemini.enqueue({ text: 'second', usage: { input: 20, output: 5 } });
    const e = engine();
    const id = await save({
      name: 'traced',
      steps: {
        a: { prompt: 'one', model: 'oa-model' },
        b: { needs: ['a'], prompt: 'two after {{ steps.a.output }}', model: 'auto:cost' },
      },
    });
    const run = await e.start(id, {}, { team: 'lab', key_id: labKey });
    expect((await e.wait(run.id)).status).toBe('succeeded');
    await new Promise((r) => setTimeout(r, 20));
    const spans = exporter.getFinishedSpans();
    const find = (name: string) => {
      const span = spans.find((s) => s.name === name);
      if (!span) throw new Error(`no span ${name} in ${spans.map((s) => s.name).join(', ')}`);
      return span;
    };
    const runSpan = find('workflow.run traced');
    const a = find('workflow.step a');
    const b = find('workflow.step b');
    const parentOf = (s: ReturnType<typeof find>) => s.parentSpanContext?.spanId;
    expect(parentOf(a)).toBe(runSpan.spanContext().spanId);
    expect(parentOf(b)).toBe(runSpan.spanContext().spanId);
    expect(parentOf(find('chat gpt-up'))).toBe(a.spanContext().spanId);
    expect(parentOf(find('chat gemini-up'))).toBe(b.spanContext().spanId);
    expect(parentOf(find('quorum.route'))).toBe(b.spanContext().spanId);
    expect(find('chat gpt-up').spanContext().traceId).toBe(runSpan.spanContext().traceId);

    expect(a.attributes).toMatchObject({ 'workflow.run_id': run.id, 'quorum.team': 'lab' });
    expect(a.attributes['quorum.cost_usd']).toBeCloseTo(cost('oa-model', 10, 5), 12);
    expect(b.attributes['quorum.cost_usd']).toBeCloseTo(cost('ge-model', 20, 5), 12);
    expect(runSpan.attributes).toMatchObject({
      'workflow.run_id': run.id,
      'quorum.team': 'lab',
      'workflow.run.status': 'succeeded',
    });
    expect(runSpan.attributes['quorum.cost_usd']).toBeCloseTo(
      cost('oa-model', 10, 5) + cost('ge-model', 20, 5),
      12,
    );
  });

  it('a run waiting for a person ends its span; approving opens another for the steps after it', async () => {
    fakes.openai.enqueue({ text: 'before' }, { text: 'after' });
    const e = engine();
    const id = await save({
      name: 'gated',
      steps: {
        first: { prompt: 'one', model: 'oa-model' },
        gate: { type: 'approval', needs: ['first'] },
        second: { needs: ['gate'], prompt: 'two', model: 'oa-model' },
      },
    });
    const run = await e.start(id, {}, { team: 'lab', key_id: labKey });
    expect((await e.wait(run.id)).status).toBe('waiting');
    const runs = () => exporter.getFinishedSpans().filter((s) => s.name === 'workflow.run gated');
    expect(runs().map((s) => s.attributes['workflow.run.status'])).toEqual(['waiting']);
    await e.approve(run.id, 'gate', { approved: true });
    expect((await e.wait(run.id)).status).toBe('succeeded');
    expect(runs().map((s) => s.attributes['workflow.run.status'])).toEqual(['waiting', 'succeeded']);
    const second = exporter.getFinishedSpans().find((s) => s.name === 'workflow.step second')!;
    expect(second.parentSpanContext?.spanId).toBe(runs()[1]!.spanContext().spanId);
  });
});

describe('splitReviewMessages', () => {
  it('takes the engine review message apart: instructions (with system and feedback) and artifact', () => {
    expect(
      splitReviewMessages([
        { role: 'system', content: 'Be kind.' },
        {
          role: 'user',
          content:
            'Check it.\n\n---\nthe artifact\n---\nwith a rule\n---\nFeedback on the previous version: shorter',
        },
      ]),
    ).toEqual({
      instructions: 'Be kind.\n\nCheck it.\n\nFeedback on the previous version: shorter',
      artifact: 'the artifact\n---\nwith a rule',
    });
  });
});
