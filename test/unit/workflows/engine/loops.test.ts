import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../../src/store/index.ts';
import type { WorkflowDefinitionInput } from '../../../../src/workflows/definition/index.ts';
import { FakeRunner, makeEngine, type Script, saveWorkflow, storedEvents, tempStore } from './helpers.ts';

let store: Store;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ store, cleanup } = await tempStore());
});
afterEach(async () => {
  await cleanup();
});

async function runOnce(
  definition: WorkflowDefinitionInput,
  script: Script,
  inputs: Record<string, unknown> = {},
) {
  const runner = new FakeRunner(script);
  const { engine } = makeEngine(store, runner);
  const started = await engine.start(await saveWorkflow(store, definition), inputs, { team: 't' });
  const run = await engine.wait(started.id);
  return { run, runner, events: await storedEvents(store, started.id) };
}

const drafting = (until: {
  min_score: number;
  max_iterations: number;
  on_exhausted?: 'fail' | 'continue';
}): WorkflowDefinitionInput => ({
  name: 'drafting',
  steps: {
    draft: {
      prompt: 'Write it. Feedback: {{ feedback }}',
      until: { judge: 'judge-model', criteria: 'clear', ...until },
    },
  },
  outputs: { text: '{{ steps.draft.output }}' },
});

describe('until', () => {
  it('re-runs the step with the critique until the judge scores min_score', async () => {
    const scores = [3, 6, 9];
    const { run, runner } = await runOnce(drafting({ min_score: 8, max_iterations: 5 }), (req, n) =>
      req.kind === 'judge'
        ? `Sure: \`\`\`json\n{"score": "${scores[n - 1]}", "critique": "fix #${n}"}\n\`\`\``
        : `draft ${n}`,
    );
    expect(run.status).toBe('succeeded');
    expect(run.steps.draft!.iterations).toBe(3);
    expect(run.outputs).toEqual({ text: 'draft 3' });
    const prompts = runner.of('draft').map(FakeRunner.prompt);
    expect(prompts).toEqual([
      'Write it. Feedback: ',
      'Write it. Feedback: fix #1',
      'Write it. Feedback: fix #2',
    ]);
    const judge = runner.of('draft', 'judge');
    expect(judge).toHaveLength(3);
    expect(judge[0]!.request.model).toBe('judge-model');
  });

  it('records every iteration as a step.iteration event with its score and critique', async () => {
    const scores = [3, 9];
    const { events } = await runOnce(drafting({ min_score: 8, max_iterations: 5 }), (req, n) =>
      req.kind === 'judge' ? `{"score": ${scores[n - 1]}, "critique": "fix #${n}"}` : `draft ${n}`,
    );
    const iterations = events.filter((e) => e.type === 'step.iteration');
    expect(iterations.map((e) => [e.step, e.data])).toEqual([
      ['draft', { iteration: 1, score: 3, critique: 'fix #1' }],
      ['draft', { iteration: 2, score: 9, critique: 'fix #2' }],
    ]);
  });

  it('an exhausted loop fails its step naming the bound, and nothing after it runs', async () => {
    const { run, runner } = await runOnce(drafting({ min_score: 8, max_iterations: 2 }), (req, n) =>
      req.kind === 'judge' ? 'Score: 4/10. Too vague.' : `draft ${n}`,
    );
    expect(run.status).toBe('failed');
    expect(run.steps.draft!.status).toBe('failed');
    expect(run.steps.draft!.error).toMatch(/no draft scored 8 within 2 iteration\(s\) \(best 4\)/);
    expect(run.steps.draft!.error).toMatch(/on_exhausted: continue/);
    expect(runner.of('draft')).toHaveLength(2);
  });

  it('with on_exhausted: continue, the best-scored draft goes forward, not the last, and the record says so', async () => {
    const scores = [6, 2];
    const { run, events } = await runOnce(
      drafting({ min_score: 8, max_iterations: 2, on_exhausted: 'continue' }),
      (req, n) => (req.kind === 'judge' ? `{"score": ${scores[n - 1]}, "critique": "more"}` : `draft ${n}`),
    );
    expect(run.status).toBe('succeeded');
    expect(run.outputs).toEqual({ text: 'draft 1' });
    const done = events.find((e) => e.type === 'step.succeeded' && e.step === 'draft');
    expect(done?.data).toMatchObject({ score: 6, exhausted: true, iterations: 2 });
  });
});

