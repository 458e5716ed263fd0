/**
 * Workflows on several instances sharing one Postgres and one Redis: steps run as BullMQ jobs that any
 * instance's worker takes (step-queue.ts), run events reach every instance through Postgres
 * notifications (run-feed.ts), and a reconciler on every instance queues again the job of any step the
 * store says is running (an instance that died between writing a step's start and queueing it). The
 * engine (src/workflows/engine/) makes every decision from the store and fences stale workers.
 */
import type { Store } from '../../store/index.ts';
import { Engine, type EngineOptions } from '../engine/index.ts';
import type { StepJob, StepJobs } from '../engine/step-jobs.ts';
import type { EventHub } from '../event-hub.ts';
import type { RunEvent } from '../state.ts';
import { RunFeed } from './run-feed.ts';
import { StepQueue } from './step-queue.ts';

export { jobId, QUEUE_NAME } from './step-queue.ts';

export interface DistributedOptions {
  store: Store;
  /** The store's URL (the feed's LISTEN connection uses it, so it listens in the store's schema). */
  databaseUrl: string;
  redisUrl: string;
  /** Key prefix of the queue in Redis. */
  prefix: string;
  /** The job lock (ms): a lost worker's step is taken over within about 1.5 × this. */
  lockMs: number;
  /** Steps this instance runs at once; 0 = it runs none (it serves the API only). */
  concurrency: number;
  hub: EventHub;
  /** Every event of every run (a CLI following its own run); absent = only runs someone here follows. */
  onEvent?: (event: RunEvent) => void;
  /** The engine's other options (runner, clocks, error and notice reporting). */
  engine: Omit<EngineOptions, 'store' | 'jobs' | 'onEvent' | 'concurrency'>;
  onError: (err: unknown) => void;
}

/** The queue, the feed and the reconciler's timer, closed together by `Engine.close()`. */
class Runtime implements StepJobs {
  readonly queue: StepQueue;
  feed: RunFeed | undefined;
  timer: NodeJS.Timeout | undefined;

  constructor(queue: StepQueue) {
    this.queue = queue;
  }

  enqueue(jobs: readonly StepJob[]): Promise<void> {
    return this.queue.enqueue(jobs);
  }

  stopWorking(): Promise<void> {
    return this.queue.stopWorking();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([this.queue.close(), this.feed?.close()]);
  }
}

/** An engine whose steps run as shared jobs; started (worker, feed, reconciler) before it is returned. */
export async function startDistributedEngine(options: DistributedOptions): Promise<Engine> {
  const { store, hub, onEvent, onError, lockMs } = options;
  const runtime = new Runtime(
    new StepQueue({ redisUrl: options.redisUrl, prefix: options.prefix, lockMs, onError }),
  );
  await runtime.queue.open();
  const engine = new Engine({ ...options.engine, store, jobs: runtime });
  try {
    const feed = new RunFeed({
      databaseUrl: options.databaseUrl,
      store,
      interested: (runId) => onEvent !== undefined || hub.subscribers(runId) > 0 || engine.interested(runId),
      deliver: (runId, events) => {
        for (const event of events) {
          hub.publish(event);
          onEvent?.(event);
        }
        engine.notice(runId, events);
      },
      onError,
    });
    runtime.feed = feed;
    await feed.open();
    if (options.concurrency > 0)
      runtime.queue.work(options.concurrency, (job, signal) => engine.runJob(job, signal));
    // Runs created but not started for a whole lock time were left by an instance that died.
    let reconciling: Promise<unknown> | undefined;
    const reconcile = () => {
      // One pass at a time: a slow store must not pile passes up.
      reconciling ??= Promise.all([engine.reconcile(lockMs), engine.recheckWaiters()])
        .catch(onError)
        .finally(() => {
          reconciling = undefined;
        });
      return reconciling;
    };
    // The first pass is not awaited either: with Redis away it would hold start-up until Redis answers.
    void reconcile();
    runtime.timer = setInterval(reconcile, Math.max(lockMs * 3, 1000));
    runtime.timer.unref();
  } catch (err) {
    await runtime.close().catch(() => {});
    throw err;
  }
  return engine;
}
