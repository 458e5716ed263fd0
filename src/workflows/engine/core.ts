import { isVersionConflict, type LedgerEntry, type Store } from '../../store/index.ts';
import type { Dag, SchemaCompiler, WorkflowDefinition } from '../definition/index.ts';
import type { RunEvent, RunRecord, StepState } from '../state.ts';
import { CostCap } from './cost-cap.ts';
import { Definitions, renderOutputs } from './definitions.ts';
import { EngineError } from './errors.ts';
import { type Batch, type Live, newBatch, type StepResult } from './live.ts';
import type { StepRunner } from './runner.ts';
import type { StepJobs } from './step-jobs.ts';
import { freshStep, resetStep, TERMINAL } from './step-state.ts';

/** A change that keeps losing the race for the run's version gives up after this many reads. */
const MAX_CONFLICTS = 50;

/** What differs between the in-process scheduler and steps run as jobs by several instances. */
export interface Scheduler {
  /** A ready step is about to be written as running: false when it must wait for a free slot. */
  admit(live: Live, name: string, state: StepState): boolean;
  /** The steps just written as running start (in-process) or are queued (jobs). */
  launch(live: Live, names: string[]): Promise<void>;
  /** A change of the run was written, with these events. */
  written(live: Live, events: RunEvent[]): void;
}

export interface CoreOptions {
  store: Pick<Store, 'workflows'>;
  runner: StepRunner;
  now: () => number;
  onError: (err: unknown, runId: string) => void;
  schemaCompiler: SchemaCompiler | undefined;
  maxTemplateBytes: number;
  jobs: StepJobs | undefined;
  instance: string;
  ledger: { append(row: LedgerEntry): void } | undefined;
  onNotice: (message: string, fields: Record<string, unknown>) => void;
}

/**
 * The runs the engine works on and every change of them: each change of a run is serialised by a
 * per-run lock and written with its events in one `transition`, so the store is always the truth to
 * resume from after a crash. With several instances (`jobs`), each change reads the run, decides, and
 * writes only over the version it read (else reads again and decides again).
 */
export class EngineCore {
  readonly store: Pick<Store, 'workflows'>;
  readonly runner: StepRunner;
  readonly now: () => number;
  readonly onError: (err: unknown, runId: string) => void;
  readonly schemaCompiler: SchemaCompiler | undefined;
  readonly maxTemplateBytes: number;
  readonly jobs: StepJobs | undefined;
  readonly instance: string;
  readonly ledger: CoreOptions['ledger'];
  readonly onNotice: CoreOptions['onNotice'];
  readonly definitions: Definitions;
  readonly runs = new Map<string, Live>();
  readonly #loading = new Map<string, Promise<Live>>();
  /** Set once by the engine: in-process or jobs. */
  scheduler!: Scheduler;

  constructor(options: CoreOptions) {
    this.store = options.store;
    this.runner = options.runner;
    this.now = options.now;
    this.onError = options.onError;
    this.schemaCompiler = options.schemaCompiler;
    this.maxTemplateBytes = options.maxTemplateBytes;
    this.jobs = options.jobs;
    this.instance = options.instance;
    this.ledger = options.ledger;
    this.onNotice = options.onNotice;
    this.definitions = new Definitions((id) => this.store.workflows.getWorkflow(id), this.schemaCompiler);
  }

  // ---- the run's lock and copy -----------------------------------------------------------------