describe('back_to', () => {
  const definition: WorkflowDefinitionInput = {
    name: 'write-review',
    steps: {
      outline: { prompt: 'outline' },
      draft: { needs: ['outline'], prompt: 'draft from {{ steps.outline.output }}. {{ feedback }}' },
      format: { needs: ['draft'], prompt: 'format {{ steps.draft.output }}' },
      review: {
        type: 'review',
        needs: ['format'],
        reviewers: ['r1'],
        prompt: 'review',
        back_to: { step: 'draft', max_loops: 2 },
      },
      publish: { needs: ['review'], prompt: 'publish {{ steps.review.output }}' },
    },
  };

  it('re-runs the target and the steps between with the feedback, then stops at max_loops', async () => {
    const { run, runner, events } = await runOnce(definition, (req, n) =>
      req.kind === 'review'
        ? { text: `reviewed ${n}`, verdict: { approved: false, feedback: `tighten #${n}` } }
        : `${req.step} ${n}`,
    );
    expect(run.status).toBe('succeeded');
    expect(runner.of('outline')).toHaveLength(1); // before the target: never re-run
    expect(runner.of('draft')).toHaveLength(3); // first run + 2 loops
    expect(runner.of('format')).toHaveLength(3);
    expect(runner.of('review')).toHaveLength(3);
    expect(runner.of('publish')).toHaveLength(1); // after the bound, the run continues
    expect(runner.of('draft').map(FakeRunner.prompt)).toEqual([
      'draft from outline 1. ',
      'draft from outline 1. tighten #1',
      'draft from outline 1. tighten #2',
    ]);
    expect(run.steps.review!.loops).toBe(2);
    expect(run.steps.publish!.output).toBe('publish 1');
    const backs = events.filter((e) => e.data?.back_to === 'draft').map((e) => e.data?.loop);
    expect(backs).toEqual([1, 2]);
  });

  it('continues at once when the review approves', async () => {
    const { run, runner } = await runOnce(definition, (req, n) =>
      req.kind === 'review' ? { text: 'ok', verdict: { approved: true } } : `${req.step} ${n}`,
    );
    expect(run.status).toBe('succeeded');
    expect(runner.of('draft')).toHaveLength(1);
  });
});

describe('json output, retry, timeout, cost', () => {
  const planning = (extra: Record<string, unknown> = {}): WorkflowDefinitionInput => ({
    name: 'planning',
    steps: {
      plan: {
        prompt: 'plan',
        output: 'json',
        schema: { type: 'object', properties: { tasks: { type: 'array' } }, required: ['tasks'] },
        ...extra,
      },
      next: { needs: ['plan'], prompt: 'do {{ steps.plan.output.tasks.0 }}' },
    },
  });

  it('parses a fenced JSON reply and lets templates read its fields', async () => {
    const { run } = await runOnce(planning(), (req) =>
      req.step === 'plan'
        ? 'Here:\n```json\n{"tasks": ["a", "b"]}\n```'
        : FakeRunner.prompt({ request: req } as never),
    );
    expect(run.status).toBe('succeeded');
    expect(run.steps.plan!.output).toEqual({ tasks: ['a', 'b'] });
    expect(run.steps.next!.output).toBe('do a');
  });

  it('repairs an invalid reply once, showing the validation errors', async () => {
    const { run, runner } = await runOnce(planning(), (req, n) =>
      req.step === 'plan' ? (n === 1 ? '{"steps": []}' : '{"tasks": ["x"]}') : 'done',
    );
    expect(run.status).toBe('succeeded');
    const [first, repair] = runner.of('plan');
    expect(first!.request.json).toBe(true);
    expect(repair!.request.messages.at(-2)).toEqual({ role: 'assistant', content: '{"steps": []}' });
    expect(FakeRunner.prompt(repair!)).toMatch(/tasks/);
  });

  it('fails the step when the repair is invalid too', async () => {
    const { run, runner } = await runOnce(planning(), () => 'not json at all');
    expect(run.status).toBe('failed');
    expect(run.steps.plan!.status).toBe('failed');
    expect(run.steps.plan!.error).toMatch(/invalid JSON output after one repair/);
    expect(runner.of('plan')).toHaveLength(2);
    expect(run.steps.next!.status).toBe('skipped');
  });

  it('retries a failing call with backoff', async () => {
    const { run, runner } = await runOnce(
      { name: 'flaky', steps: { s: { prompt: 'go', retry: { attempts: 3, backoff_ms: 20 } } } },
      (_req, n) => (n < 3 ? { error: `boom ${n}` } : 'finally'),
    );
    expect(run.status).toBe('succeeded');
    expect(run.steps.s!.attempts).toBe(3);
    const [a, b, c] = runner.of('s');
    expect(b!.start - a!.end!).toBeGreaterThanOrEqual(15);
    expect(c!.start - b!.end!).toBeGreaterThanOrEqual(35); // doubled
  });

  it('times out each attempt, aborting its signal', async () => {
    const { run, runner } = await runOnce(
      { name: 'slow', steps: { s: { prompt: 'go', timeout_ms: 30, retry: { attempts: 2, backoff_ms: 0 } } } },
      () => ({ text: 'late', delay: 5_000 }),
    );
    expect(run.status).toBe('failed');
    expect(run.steps.s!.error).toMatch(/timed out after 30 ms/);
    expect(runner.of('s')).toHaveLength(2);
    expect(runner.of('s').every((c) => c.signal.aborted)).toBe(true);
  });

  it('stops the run when a runner that does not hold calls against max_cost_usd exceeds it', async () => {
    const { run, runner, events } = await runOnce(
      {
        name: 'pricey',
        max_cost_usd: 0.05,
        steps: { a: { prompt: 'a' }, b: { needs: ['a'], prompt: 'b' }, c: { needs: ['b'], prompt: 'c' } },
      },
      () => ({ text: 'ok', cost: 0.03 }),
    );
    expect(run.status).toBe('failed');
    expect(run.error).toBe('max_cost_usd $0.05 exceeded: spent $0.06');
    expect(runner.of('c')).toHaveLength(0);
    expect(run.steps.a!.status).toBe('succeeded');
    expect(run.steps.b!.status).toBe('failed');
    expect(run.steps.c!.status).toBe('skipped');
    expect((await store.workflows.getRun(run.id))!.cost_usd).toBeCloseTo(0.06, 9);
    expect(events.at(-1)!.type).toBe('run.failed');
  });
});
