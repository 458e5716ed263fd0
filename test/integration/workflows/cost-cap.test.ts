/**
 * A run's `max_cost_usd` is never exceeded: every step call holds its worst case (the gateway's own
 * budget hold for the request) against what the cap has left before it is made. Parallel steps wait for
 * each other instead of spending together; a call the cap cannot cover fails its step, naming the cap,
 * what was spent and what the call would need, before anything is sent; a call without max_tokens is
 * sent with the largest max_tokens that fits. Totals are compared to the cap to the nano-dollar.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { amountNanos, limitNanos } from '../../../src/limits/nanos.ts';
import { openStore, type Store } from '../../../src/store/index.ts';
import type { FakeReply, ReceivedRequest } from '../../fakes/harness.ts';
import { type Fakes, fakesConfig, startFakes } from '../helpers/gateway.ts';
import { serveWorkflows, type WorkflowServer } from './serve-workflows.ts';

let fakes: Fakes;
let store: Store;
let server: WorkflowServer;
const dir = mkdtempSync(join(tmpdir(), 'quorum-wf-cap-'));

/** oa-model's prices, per million tokens (fakesConfig). */
const IN = 1;
const OUT = 2;
const nanosOf = (input: number, output: number) => amountNanos((input * IN + output * OUT) / 1e6);

beforeAll(async () => {
  fakes = await startFakes();
  store = await openStore(`sqlite:${join(dir, 'q.db')}`);
  server = await serveWorkflows(fakesConfig(fakes), store);
});
afterAll(async () => {
  await server.close();
  await store.close();
  await fakes.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  for (const f of [fakes.openai, fakes.anthropic, fakes.gemini]) f.reset();
});

/** Writes as much as it is allowed (max_tokens), or `wanted` tokens when that is fewer. */
const answer =
  (wanted: number, text = 'ok') =>
  (r: ReceivedRequest): FakeReply => ({
    text,
    usage: { input: 5, output: Math.min(wanted, r.body.max_tokens ?? wanted) },
  });

async function runOnce(definition: Record<string, unknown>) {
  const stored = await server.api('POST', '/v1/workflows', definition);
  expect(stored.status).toBe(201);
  const done = await server.api('POST', `/v1/workflows/${definition.name}/runs?wait=true`, {});
  expect(done.status).toBe(200);
  // The stored run, whose cost is kept in nanos.
  const run = (await store.workflows.getRun(done.json.id))!;
  return { view: done.json, run, costNanos: amountNanos(run.cost_usd) };
}

/** `$0.00401` → 4010000 nanos. */
const nanosIn = (text: string) => amountNanos(Number(text.slice(1)));

const REFUSAL =
  /^step "(\w+)" failed: max_cost_usd (\$[\d.]+) cannot cover the next call: the run has spent (\$[\d.]+) and (the (?:judge )?call to oa-model) may cost up to (\$[\d.]+)\. (.*)$/;

