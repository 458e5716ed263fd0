import { amountNanos, limitNanos, usdOfNanos } from '../../limits/nanos.ts';
import type { LedgerEntry } from '../../store/index.ts';
import type { RunEvent, RunRecord, StepState } from '../state.ts';
import type { EngineCore, Scheduler } from './core.ts';
import { formatNanos } from './cost-cap.ts';
import { EngineError } from './errors.ts';
import { type Live, newBatch, type StepResult, snapshot } from './live.ts';
import { RunSpans } from './run-spans.ts';
import { runStep } from './run-step.ts';
import { SharedCostCap } from './shared-cost-cap.ts';
import type { JobOutcome, StepJob, StepJobs } from './step-jobs.ts';
import { TERMINAL } from './step-state.ts';
import { StoredWaiters } from './stored-waiters.ts';

/** A step's workers may be lost at most once: it runs once, and once more after its worker was lost. */
export const MAX_LOST = 2;
/** The reason a step is aborted when its instance drains: the job goes back to the queue. */
const HANDED_BACK = new Error('handed back: this instance is draining');

/** A step this instance's worker is running. */
interface Held {
  run: string;
  step: string;
  gen: number;
  take: number;
  controller: AbortController;
}

const heldKey = (run: string, step: string) => `${run}\u0000${step}`;

/**
 * Several instances on one store: a ready step becomes a job that any instance's worker takes
 * (`runJob`), under a fencing token `(gen, takes)` checked in the transaction that records its result.
 * Callers of `wait` and the steps running here learn of other instances' changes through the store's
 * notifications (`notice`); `reconcile` repairs what a dead instance left half done.
 */
