import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../../src/store/index.ts';
import { FakeRunner, hometown, makeEngine, saveWorkflow, storedEvents, tempStore, until } from './helpers.ts';

let store: Store;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ store, cleanup } = await tempStore());
});
afterEach(async () => {
  await cleanup();
});

describe('durability', () => {
  it('after a crash mid-step, a new engine re-runs the running step only and finishes the run', async () => {
    const id = await saveWorkflow(store, {
      name: 'chain',
      steps: {
        fast: { prompt: 'fast' },
        side: { prompt: 'side' },
        slow: { needs: ['fast'], prompt: 'slow after {{ steps.fast.output }}' },
        last: { needs: ['slow', 'side'], prompt: 'last {{ steps.slow.output }}' },
      },
      outputs: { result: '{{ steps.last.output }}' },
    });
    // The first process dies during `slow`: its call never returns and the engine is abandoned.
    const first = new FakeRunner((req) => (req.step === 'slow' ? { hang: true } : `${req.step} v1`));
    const crashed = makeEngine(store, first).engine;
    const run = await crashed.start(id, {}, { team: 't' });
    await until(async () => (await store.workflows.getRun(run.id))!.steps.slow!.status === 'running');
    expect((await store.workflows.getRun(run.id))!.steps.side!.status).toBe('succeeded');

    const second = new FakeRunner((req) => `${req.step} v2`);
    const { engine } = makeEngine(store, second);
    expect(await engine.resume()).toEqual([run.id]);
    const done = await engine.wait(run.id);
    expect(done.status).toBe('succeeded');
    expect(second.calls.map((c) => c.request.step).sort()).toEqual(['last', 'slow']); // finished steps never re-run
    expect(done.steps.fast!.output).toBe('fast v1');
    expect(done.steps.slow!.output).toBe('slow v2');
    expect(FakeRunner.prompt(second.of('slow')[0]!)).toBe('slow after fast v1');
    expect(done.outputs).toEqual({ result: 'last v2' });

    const events = await storedEvents(store, run.id); // gap-free across both processes
    expect(events.filter((e) => e.type === 'step.started' && e.step === 'slow')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'run.started')).toHaveLength(1);
    expect(events.at(-1)!.type).toBe('run.succeeded');
    expect(await engine.resume()).toEqual([]); // nothing left unfinished
  });

  it('a run waiting for approval survives a restart and can be approved on the new engine', async () => {
    const runner = new FakeRunner((req) => `${req.step}!`);
    const first = makeEngine(store, runner).engine;
    const run = await first.start(
      await saveWorkflow(store, hometown),
      { a: 'Ada', b: 'Alan' },
      { team: 't' },
    );
    expect((await first.wait(run.id)).status).toBe('waiting');

    const again = new FakeRunner(() => 'never');
    const { engine } = makeEngine(store, again);
    await engine.resume();
    expect((await engine.wait(run.id)).status).toBe('waiting');
    const done = await engine.approve(run.id, 'check', { approved: true });
    expect(done.status).toBe('succeeded');
    expect(done.outputs).toEqual({ km: 'distance!' });
    expect(again.calls).toHaveLength(0);
  });
});