describe('max_cost_usd', () => {
  it('parallel steps never pass the cap together: what cannot fit fails before it is sent, naming the cap, the spend and the need', async () => {
    fakes.openai.respond(answer(1000));
    // Six steps at once, each writing 1,000 tokens ($0.002005): the cap covers two.
    const steps = Object.fromEntries(
      [1, 2, 3, 4, 5, 6].map((i) => [`s${i}`, { model: 'oa-model', prompt: `Part ${i}?`, max_tokens: 1000 }]),
    );
    const { view, run, costNanos } = await runOnce({ name: 'fan', max_cost_usd: 0.005, steps });

    expect(view.status).toBe('failed');
    expect(costNanos).toBeLessThanOrEqual(limitNanos(0.005));
    expect(costNanos).toBe(2 * nanosOf(5, 1000));
    expect(fakes.openai.received).toHaveLength(2);
    const match = REFUSAL.exec(run.error ?? '');
    expect(match, run.error ?? '').not.toBeNull();
    const [, step, cap, spent, , need, advice] = match!;
    expect(cap).toBe('$0.005');
    expect(spent).toBe('$0.00401');
    // What the call would need: more than is left, and at least its own max_tokens at the output price.
    expect(nanosIn(need!)).toBeGreaterThan(limitNanos(0.005) - nanosIn(spent!));
    expect(nanosIn(need!)).toBeGreaterThanOrEqual(nanosOf(0, 1000));
    expect(advice).toMatch(/^Lower the step's max_tokens to at most \d+, or raise max_cost_usd\.$/);
    expect(run.steps[step!]).toMatchObject({ status: 'failed', attempts: 1 });
    // The steps' costs are the run's, to the nano-dollar.
    const stepNanos = Object.values(run.steps).reduce((sum, s) => sum + amountNanos(s.cost_usd), 0);
    expect(stepNanos).toBe(costNanos);
  });

  it('an until loop stops at the call the cap cannot cover, and its judge calls are clamped to what is left', async () => {
    fakes.openai.respond((r) =>
      JSON.stringify(r.body.messages).includes('Criteria: ')
        ? { text: '{"score": 3, "critique": "longer"}', usage: { input: 5, output: 100 } }
        : answer(500, 'draft')(r),
    );
    const { view, run, costNanos } = await runOnce({
      name: 'loop',
      max_cost_usd: 0.01,
      steps: {
        draft: {
          model: 'oa-model',
          prompt: 'Write. {{ feedback }}',
          max_tokens: 500,
          until: { judge: 'oa-model', criteria: 'long enough', min_score: 9, max_iterations: 20 },
        },
      },
    });

    expect(view.status).toBe('failed');
    expect(costNanos).toBeLessThanOrEqual(limitNanos(0.01));
    const isJudge = (r: ReceivedRequest) => JSON.stringify(r.body.messages).includes('Criteria: ');
    const judged = fakes.openai.received.filter(isJudge);
    const drafts = fakes.openai.received.length - judged.length;
    // Every call sent was charged, and nothing else: drafts at $0.001005, judge calls at $0.000205.
    expect(costNanos).toBe(drafts * nanosOf(5, 500) + judged.length * nanosOf(5, 100));
    expect(drafts).toBeGreaterThanOrEqual(7);
    expect(drafts - judged.length).toBeGreaterThanOrEqual(0);
    expect(drafts - judged.length).toBeLessThanOrEqual(1);
    const match = REFUSAL.exec(run.error ?? '');
    expect(match, run.error ?? '').not.toBeNull();
    const [, step, cap, spent, , need] = match!;
    expect(step).toBe('draft');
    expect(cap).toBe('$0.01');
    expect(nanosIn(spent!)).toBe(costNanos);
    expect(nanosIn(need!)).toBeGreaterThan(limitNanos(0.01) - costNanos);
    // The iteration whose draft or judge call was refused is the step's last.
    expect(run.steps.draft!.iterations).toBe(drafts > judged.length ? drafts : drafts + 1);
    // The judge asks for no max_tokens: once its worst case (4,096 tokens) no longer fits, it is sent
    // with the most that does.
    expect(judged[0]!.body.max_tokens).toBeUndefined();
    const clamped = judged.map((r) => r.body.max_tokens).filter((n) => n !== undefined);
    expect(clamped.length).toBeGreaterThan(0);
    for (const n of clamped) expect(n).toBeLessThan(4096);
  });

  it("an ensemble step is held at the fan-out's worst case over every member, and refused when that does not fit", async () => {
    fakes.openai.respond({ text: 'Paris', usage: { input: 5, output: 50 } });
    fakes.anthropic.respond({ text: 'Paris', usage: { input: 5, output: 50 } });
    const ensemble = (max_tokens: number, needs: string[] = []) => ({
      type: 'ensemble',
      strategy: 'consensus',
      models: ['oa-model', 'an-model'],
      prompt: 'Capital of France?',
      max_tokens,
      needs,
    });
    // a may write 200 tokens on each model (about $0.0034 at worst); b 300 (about $0.0051).
    const { view, run, costNanos } = await runOnce({
      name: 'panel',
      max_cost_usd: 0.005,
      steps: { a: ensemble(200), b: ensemble(300, ['a']) },
    });
    expect(view.status).toBe('failed');
    expect(run.steps.a!.status).toBe('succeeded');
    const spent = nanosOf(5, 50) + amountNanos((5 * 3 + 50 * 15) / 1e6);
    expect(costNanos).toBe(spent);
    expect(fakes.openai.received).toHaveLength(1);
    expect(fakes.anthropic.received).toHaveLength(1);
    expect(run.error).toMatch(
      /^step "b" failed: max_cost_usd \$0\.005 cannot cover the next call: the run has spent \$0\.00087 and the consensus ensemble of oa-model, an-model may cost up to \$0\.005\d+\. Lower the step's max_tokens to at most 2\d\d, or raise max_cost_usd\.$/,
    );
  });

  it('a step without max_tokens is sent with the largest max_tokens its worst case fits in the cap', async () => {
    fakes.openai.respond(answer(10_000));
    const { view, costNanos } = await runOnce({
      name: 'clamped',
      max_cost_usd: 0.005,
      steps: { essay: { model: 'oa-model', prompt: 'Write at length.' } },
    });
    expect(view.status).toBe('succeeded');
    const [sent] = fakes.openai.received;
    const maxTokens = sent!.body.max_tokens as number;
    // $0.005 at $2 per million output tokens is 2,500 tokens, less the prompt's share.
    expect(maxTokens).toBeGreaterThan(2400);
    expect(maxTokens).toBeLessThan(2500);
    expect(costNanos).toBe(nanosOf(5, maxTokens));
    expect(costNanos).toBeLessThanOrEqual(limitNanos(0.005));
  });

  it('a cap too small for a useful answer fails the step before any call, saying how many tokens would fit', async () => {
    fakes.openai.respond(answer(100));
    const { view, run, costNanos } = await runOnce({
      name: 'tiny',
      max_cost_usd: 0.0003,
      steps: { essay: { model: 'oa-model', prompt: 'Write.' } },
    });
    expect(view.status).toBe('failed');
    expect(fakes.openai.received).toHaveLength(0);
    expect(costNanos).toBe(0);
    const match = REFUSAL.exec(run.error ?? '');
    expect(match, run.error ?? '').not.toBeNull();
    expect(match![2]).toBe('$0.0003');
    expect(match![3]).toBe('$0');
    expect(match![6]).toMatch(
      /^At most 1\d\d output tokens would fit \(fewer than 256\); raise max_cost_usd\.$/,
    );
  });

  it('a call that fails after spending (an unreadable review) counts what it spent: retries stop at the cap', async () => {
    // Every reply is billed and none is a readable review, so each attempt fails after paying its reviewer.
    fakes.openai.respond(answer(1000, 'I would rather not say.'));
    const { view } = await runOnce({
      name: 'unreadable',
      max_cost_usd: 0.012,
      steps: {
        check: {
          type: 'review',
          artifact: 'def f(x): return x + 1',
          prompt: 'Review this code.',
          reviewers: ['oa-model'],
          rounds: 1,
          retry: { attempts: 10, backoff_ms: 0 },
        },
      },
    });
    expect(view.status, JSON.stringify(view.steps)).toBe('failed');
    expect(fakes.openai.received.length, JSON.stringify(view.steps)).toBeGreaterThan(0);
    const paid = fakes.openai.received.reduce(
      (sum, r) => sum + nanosOf(5, Math.min(1000, (r.body.max_tokens as number | undefined) ?? 1000)),
      0,
    );
    expect(fakes.openai.received.length).toBeGreaterThan(0);
    expect(fakes.openai.received.length).toBeLessThan(10);
    expect(paid).toBeLessThanOrEqual(limitNanos(0.012));
  });
});
