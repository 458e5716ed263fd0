/**
 * Workflow steps as BullMQ jobs over the Redis every instance shares. BullMQ gives what several
 * instances need and what we would otherwise write ourselves: a job is handed to one worker at a time
 * under a lock with a token, renewed while the worker works (every `lockMs / 2`); a job whose lock
 * lapsed (its instance died, or froze past the lock) is found by any instance's stalled check (every
 * `lockMs / 2`) and handed to another worker. So a lost step is taken over within about 1.5 × lockMs.
 *
 * What BullMQ cannot give is a fence in our database: a frozen worker that wakes up still holds its
 * result. The engine fences that (`Engine.runJob`: the token `(gen, takes)` checked in the transaction
 * that records the result); a worker told that its lock could not be renewed is also aborted here at
 * once, so it stops spending on a step that is no longer its own.
 */
import type { Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobOutcome, StepJob, StepJobs } from '../engine/step-jobs.ts';

export const QUEUE_NAME = 'workflow-steps';
/** Stalled takeovers allowed by BullMQ before it gives up on a job: the engine's own limit (MAX_LOST) decides first. */
const STALLED_TAKEOVERS = 1000;

export interface StepQueueOptions {
  redisUrl: string;
  /** Prefix of every key (several installs, or test runs, on one Redis). */
  prefix: string;
  /** The job lock; renewed every lockMs / 2 while a worker works; a lost worker's step is taken over after ~1.5 × this. */
  lockMs: number;
  onError: (err: unknown) => void;
}

/** The id a step's start has in the queue: one job per start, however often it is queued. */
export const jobId = (job: StepJob) => `${job.run_id}.${job.step}.${job.gen}`;

export class StepQueue implements StepJobs {
  readonly #options: StepQueueOptions;
  #bull: typeof import('bullmq') | undefined;
  #queue: Queue | undefined;
  /** The queue's connection, ours so that a stop can ask whether Redis answers right now. */
  #redis: Redis | undefined;
  #worker: Worker | undefined;

  constructor(options: StepQueueOptions) {
    this.#options = options;
  }

  /** Loads BullMQ (only installs with several instances need it) and opens the queue. */
  async open(): Promise<void> {
    this.#bull = await import('bullmq');
    const { Redis } = await import('ioredis');
    const { redisUrl, prefix } = this.#options;
    this.#redis = new Redis(connectionOf(redisUrl));
    this.#redis.on('error', () => {}); // the queue reports the same errors once, below
    this.#queue = new this.#bull.Queue(QUEUE_NAME, {
      connection: this.#redis,
      prefix,
      defaultJobOptions: {
        // Redis keeps no history: the run's state and events in the store are the record.
        removeOnComplete: true,
        removeOnFail: true,
        // A job that failed for a passing cause (the database away) is tried again before reconcile would.
        attempts: 5,
        backoff: { type: 'exponential', delay: 1000 },
      },
    });
    this.#queue.on('error', this.#options.onError);
    // Not awaited: an instance whose Redis is away still starts, and says so on /readyz; jobs wait in
    // the client's queue until Redis answers.
    this.#queue.waitUntilReady().catch(this.#options.onError);
  }

  async enqueue(jobs: readonly StepJob[]): Promise<void> {
    if (!jobs.length) return;
    // A job id already in the queue (waiting, running, delayed) is left as it is.
    await this.#queue!.addBulk(jobs.map((job) => ({ name: 'step', data: job, opts: { jobId: jobId(job) } })));
  }

  /**
   * Starts this instance's worker: up to `concurrency` steps at once. `run` runs one job; a job handed
   * back goes to the front of the waiting jobs for another worker.
   */
  work(concurrency: number, run: (job: StepJob, signal: AbortSignal) => Promise<JobOutcome>): void {
    const bull = this.#bull!;
    const { lockMs, prefix, redisUrl, onError } = this.#options;
    const worker = new bull.Worker<StepJob>(
      QUEUE_NAME,
      async (job: Job<StepJob>, token?: string, signal?: AbortSignal) => {
        const outcome = await run(job.data, signal ?? new AbortController().signal);
        if (outcome === 'handed-back') {
          await job.moveToWait(token);
          throw new bull.WaitingError();
        }
      },
      {
        connection: connectionOf(redisUrl),
        prefix,
        concurrency,
        lockDuration: lockMs,
        stalledInterval: Math.max(500, Math.floor(lockMs / 2)),
        maxStalledCount: STALLED_TAKEOVERS,
        // Seconds a worker waits on an empty queue before asking again: short, so close() is prompt.
        drainDelay: 1,
      },
    );
    worker.on('error', onError);
    // A worker that could not renew a lock no longer holds the job (another may take it): stop spending.
    worker.on('lockRenewalFailed', (ids: string[]) => {
      for (const id of ids) {
        if (worker.cancelJob(id, 'the job lock was lost')) {
          onError(
            new Error(
              `lost the lock of job ${id} (another instance may hold it now): its step is aborted here`,
            ),
          );
        }
      }
    });
    this.#worker = worker;
  }

  /**
   * Stops taking jobs and waits for the jobs in flight to end (hand them back first to make it quick).
   * With Redis away nothing can be handed back and BullMQ's close would wait for Redis for ever: the
   * worker is closed at once and its jobs' locks lapse, so another instance takes them over.
   */
  async stopWorking(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.close(this.#redis?.status !== 'ready');
  }

  async close(): Promise<void> {
    await this.stopWorking();
    await this.#queue?.close();
    // Shared with the queue, so not closed by it.
    this.#redis?.disconnect();
  }
}

/** BullMQ's connection: its own ioredis clients, which must wait for Redis rather than fail commands. */
function connectionOf(url: string) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.username && { username: decodeURIComponent(u.username) }),
    ...(u.password && { password: decodeURIComponent(u.password) }),
    ...(u.pathname.length > 1 && { db: Number(u.pathname.slice(1)) }),
    ...(u.protocol === 'rediss:' && { tls: {} }),
    maxRetriesPerRequest: null,
  };
}
