/**
 * Traces of a run whose steps run as jobs on several instances: the instance that starts a running
 * stretch of the run opens its `workflow.run {name}` span, and every step's span is that span's child,
 * on whichever instance runs it (its traceparent travels with the jobs) — one trace per stretch, as on
 * a single instance. The span ends when the run ends or waits, whoever wrote that; approving on
 * another instance opens the next stretch's span there. Two engines on one store stand for two
 * instances; the queue's hand-offs and the store's notifications are played by hand.
 */
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../../src/store/index.ts';
import { tracer } from '../../../../src/telemetry/index.ts';
import type { StepJob, StepJobs } from '../../../../src/workflows/engine/step-jobs.ts';
import { FakeRunner, makeEngine, saveWorkflow, storedEvents, tempStore, until } from './helpers.ts';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const contextManager = new AsyncLocalStorageContextManager().enable();

class Recorder implements StepJobs {
  readonly jobs: StepJob[] = [];
  async enqueue(jobs: readonly StepJob[]) {
    this.jobs.push(...jobs);
  }
}

/** A runner whose calls open a span, as the gateway's calls do. */
const runner = () => {
  const fake = new FakeRunner((r) => `out ${r.step}`);
  const complete = fake.complete.bind(fake);
  fake.complete = (request, signal) =>
    tracer.startActiveSpan(`call ${request.step}`, (span) =>
      complete(request, signal).finally(() => span.end()),
    );
  return fake;
};

let store: Store;
let cleanup: () => Promise<void>;
beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(contextManager);
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});
beforeEach(async () => {
  exporter.reset();
  ({ store, cleanup } = await tempStore());
});
afterEach(async () => {
  await cleanup();
});

function instance(name: string) {
  const queue = new Recorder();
  return { ...makeEngine(store, runner(), { jobs: queue, instance: name }), queue };
}

const signal = () => new AbortController().signal;
const spans = (prefix: string) => exporter.getFinishedSpans().filter((s) => s.name.startsWith(prefix));
const one = (name: string) => {
  const found = exporter.getFinishedSpans().filter((s) => s.name === name);
  expect(found.map((s) => s.name)).toEqual([name]);
  return found[0]!;
};
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const isChild = (child: ReadableSpan, parent: ReadableSpan) => {
  expect(child.spanContext().traceId).toBe(parent.spanContext().traceId);
  expect(parentOf(child)).toBe(parent.spanContext().spanId);
};

describe('several instances: traces', () => {
  it("every step's span is a child of the run's span, on whichever instance it runs", async () => {
    const a = instance('a');
    const b = instance('b');
    const wf = await saveWorkflow(store, {
      name: 'pipe',
      steps: {
        left: { prompt: 'L' },
        right: { prompt: 'R' },
        join: { prompt: 'J {{ steps.left.output }} {{ steps.right.output }}', needs: ['left', 'right'] },
      },
    });
    const run = await a.engine.start(wf, {}, { team: 'default' });
    const [left, right] = a.queue.jobs;
    expect(left?.trace).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(right?.trace).toBe(left?.trace);

    expect(await a.engine.runJob(right!, signal())).toBe('done');
    // The last of the two makes `join` ready on b, which queues it under the same run span.
    expect(await b.engine.runJob(left!, signal())).toBe('done');
    const join = b.queue.jobs[0]!;
    expect(join).toMatchObject({ step: 'join', trace: left!.trace });
    expect(await b.engine.runJob(join, signal())).toBe('done');
    expect((await b.engine.get(run.id)).status).toBe('succeeded');

    // The run span is open on a until a hears (from the store) that b ended the run.
    expect(spans('workflow.run')).toEqual([]);
    expect(a.engine.interested(run.id)).toBe(true);
    a.engine.notice(run.id, await storedEvents(store, run.id));
    await until(() => spans('workflow.run').length > 0);

    const runSpan = one('workflow.run pipe');
    expect(runSpan.attributes).toMatchObject({
      'workflow.run_id': run.id,
      'workflow.instance': 'a',
      'workflow.run.status': 'succeeded',
    });
    expect(left!.trace).toBe(`00-${runSpan.spanContext().traceId}-${runSpan.spanContext().spanId}-01`);
    const workers: Record<string, unknown> = {};
    for (const step of ['left', 'right', 'join']) {
      const span = one(`workflow.step ${step}`);
      isChild(span, runSpan);
      isChild(one(`call ${step}`), span);
      expect(span.attributes).toMatchObject({ 'workflow.run_id': run.id, 'workflow.step.take': 1 });
      workers[step] = span.attributes['workflow.step.worker'];
    }
    expect(workers).toEqual({ left: 'b', right: 'a', join: 'b' });
    expect(a.engine.interested(run.id)).toBe(false);
  });

  it('a run waiting for a person ends its span; approving on another instance opens the next one there', async () => {
    const a = instance('a');
    const b = instance('b');
    const wf = await saveWorkflow(store, {
      name: 'gated',
      steps: {
        first: { prompt: 'one' },
        gate: { type: 'approval', needs: ['first'] },
        second: { prompt: 'two', needs: ['gate'] },
      },
    });
    const run = await a.engine.start(wf, {}, { team: 'default' });
    // a runs its own step: the run waits, written here, and the span ends at once.
    expect(await a.engine.runJob(a.queue.jobs[0]!, signal())).toBe('done');
    expect(one('workflow.run gated').attributes['workflow.run.status']).toBe('waiting');

    await b.engine.approve(run.id, 'gate', { approved: true });
    const second = b.queue.jobs[0]!;
    expect(await a.engine.runJob(second, signal())).toBe('done');
    b.engine.notice(run.id, await storedEvents(store, run.id));
    await until(() => spans('workflow.run').length === 2);

    const [waited, resumed] = spans('workflow.run gated');
    expect(waited!.attributes).toMatchObject({ 'workflow.instance': 'a', 'workflow.run.status': 'waiting' });
    expect(resumed!.attributes).toMatchObject({
      'workflow.instance': 'b',
      'workflow.run.status': 'succeeded',
    });
    isChild(one('workflow.step first'), waited!);
    isChild(one('workflow.step second'), resumed!);
    expect(one('workflow.step second').attributes['workflow.step.worker']).toBe('a');
  });
});
