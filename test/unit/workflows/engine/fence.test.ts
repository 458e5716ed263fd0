/**
 * The engine with shared step jobs, two engines on one store standing for two instances, the queue's
 * hand-offs played by hand: a worker whose step was taken over (its lock lapsed) cannot record its
 * late result over the new owner's; a step whose workers were lost twice fails rather than running a
 * third time; a drained worker hands its step back without that counting as a loss; changes made on
 * both engines at once never overwrite each other.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../../src/store/index.ts';
import type { StepJob, StepJobs } from '../../../../src/workflows/engine/step-jobs.ts';
import { FakeRunner, makeEngine, saveWorkflow, storedEvents, tempStore } from './helpers.ts';

class Recorder implements StepJobs {
  readonly jobs: StepJob[] = [];
  async enqueue(jobs: readonly StepJob[]) {
    this.jobs.push(...jobs);
  }
  async stopWorking() {}
}

const SOLO = { name: 'solo', steps: { solo: { prompt: 'SOLO' } } };

let store: Store;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ store, cleanup } = await tempStore());
});
afterEach(async () => {
  await cleanup();
});

/** An engine as one instance runs it, with the jobs it queued and what it told the operator. */
function instance(name: string, runner: FakeRunner) {
  const queue = new Recorder();
  const notices: string[] = [];
  const made = makeEngine(store, runner, {
    jobs: queue,
    instance: name,
    onNotice: (message) => notices.push(message),
  });
  return { ...made, queue, notices };
}

const signal = () => new AbortController().signal;
const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error('condition not met');
};

describe('several instances: the fencing token', () => {
  it("refuses a worker's late result once another worker took the step over", async () => {
    let release!: (text: string) => void;
    const slow = new FakeRunner(() => ({ text: 'unused' }));
    slow.complete = (request) => {
      slow.calls.push({ request, n: 1, start: 0, signal: signal() });
      return new Promise((resolve) => {
        // Free, so no spend is written before the result: the result's own write meets the fence.
        release = (text) => resolve({ text, cost_usd: 0 });
      });
    };
    const a = instance('a', slow);
    const b = instance('b', new FakeRunner(() => ({ text: 'fresh answer', cost: 0.002 })));
    const wf = await saveWorkflow(store, SOLO);
    const run = await a.engine.start(wf, {}, { team: 'default' });
    const job = a.queue.jobs[0]!;
    expect(job).toEqual({ run_id: run.id, step: 'solo', gen: 1 });

    const stale = a.engine.runJob(job, signal());
    await until(() => slow.calls.length === 1);
    // A's lock lapsed (it froze): the queue hands the same job to B, which takes and finishes it.
    expect(await b.engine.runJob(job, signal())).toBe('done');
    expect((await store.workflows.getRun(run.id))!.steps.solo).toMatchObject({
      status: 'succeeded',
      output: 'fresh answer',
      takes: 2,
      worker: 'b',
    });

    // A wakes up with its answer: refused, and the run is as B left it.
    release('stale answer');
    expect(await stale).toBe('done');
    expect(a.notices).toContain('stale workflow step result refused: another worker holds the step now');
    const after = (await store.workflows.getRun(run.id))!;
    expect(after.status).toBe('succeeded');
    expect(after.steps.solo!.output).toBe('fresh answer');
    expect(after.steps.solo!.history.map((h) => h.output)).toEqual(['fresh answer']);
    expect(after.cost_usd).toBeCloseTo(0.002, 12);
    const events = await storedEvents(store, run.id);
    expect(events.filter((e) => e.type === 'step.succeeded')).toHaveLength(1);
    expect(events.find((e) => e.type === 'step.started' && e.data?.take === 2)?.data).toEqual({
      take: 2,
      worker: 'b',
    });
    // The job handed out once more (a duplicate): nothing runs, the step is finished.
    expect(await a.engine.runJob(job, signal())).toBe('done');
    expect(slow.calls).toHaveLength(1);
  });

  it('fails a step whose workers were lost twice instead of running it a third time', async () => {
    const hang = () => new FakeRunner(() => ({ hang: true }));
    const a = instance('a', hang());
    const b = instance('b', hang());
    const c = instance('c', new FakeRunner(() => 'third'));
    const wf = await saveWorkflow(store, SOLO);
    const run = await a.engine.start(wf, {}, { team: 'default' });
    const job = a.queue.jobs[0]!;
    void a.engine.runJob(job, signal()); // dies mid-call
    await until(() => true);
    await new Promise((r) => setTimeout(r, 50));
    void b.engine.runJob(job, signal()); // taken over, dies mid-call too
    await new Promise((r) => setTimeout(r, 50));
    expect(await c.engine.runJob(job, signal())).toBe('done');
    const after = (await store.workflows.getRun(run.id))!;
    expect(after.status).toBe('failed');
    expect(after.steps.solo!.status).toBe('failed');
    expect(after.steps.solo!.error).toMatch(/its worker was lost 2 times/);
  });

  it('hands a step back on drain without counting it as a lost worker', async () => {
    const a = instance('a', new FakeRunner(() => ({ delay: 60_000, text: 'never' })));
    const b = instance('b', new FakeRunner(() => ({ hang: true })));
    const c = instance('c', new FakeRunner(() => 'done by c'));
    const wf = await saveWorkflow(store, SOLO);
    const run = await a.engine.start(wf, {}, { team: 'default' });
    const job = a.queue.jobs[0]!;
    const first = a.engine.runJob(job, signal());
    await new Promise((r) => setTimeout(r, 50));
    await a.engine.drain();
    expect(await first).toBe('handed-back');
    // A drained engine takes nothing more.
    expect(await a.engine.runJob(job, signal())).toBe('handed-back');
    void b.engine.runJob(job, signal()); // lost
    await new Promise((r) => setTimeout(r, 50));
    // One loss so far (the hand-back is none): the step may run once more.
    expect(await c.engine.runJob(job, signal())).toBe('done');
    const after = (await store.workflows.getRun(run.id))!;
    expect(after.status).toBe('succeeded');
    expect(after.steps.solo!).toMatchObject({ output: 'done by c', takes: 3, handed: 1 });
  });

  it('never lets concurrent changes on two instances overwrite each other', async () => {
    const GATES = {
      name: 'gates',
      steps: {
        g1: { type: 'approval' },
        g2: { type: 'approval' },
        g3: { type: 'approval' },
        g4: { type: 'approval' },
      },
    } as const;
    const a = instance('a', new FakeRunner(() => 'x'));
    const b = instance('b', new FakeRunner(() => 'x'));
    const wf = await saveWorkflow(store, GATES);
    const run = await a.engine.start(wf, {}, { team: 'default' });
    // Four approvals at once, two through each instance: each reads, decides and writes over its read.
    await Promise.all([
      a.engine.approve(run.id, 'g1', { approved: true }),
      b.engine.approve(run.id, 'g2', { approved: true }),
      a.engine.approve(run.id, 'g3', { approved: true }),
      b.engine.approve(run.id, 'g4', { approved: true }),
    ]);
    const after = (await store.workflows.getRun(run.id))!;
    expect(after.status).toBe('succeeded');
    for (const g of ['g1', 'g2', 'g3', 'g4']) expect(after.steps[g]!.status).toBe('succeeded');
    const events = await storedEvents(store, run.id);
    expect(events.filter((e) => e.type === 'run.succeeded')).toHaveLength(1);
  });
});