  locked<T>(live: Live, fn: () => Promise<T>): Promise<T> {
    if (!this.jobs) {
      const next = live.lock.then(fn);
      live.lock = next.catch(() => {});
      return next;
    }
    live.busy++;
    const next = live.lock.then(() => this.#fresh(live, fn));
    live.lock = next.catch(() => {});
    const release = () => this.release(live);
    next.then(release, release);
    return next;
  }

  /** Several instances: this copy of the run is let go once nothing here uses it. */
  release(live: Live): void {
    if (--live.busy === 0 && this.runs.get(live.run.id) === live) this.runs.delete(live.run.id);
  }

  /**
   * Several instances: runs `fn` on the run as the store has it now; when another instance changed the
   * run before `fn`'s change was written, reads it again and runs `fn` again (its side effects all
   * come after the write: jobs queued, workers aborted).
   */
  async #fresh<T>(live: Live, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const run = await this.store.workflows.getRun(live.run.id);
      if (!run) throw new EngineError('not_found', `run "${live.run.id}" not found`);
      for (const name of live.dag.order) run.steps[name] ??= freshStep();
      live.run = run;
      live.unpersisted = 0;
      try {
        return await fn();
      } catch (err) {
        if (!isVersionConflict(err) || attempt >= MAX_CONFLICTS) throw err;
      }
    }
  }

  track(run: RunRecord, definition: WorkflowDefinition, dag: Dag): Live {
    const live: Live = {
      run,
      definition,
      dag,
      controllers: new Map(),
      generation: new Map(),
      unpersisted: 0,
      cap:
        definition.max_cost_usd === undefined
          ? undefined
          : new CostCap(definition.max_cost_usd, run.cost_usd),
      lock: Promise.resolve(),
      waiters: [],
      busy: 0,
    };
    this.runs.set(run.id, live);
    return live;
  }

  /** The live run, or the stored one brought into memory (once, even under concurrent calls). */
  async load(runId: string, known?: RunRecord): Promise<Live> {
    const live = this.runs.get(runId);
    if (live) return live;
    let loading = this.#loading.get(runId);
    if (!loading) {
      loading = (async () => {
        const run = known ?? (await this.store.workflows.getRun(runId));
        if (!run) throw new EngineError('not_found', `run "${runId}" not found`);
        const { definition, dag } = await this.definitions.of(run.workflow_id);
        for (const name of dag.order) run.steps[name] ??= freshStep();
        return this.runs.get(runId) ?? this.track(run, definition, dag);
      })().finally(() => this.#loading.delete(runId));
      this.#loading.set(runId, loading);
    }
    return loading;
  }

  step(live: Live, step: string): StepState {
    const state = Object.hasOwn(live.run.steps, step) ? live.run.steps[step] : undefined;
    if (!state || !live.dag.has(step)) throw new EngineError('not_found', `step "${step}" not found`);
    return state;
  }

  // ---- scheduling ------------------------------------------------------------------------------

  /** Steps left `running` (those `which` picks) back to pending, a pending run started; then advance. */
  async restart(live: Live, which: (state: StepState) => boolean): Promise<void> {
    const batch = newBatch();
    for (const [name, state] of Object.entries(live.run.steps)) {
      if (state.status !== 'running' || !which(state)) continue;
      resetStep(state, { feedback: state.feedback, keepLoops: true });
      batch.steps.add(name);
    }
    if (live.run.status === 'pending') {
      batch.run.status = 'running';
      batch.events.push({ type: 'run.started', data: { workflow_id: live.run.workflow_id } });
    }
    await this.advance(live, batch);
  }

  /**
   * Starts every ready step (approvals go `waiting`), derives the run's status, writes the batch, and
   * launches the started steps. Called under the run's lock.
   */
  async advance(live: Live, batch: Batch): Promise<void> {
    if (TERMINAL.has(live.run.status)) return this.flush(live, batch);
    const { steps } = live.run;
    const failed = live.dag.order.find((name) => steps[name]!.status === 'failed');
    if (failed) return this.failRun(live, batch, `step "${failed}" failed: ${steps[failed]!.error}`);

    const launch: string[] = [];
    let blocked = false;
    for (const name of live.dag.order) {
      const state = steps[name]!;
      if (state.status !== 'pending') continue;
      if (!live.dag.parents(name).every((p) => steps[p]!.status === 'succeeded')) continue;
      const definition = live.definition.steps[name]!;
      if (definition.type === 'approval') {
        state.status = 'waiting';
        state.started_at = this.now();
        batch.steps.add(name);
        batch.events.push({
          type: 'step.waiting',
          step: name,
          ...(definition.description && { data: { description: definition.description } }),
        });
        continue;
      }
      if (!this.scheduler.admit(live, name, state)) {
        blocked = true; // a freed slot advances this run again
        continue;
      }
      Object.assign(state, {
        status: 'running',
        attempts: 0,
        iterations: 0,
        started_at: this.now(),
        ended_at: null,
        error: null,
      });
      batch.steps.add(name);
      batch.events.push({ type: 'step.started', step: name });
      launch.push(name);
    }

    const all = Object.values(steps);
    if (all.some((s) => s.status === 'running') || blocked) {
      if (live.run.status !== 'running') batch.run.status = 'running';
    } else if (all.some((s) => s.status === 'waiting')) {
      if (live.run.status !== 'waiting') batch.run.status = 'waiting';
    } else if (all.every((s) => s.status === 'succeeded')) {
      const outputs = renderOutputs(live.definition, live.run, this.maxTemplateBytes);
      if (!outputs.ok) return this.failRun(live, batch, outputs.error);
      batch.run.status = 'succeeded';
      batch.run.outputs = outputs.value;
      batch.events.push({ type: 'run.succeeded', data: { outputs: outputs.value } });
    } else {
      return this.failRun(live, batch, 'no step can run: some needs never succeeded');
    }
    await this.flush(live, batch);
    await this.scheduler.launch(live, launch);
  }

  /**
   * Records a step's result. `current`: the result is of the step's present start (its generation here;
   * with several instances, the fencing token `(gen, takes)` read in this very change).
   */
  async finish(live: Live, name: string, current: boolean, result: StepResult): Promise<void> {
    const state = live.run.steps[name]!;
    // Superseded (reset, edited, cancelled) or the run already ended: nothing to record but cost.
    if (!current || state.status !== 'running' || TERMINAL.has(live.run.status)) {
      if (live.unpersisted > 0 && !TERMINAL.has(live.run.status)) await this.flush(live, newBatch());
      return;
    }
    const batch = newBatch();
    batch.steps.add(name);
    state.ended_at = this.now();
    if (!result.ok) {
      state.status = 'failed';
      state.error = result.error;
      batch.events.push({
        type: 'step.failed',
        step: name,
        data: { error: result.error, attempts: state.attempts },
      });
      return this.failRun(live, batch, `step "${name}" failed: ${result.error}`);
    }
    const { outcome } = result;
    Object.assign(state, {
      status: 'succeeded',
      output: outcome.output,
      attempts: outcome.attempts,
      iterations: outcome.iterations,
    });
    state.history.push({
      output: outcome.output,
      source: 'model',
      at: state.ended_at,
      cost_usd: state.cost_usd,
    });
    const data: Record<string, unknown> = {
      cost_usd: state.cost_usd,
      attempts: outcome.attempts,
      iterations: outcome.iterations,
      ...(outcome.score !== undefined && { score: outcome.score }),
      ...(outcome.exhausted && { exhausted: true }),
    };
    const backTo = live.definition.steps[name]!.back_to;
    if (outcome.revise && backTo && state.loops < backTo.max_loops) {
      // Go back: the target gets the feedback; it and everything between re-run (this step included).
      const loops = state.loops + 1;
      const between = live.dag.between(backTo.step, name);
      for (const step of between) {
        this.abort(live, step);
        resetStep(live.run.steps[step]!, { keepLoops: true });
        batch.steps.add(step);
      }
      live.run.steps[backTo.step]!.feedback = outcome.revise.feedback;
      state.loops = loops;
      Object.assign(data, { back_to: backTo.step, loop: loops, feedback: outcome.revise.feedback });
    }
    batch.events.push({ type: 'step.succeeded', step: name, data });
    await this.advance(live, batch);
  }

  /** Fails the run: in-flight calls aborted, what has not finished is skipped. */
  async failRun(live: Live, batch: Batch, error: string): Promise<void> {
    for (const [name, state] of Object.entries(live.run.steps)) {
      if (state.status === 'running' || state.status === 'pending' || state.status === 'waiting') {
        this.abort(live, name);
        state.status = 'skipped';
        batch.steps.add(name);
      }
    }
    batch.run.status = 'failed';
    batch.run.error = error;
    batch.events.push({ type: 'run.failed', data: { error } });
    await this.flush(live, batch);
  }

  /** Steps back to pending for a person's re-run; the run is running again. */
  reopen(live: Live, names: string[]): Batch {
    const batch = newBatch();
    for (const name of names) {
      this.abort(live, name);
      resetStep(live.run.steps[name]!);
      batch.steps.add(name);
    }
    // Applied at once (not only at flush) so the advance that follows sees a live run.
    if (live.run.status !== 'running') batch.run.status = live.run.status = 'running';
    if (live.run.error !== null) batch.run.error = live.run.error = null;
    if (live.run.outputs !== null) batch.run.outputs = live.run.outputs = null;
    if (!this.runs.has(live.run.id)) this.runs.set(live.run.id, live);
    return batch;
  }

  /** Aborts a step's in-flight call (if any); its late result is ignored. */
  abort(live: Live, name: string): void {
    // Several instances: the step may run anywhere; each worker aborts its own once the change is
    // written (JobSteps.checkHeld, here and on a notice from the store).
    if (this.jobs) return;
    const controller = live.controllers.get(name);
    if (!controller) return;
    live.generation.set(name, (live.generation.get(name) ?? 0) + 1);
    live.controllers.delete(name);
    controller.abort(new Error('aborted'));
  }

  // ---- persistence -----------------------------------------------------------------------------

  /** Writes the batch (and any unwritten cost) in one transition, then tells listeners and waiters. */
  async flush(live: Live, batch: Batch): Promise<void> {
    if (live.unpersisted > 0) batch.run.addCostUsd = live.unpersisted;
    const hasRun = Object.keys(batch.run).length > 0;
    if (!hasRun && batch.steps.size === 0 && batch.events.length === 0) return;
    const { addCostUsd: _, ...fields } = batch.run;
    Object.assign(live.run, fields);
    const steps: Record<string, StepState> = {};
    for (const name of batch.steps) steps[name] = live.run.steps[name]!;
    live.unpersisted = 0;
    const change = { run: batch.run, steps, events: batch.events };
    if (this.jobs) {
      await this.store.workflows.transition(live.run.id, change, {
        expectVersion: live.run.version ?? 0,
        notify: true,
        ...(batch.ledger && { ledger: batch.ledger }),
      });
      live.run.version = (live.run.version ?? 0) + 1;
      live.run.updated_at = this.now();
      // Events reach listeners (here too) through the store's notifications, in commit order.
      this.scheduler.written(live, []);
      return;
    }
    const events = await this.store.workflows.transition(live.run.id, change);
    live.run.updated_at = this.now();
    this.scheduler.written(live, events);
  }
}