export class JobSteps implements Scheduler {
  readonly #core: EngineCore;
  readonly #jobs: StepJobs;
  /** Steps this instance's worker runs, by `run\0step`. */
  readonly #held = new Map<string, Held>();
  readonly #waiters = new StoredWaiters();
  readonly #spans: RunSpans;
  #draining: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(core: EngineCore, jobs: StepJobs) {
    this.#core = core;
    this.#jobs = jobs;
    this.#spans = new RunSpans(core.instance);
  }

  admit(_live: Live, _name: string, state: StepState): boolean {
    // A new start of the step: its job is `<run>:<step>:<gen>`, and no worker has taken it yet.
    state.gen = (state.gen ?? 0) + 1;
    state.takes = 0;
    state.handed = 0;
    delete state.worker;
    return true;
  }

  /** Queues the jobs of steps just started (a failure is repaired by `reconcile`). */
  async launch(live: Live, names: string[]): Promise<void> {
    if (!names.length) return;
    // The steps go under the run's span: the one open here or a job's here, else a new stretch's.
    const trace = this.#spans.forLaunch(live);
    const jobs = names.map((step) => ({
      run_id: live.run.id,
      step,
      gen: live.run.steps[step]!.gen ?? 1,
      ...(trace !== undefined && { trace }),
    }));
    try {
      await this.#jobs.enqueue(jobs);
    } catch (err) {
      this.#core.onError(err, live.run.id);
    }
  }

  written(live: Live, _events: RunEvent[]): void {
    this.#checkHeld(live.run);
    this.#spans.settle(live.run);
  }

  /**
   * Runs one job the queue handed this instance: takes the step if the job is still its present start
   * (a new fencing token, written over the version read), runs it, and records the result only if the
   * token is still the step's in the transaction that writes it. A step whose workers were lost
   * `MAX_LOST` times fails instead of running a third time. `signal` aborts when the queue cancels the
   * job (its lock was lost); `drain()` hands it back.
   */
  async runJob(job: StepJob, signal: AbortSignal): Promise<JobOutcome> {
    if (this.#draining) return 'handed-back';
    const core = this.#core;
    let live: Live;
    try {
      live = await core.load(job.run_id);
    } catch (err) {
      if (err instanceof EngineError && err.code === 'not_found') return 'done';
      throw err;
    }
    live.busy++; // kept while the step runs here, so changes of it queue behind one another
    try {
      const claim = await core.locked(live, () => this.#claim(live, job));
      if (!claim) return 'done';
      const trace = job.trace ?? this.#spans.traceOf(job.run_id);
      const used = trace === undefined ? undefined : this.#spans.borrow(job.run_id, trace);
      try {
        return await this.#runClaimed(live, job, claim, signal, trace);
      } finally {
        used?.();
      }
    } finally {
      core.release(live);
    }
  }

  /** Takes the step for this worker (a new token), or null when the job is no longer the step's start. */
  async #claim(live: Live, job: StepJob): Promise<{ take: number; run: RunRecord } | null> {
    const core = this.#core;
    const name = job.step;
    const state = live.dag.has(name) ? live.run.steps[name] : undefined;
    if (state?.status !== 'running' || state.gen !== job.gen || TERMINAL.has(live.run.status)) {
      return null;
    }
    const batch = newBatch();
    batch.steps.add(name);
    const takes = state.takes ?? 0;
    // Takes that ended neither in a result nor handed back by a draining instance: workers lost.
    const lost = takes - (state.handed ?? 0);
    if (lost >= MAX_LOST) {
      const error = `its worker was lost ${lost} times (the instance running it died or stalled past its lock)`;
      Object.assign(state, { status: 'failed', error, ended_at: core.now() });
      batch.events.push({ type: 'step.failed', step: name, data: { error } });
      await core.failRun(live, batch, `step "${name}" failed: ${error}`);
      return null;
    }
    const take = takes + 1;
    state.takes = take;
    state.worker = core.instance;
    if (take > 1) {
      batch.events.push({ type: 'step.started', step: name, data: { take, worker: core.instance } });
    }
    await core.flush(live, batch);
    if (take > 1) {
      const why = lost > 0 ? 'its worker was lost' : 'its worker handed it back';
      core.onNotice(`workflow step taken over (${why})`, { run_id: live.run.id, step: name, take });
    }
    return { take, run: snapshot(live.run) };
  }

  async #runClaimed(
    live: Live,
    job: StepJob,
    claim: { take: number; run: RunRecord },
    signal: AbortSignal,
    trace: string | undefined,
  ): Promise<JobOutcome> {
    const core = this.#core;
    const { run, take } = claim;
    const name = job.step;
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    const key = heldKey(run.id, name);
    const held: Held = { run: run.id, step: name, gen: job.gen, take, controller };
    this.#held.set(key, held);
    if (this.#draining) controller.abort(HANDED_BACK); // taken while the drain began
    /** The change is of this start and this take: the fencing check, made in the change's own transaction. */
    const ours = () => {
      const now = live.run.steps[name];
      return now?.status === 'running' && now.gen === job.gen && now.takes === take;
    };
    const max = live.definition.max_cost_usd;
    let result: StepResult;
    try {
      result = await runStep({
        run,
        name,
        step: live.definition.steps[name]!,
        runner: core.runner,
        signal: controller.signal,
        parent: trace,
        take,
        worker: core.instance,
        // Held on the run's row: the run's other steps may be calling on other instances right now.
        cap:
          max === undefined
            ? undefined
            : new SharedCostCap(core.store.workflows, run.id, max, run.cost_usd, (err) =>
                core.onError(err, run.id),
              ),
        schemaCompiler: core.schemaCompiler,
        maxPromptBytes: core.maxTemplateBytes,
        onCost: (usd, ledger) => this.#spend(live, name, usd, ledger),
        onIteration: (verdict) =>
          core.locked(live, async () => {
            if (!ours() || TERMINAL.has(live.run.status)) return;
            const batch = newBatch();
            batch.events.push({ type: 'step.iteration', step: name, data: verdict });
            await core.flush(live, batch);
          }),
      });
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (this.#held.get(key) === held) this.#held.delete(key);
    }
    // Aborted: someone else decided (a cancel, a correction, a lost lock, a drain); nothing to record.
    if (controller.signal.aborted && controller.signal.reason === HANDED_BACK) {
      // A take handed back is no lost worker: the next take does not count against MAX_LOST.
      await core
        .locked(live, async () => {
          if (!ours()) return;
          const now = live.run.steps[name]!;
          now.handed = (now.handed ?? 0) + 1;
          const batch = newBatch();
          batch.steps.add(name);
          await core.flush(live, batch);
        })
        .catch((err) => core.onError(err, run.id));
      return 'handed-back';
    }
    if (controller.signal.aborted) return 'done';
    await core.locked(live, async () => {
      const current = ours();
      const now = live.run.steps[name];
      // Refused by the fence: the same start of the step was taken by a later worker.
      if (!current && now?.gen === job.gen && (now.takes ?? 0) > take) {
        core.onNotice('stale workflow step result refused: another worker holds the step now', {
          run_id: run.id,
          step: name,
          take,
          holder_take: now.takes,
        });
      }
      await core.finish(live, name, current, result);
    });
    return 'done';
  }

  /**
   * A call's spend, written at once with its ledger rows in one transaction (so the ledger and the
   * run's cost agree even if this instance dies next); over `max_cost_usd` it fails the run.
   */
  async #spend(live: Live, name: string, usd: number, ledger: LedgerEntry[] | undefined): Promise<void> {
    const core = this.#core;
    const nanos = amountNanos(usd);
    if (nanos <= 0 && !ledger?.length) return;
    try {
      await core.locked(live, async () => {
        const state = live.run.steps[name]!;
        const batch = newBatch();
        if (ledger?.length) batch.ledger = ledger;
        if (nanos > 0) {
          state.cost_usd = usdOfNanos(amountNanos(state.cost_usd) + nanos);
          live.run.cost_usd = usdOfNanos(amountNanos(live.run.cost_usd) + nanos);
          live.unpersisted = usdOfNanos(nanos);
          batch.steps.add(name);
        }
        const max = live.definition.max_cost_usd;
        const total = amountNanos(live.run.cost_usd);
        if (max === undefined || TERMINAL.has(live.run.status) || total <= limitNanos(max)) {
          return core.flush(live, batch);
        }
        const error = `max_cost_usd ${formatNanos(limitNanos(max))} exceeded: spent ${formatNanos(total)}`;
        if (state.status === 'running') {
          Object.assign(state, { status: 'failed', error, ended_at: core.now() });
          batch.events.push({ type: 'step.failed', step: name, data: { error } });
        }
        await core.failRun(live, batch, error);
      });
    } catch (err) {
      // Not written with the run: the rows still reach the ledger (the run's cost misses this call).
      for (const row of ledger ?? []) core.ledger?.append(row);
      core.onError(err, live.run.id);
    }
  }

  /** Aborts the steps this instance runs for `run` that are no longer theirs to finish (other token or state). */
  #checkHeld(run: RunRecord): void {
    for (const held of this.#held.values()) {
      if (held.run !== run.id) continue;
      const state = run.steps[held.step];
      if (state?.status === 'running' && state.gen === held.gen && state.takes === held.take) continue;
      if (held.controller.signal.aborted) continue;
      if (state?.gen === held.gen && (state.takes ?? 0) > held.take) {
        // Taken over while this worker still ran it (its lock lapsed: frozen, or cut off from Redis).
        this.#core.onNotice('workflow step taken over by another worker: its call here is aborted', {
          run_id: run.id,
          step: held.step,
          take: held.take,
          holder_take: state.takes,
        });
      }
      held.controller.abort(new Error('superseded'));
    }
  }

  /** Whether this instance cares about the run's events (steps it runs, callers waiting). */
  interested(runId: string): boolean {
    if (this.#waiters.has(runId) || this.#spans.has(runId)) return true;
    for (const held of this.#held.values()) if (held.run === runId) return true;
    return false;
  }

  /**
   * The store committed these events of the run (any instance's). Steps running here that the change
   * took away are aborted; callers of `wait` are answered once the run settles.
   */
  notice(runId: string, events: readonly RunEvent[]): void {
    if (!this.interested(runId)) return;
    const settling = events.some((e) => e.type.startsWith('run.') || e.type === 'step.waiting');
    const holds = [...this.#held.values()].some((h) => h.run === runId);
    if (!holds && !settling) return;
    this.#core.store.workflows
      .getRun(runId)
      .then((run) => {
        if (!run) return;
        this.#checkHeld(run);
        this.#spans.settle(run);
        this.#waiters.seen(run);
      })
      .catch((err) => this.#core.onError(err, runId));
  }

  /** `wait` answered from the store's notifications (and a look now and then). */
  wait(runId: string, get: (runId: string) => Promise<RunRecord>): Promise<RunRecord> {
    return this.#waiters.wait(runId, get);
  }

  /** Looks at the runs callers wait for and whose span is open here (in case a notification was missed). */
  async recheckWaiters(): Promise<void> {
    for (const runId of new Set([...this.#waiters.runs(), ...this.#spans.runs()])) {
      const run = await this.#core.store.workflows.getRun(runId);
      if (!run) continue;
      this.#spans.settle(run);
      this.#waiters.seen(run);
    }
  }

  /**
   * Now and then on every instance: queues again the job of every step the store says is running (a
   * no-op for jobs still queued or running; repairs an instance that died between writing a step's
   * start and queueing its job), starts runs left `pending` for longer than `settleMs`, and re-runs
   * steps a single-instance engine left running. Returns the runs it started or repaired.
   */
  async reconcile(settleMs = 0): Promise<string[]> {
    const core = this.#core;
    const ids: string[] = [];
    const jobs: StepJob[] = [];
    for (const run of await core.store.workflows.unfinishedRuns()) {
      let repair = run.status === 'pending' && run.created_at <= core.now() - settleMs;
      for (const [step, state] of Object.entries(run.steps)) {
        if (state.status !== 'running') continue;
        if (state.gen === undefined) repair = true;
        else jobs.push({ run_id: run.id, step, gen: state.gen });
      }
      if (!repair) continue;
      try {
        const live = await core.load(run.id);
        // Only steps a single-instance engine left running: a job's step is its worker's.
        await core.locked(live, () => core.restart(live, (state) => state.gen === undefined));
        ids.push(run.id);
      } catch (err) {
        core.onError(err, run.id);
      }
    }
    if (jobs.length) await this.#jobs.enqueue(jobs);
    return ids;
  }

  /**
   * This instance stops taking steps and hands back the ones it runs — each is aborted (its spend so
   * far stays recorded) and its job goes back to the queue, where another instance takes it at once.
   * Resolves once they are all back.
   */
  drain(): Promise<void> {
    this.#draining ??= (async () => {
      // The worker stops fetching first, so nothing new starts between the abort and the stop.
      const stopped = this.#jobs.stopWorking?.();
      for (const held of this.#held.values()) held.controller.abort(HANDED_BACK);
      await stopped;
    })();
    return this.#draining;
  }

  /** `drain()`, then lets go of the queue and the store's notifications. */
  async close(): Promise<void> {
    await this.drain();
    this.#spans.close();
    this.#closing ??= this.#jobs.close?.() ?? Promise.resolve();
    return this.#closing;
  }
}
