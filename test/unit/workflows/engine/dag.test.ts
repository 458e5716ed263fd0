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

const towns: Record<string, string> = { Ada: 'London', Alan: 'Maida Vale' };

/** Town look-ups take 60 ms; distance answers with the towns it was given. */
function hometownRunner() {
  return new FakeRunner((req) => {
    const prompt = FakeRunner.prompt({ request: req } as never);
    if (req.step === 'distance')
      return {
        text: `km(${prompt
          .match(/between (.*) and (.*)\?/)!
          .slice(1)
          .join('|')})`,
        cost: 0.01,
      };
    const who = Object.keys(towns).find((name) => prompt.includes(name))!;
    return { text: towns[who]!, delay: 60, cost: 0.001 };
  });
}

describe('engine: hometown-distance', () => {
  it('runs town_a and town_b in parallel, distance after both, and holds at the approval', async () => {
    const runner = hometownRunner();
    const { engine, events } = makeEngine(store, runner);
    const id = await saveWorkflow(store, hometown);
    const started = await engine.start(id, { a: 'Ada', b: 'Alan' }, { team: 'team_1', key_id: 'key_1' });
    expect(started.status).toBe('running');

    const waiting = await engine.wait(started.id);
    expect(waiting.status).toBe('waiting');
    expect(waiting.steps.check!.status).toBe('waiting');
    expect(waiting.steps.distance!.output).toBe('km(London|Maida Vale)');

    const [a] = runner.of('town_a');
    const [b] = runner.of('town_b');
    const [d] = runner.of('distance');
    expect(a!.start).toBeLessThan(b!.end!); // the two look-ups overlap
    expect(b!.start).toBeLessThan(a!.end!);
    expect(d!.start).toBeGreaterThanOrEqual(Math.max(a!.end!, b!.end!)); // distance waits for both

    // Still waiting on the store too, until a person approves.
    expect((await store.workflows.getRun(started.id))!.status).toBe('waiting');
    const approved = await engine.approve(started.id, 'check', { approved: true, comment: 'looks right' });
    expect(approved.status).toBe('succeeded');
    expect(approved.steps.check!.output).toEqual({ approved: true, comment: 'looks right' });
    expect(approved.outputs).toEqual({ km: 'km(London|Maida Vale)' });
    expect(approved.cost_usd).toBeCloseTo(0.012, 9);
    expect(approved.steps.distance!.cost_usd).toBeCloseTo(0.01, 9);

    const stored = await storedEvents(store, started.id);
    expect(stored.map((e) => e.seq)).toEqual(events.map((e) => e.seq)); // listeners saw every event, in order
    const types = stored.map((e) => `${e.type}${e.step ? ':' + e.step : ''}`);
    expect(types[0]).toBe('run.started');
    expect(types.slice(1, 3).sort()).toEqual(['step.started:town_a', 'step.started:town_b']);
    expect(types.slice(-4)).toEqual([
      'step.succeeded:distance',
      'step.waiting:check',
      'step.succeeded:check',
      'run.succeeded',
    ]);
    const run = (await store.workflows.getRun(started.id))!;
    expect(run.status).toBe('succeeded');
    expect(run.cost_usd).toBeCloseTo(0.012, 9);
  });

  it('a person editing town_a re-runs distance (and check) and nothing else', async () => {
    const runner = hometownRunner();
    const { engine } = makeEngine(store, runner);
    const id = await saveWorkflow(store, hometown);
    const run = await engine.start(id, { a: 'Ada', b: 'Alan' }, { team: 'team_1' });
    await engine.wait(run.id);
    await engine.approve(run.id, 'check', { approved: true });

    const edited = await engine.editOutput(run.id, 'town_a', 'Paris');
    expect(edited.steps.check!.status).toBe('pending');
    expect(edited.steps.town_b!.status).toBe('succeeded');
    const waiting = await engine.wait(run.id);
    expect(waiting.status).toBe('waiting');
    expect(waiting.steps.distance!.output).toBe('km(Paris|Maida Vale)');
    expect(waiting.steps.town_a!.history.map((h) => h.source)).toEqual(['model', 'person']);
    expect(runner.of('town_a')).toHaveLength(1);
    expect(runner.of('town_b')).toHaveLength(1);
    expect(runner.of('distance')).toHaveLength(2);

    const done = await engine.approve(run.id, 'check', { approved: true });
    expect(done.outputs).toEqual({ km: 'km(Paris|Maida Vale)' });
    const types = (await storedEvents(store, run.id)).map((e) => e.type);
    expect(types).toContain('step.edited');
    expect(types.filter((t) => t === 'run.succeeded')).toHaveLength(2);
  });

  it('rerun(from) re-runs the step and its descendants only', async () => {
    const runner = hometownRunner();
    const { engine } = makeEngine(store, runner);
    const run = await engine.start(
      await saveWorkflow(store, hometown),
      { a: 'Ada', b: 'Alan' },
      { team: 't' },
    );
    await engine.wait(run.id);
    await engine.rerun(run.id, 'town_b');
    const again = await engine.wait(run.id);
    expect(again.status).toBe('waiting');
    expect(runner.of('town_a')).toHaveLength(1);
    expect(runner.of('town_b')).toHaveLength(2);
    expect(runner.of('distance')).toHaveLength(2);
  });

  it('an approval refused fails the run', async () => {
    const { engine } = makeEngine(store, hometownRunner());
    const run = await engine.start(
      await saveWorkflow(store, hometown),
      { a: 'Ada', b: 'Alan' },
      { team: 't' },
    );
    await engine.wait(run.id);
    const failed = await engine.approve(run.id, 'check', { approved: false, comment: 'wrong' });
    expect(failed.status).toBe('failed');
    expect(failed.steps.check!.status).toBe('failed');
    expect(failed.error).toMatch(/not approved: wrong/);
    await expect(engine.approve(run.id, 'check', { approved: true })).rejects.toMatchObject({
      code: 'conflict',
    });
  });

  it('a failed step fails the run and skips what depends on it', async () => {
    const runner = new FakeRunner((req) =>
      req.step === 'town_b' ? { error: 'upstream 500' } : { text: 'X', delay: 30 },
    );
    const { engine } = makeEngine(store, runner);
    const run = await engine.start(
      await saveWorkflow(store, hometown),
      { a: 'Ada', b: 'Alan' },
      { team: 't' },
    );
    const done = await engine.wait(run.id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/town_b.*upstream 500/);
    expect(done.steps.town_b!.status).toBe('failed');
    expect(done.steps.town_a!.status).toBe('skipped'); // in flight when the run failed: aborted
    expect(runner.of('town_a')[0]!.signal.aborted).toBe(true);
    expect(done.steps.distance!.status).toBe('skipped');
    expect(done.steps.check!.status).toBe('skipped');
    expect(runner.of('distance')).toHaveLength(0);
  });

  it('bounds the model calls in flight by concurrency, starting the next the moment a slot frees', async () => {
    let inFlight = 0;
    let most = 0;
    const runner = new FakeRunner(() => ({ text: 'ok', delay: 20 }));
    const complete = runner.complete.bind(runner);
    runner.complete = async (req, signal) => {
      most = Math.max(most, ++inFlight);
      try {
        return await complete(req, signal);
      } finally {
        inFlight--;
      }
    };
    const steps = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`s${i}`, { prompt: 'go' }]));
    const { engine } = makeEngine(store, runner, { concurrency: 2 });
    const run = await engine.start(await saveWorkflow(store, { name: 'wide', steps }), {}, { team: 't' });
    expect((await engine.wait(run.id)).status).toBe('succeeded');
    expect(most).toBe(2);
    expect(runner.calls).toHaveLength(6);
  });

  it('cancel aborts the in-flight call and marks the run cancelled', async () => {
    const runner = new FakeRunner(() => ({ text: 'slow', delay: 10_000 }));
    const { engine } = makeEngine(store, runner);
    const run = await engine.start(
      await saveWorkflow(store, hometown),
      { a: 'Ada', b: 'Alan' },
      { team: 't' },
    );
    await until(() => runner.calls.length === 2);
    const waiter = engine.wait(run.id);
    const cancelled = await engine.cancel(run.id);
    expect(cancelled.status).toBe('cancelled');
    expect((await waiter).status).toBe('cancelled');
    expect(runner.calls.every((c) => c.signal.aborted)).toBe(true);
    await until(() => runner.calls.every((c) => c.outcome === 'aborted'));
    expect(cancelled.steps.town_a!.status).toBe('cancelled');
    expect(cancelled.steps.distance!.status).toBe('skipped');
    const stored = await storedEvents(store, run.id);
    expect(stored.at(-1)!.type).toBe('run.cancelled');
    await expect(engine.rerun(run.id, 'town_a')).rejects.toMatchObject({ code: 'conflict' });
  });

  it('an idempotency key returns the same run', async () => {
    const { engine } = makeEngine(store, hometownRunner());
    const id = await saveWorkflow(store, hometown);
    const first = await engine.start(id, { a: 'Ada', b: 'Alan' }, { team: 't', idempotency_key: 'k1' });
    const second = await engine.start(id, { a: 'Ada', b: 'Alan' }, { team: 't', idempotency_key: 'k1' });
    expect(second.id).toBe(first.id);
    await engine.wait(first.id);
  });

  it('refuses bad inputs and unknown workflows', async () => {
    const { engine } = makeEngine(store, hometownRunner());
    const id = await saveWorkflow(store, hometown);
    await expect(engine.start(id, { a: 'Ada' }, { team: 't' })).rejects.toMatchObject({
      code: 'invalid',
      problems: [{ path: 'inputs.b' }],
    });
    await expect(engine.start('wf_nope', {}, { team: 't' })).rejects.toMatchObject({ code: 'not_found' });
  });
});
