import { hostname } from 'node:os';
import { amountNanos, limitNanos, usdOfNanos } from '../../limits/nanos.ts';
import { isVersionConflict, type LedgerEntry, type Store } from '../../store/index.ts';
import type { NewRunEvent, RunChange } from '../../store/workflows.ts';
import { failSpan, type Span, tracer, withSpan } from '../../telemetry/index.ts';
import {
  type Dag,
  inputExpansionExceeds,
  renderValue,
  resolveInputs,
  type SchemaCompiler,
  validateDefinition,
  type WorkflowDefinition,
} from '../definition/index.ts';
import type { RunEvent, RunRecord, StepState } from '../state.ts';
import { CostCap, formatNanos } from './cost-cap.ts';
import { EngineError } from './errors.ts';
import { executeStep, type StepOutcome } from './execute-step.ts';
import type { StepRunner } from './runner.ts';
import type { JobOutcome, StepJob, StepJobs } from './step-jobs.ts';
import { freshStep, isSettled, resetStep, TERMINAL } from './step-state.ts';

/**
 * The workflow engine. Event-driven: whenever something changes (a step ends, a person
 * acts, a slot frees) the run is "advanced" — every pending step whose needs all succeeded starts at
 * once, up to `concurrency` model calls across the engine. Each change of a run is serialised by a
 * per-run lock and written with its events in one `transition`, so the store is always the truth to
 * resume from after a crash.
 *
 * With several instances on one store (`jobs`), the same decisions are made from the store's state
 * instead of memory: each change reads the run, decides, and writes only over the version it read
 * (else reads again and decides again); a ready step becomes a job that any instance's worker takes
 * (`runJob`), under a fencing token `(gen, takes)` checked in the transaction that records its result.
 */

export interface EngineOptions {
  store: Pick<Store, 'workflows'>;
  runner: StepRunner;
  /** Model steps in flight at once, across all runs (default 4). */
  concurrency?: number;
  /** Clock for step timestamps (epoch ms). */
  now?: () => number;
  /** Every event once stored, in order (SSE fan-out, CLI progress). */
  onEvent?: (event: RunEvent) => void;
  /** Background failures (a store write failing in the middle of a run). */
  onError?: (err: unknown, runId: string) => void;
  schemaCompiler?: SchemaCompiler;
  /**
   * The most UTF-8 bytes a run's inputs (as JSON) and each step's rendered messages and each run output
   * may have — the gateway's `server.max_body_bytes` (default 10 MiB), so a template never sends
   * upstream more than a client could have sent itself.
   */
  maxTemplateBytes?: number;
  /**
   * Several instances on one store: ready steps become jobs of this queue, taken by any instance's
   * worker (`runJob`); events reach listeners through the store's notifications (`notice`), not `onEvent`.
   */
  jobs?: StepJobs;
  /** Several instances: this instance's name in step states and events (default `host:pid`). */
  instance?: string;
  /** Several instances: where a step's ledger rows go when they cannot be written with the run. */
  ledger?: { append(row: LedgerEntry): void };
  /** Several instances: things an operator wants in the log (a step taken over, a stale result refused). */
  onNotice?: (message: string, fields: Record<string, unknown>) => void;
}

/** A step's workers may be lost at most once: it runs once, and once more after its worker was lost. */
export const MAX_LOST = 2;
/** A change that keeps losing the race for the run's version gives up after this many reads. */
const MAX_CONFLICTS = 50;
/** Parsed definitions kept (ids are immutable: a definition never changes under its id). */
const DEFINITIONS_KEPT = 500;
/** The reason a step is aborted when its instance drains: the job goes back to the queue. */
const HANDED_BACK = new Error('handed back: this instance is draining');

/** The config default of `server.max_body_bytes`. */
const DEFAULT_MAX_TEMPLATE_BYTES = 10 * 1024 * 1024;

export interface StartOptions {
  team: string;
  key_id?: string | null;
  idempotency_key?: string | null;
}

/** What a person decides on an approval step. */
export interface Approval {
  approved: boolean;
  comment?: string;
}

interface Live {
  run: RunRecord;
  definition: WorkflowDefinition;
  dag: Dag;
  /** In-flight steps and their abort controllers. */
  controllers: Map<string, AbortController>;
  /** Bumped when a step is started, reset or aborted: a result from an older generation is ignored. */
  generation: Map<string, number>;
  /** Cost spent since the last transition (written with the next one). */
  unpersisted: number;
  /** `max_cost_usd`, held call by call by the runner; absent when the definition has none. */
  cap?: CostCap | undefined;
  lock: Promise<unknown>;
  waiters: ((run: RunRecord) => void)[];
  /** `workflow.run {name}`: open while the run is running here (ended when it ends or waits). */
  span?: Span | undefined;
  /** Several instances: operations queued or running on this copy, and jobs it runs (kept while > 0). */
  busy: number;
}

/** A step this instance's worker is running (several instances). */
interface Held {
  run: string;
  step: string;
  gen: number;
  take: number;
  controller: AbortController;
}

/** What one transition will write: the steps that changed, the run fields, the events. */
interface Batch {
  steps: Set<string>;
  run: NonNullable<RunChange['run']>;
  events: NewRunEvent[];
  /** Ledger rows written with the change (a step's spend, several instances). */
  ledger?: LedgerEntry[];
}

const newBatch = (): Batch => ({ steps: new Set(), run: {}, events: [] });

export class Engine {
  readonly #store: Pick<Store, 'workflows'>;
  readonly #runner: StepRunner;
  readonly #concurrency: number;
  readonly #now: () => number;
  readonly #onEvent: EngineOptions['onEvent'];
  readonly #onError: NonNullable<EngineOptions['onError']>;
  readonly #schemaCompiler: SchemaCompiler | undefined;
  readonly #maxTemplateBytes: number;
  readonly #runs = new Map<string, Live>();
  readonly #loading = new Map<string, Promise<Live>>();
  #active = 0;
  readonly #jobs: StepJobs | undefined;
  readonly #instance: string;
  readonly #ledger: EngineOptions['ledger'];
  readonly #onNotice: NonNullable<EngineOptions['onNotice']>;
  readonly #definitions = new Map<string, { definition: WorkflowDefinition; dag: Dag }>();
  /** Several instances: steps this instance's worker runs, by `run\0step`. */
  readonly #held = new Map<string, Held>();
  /** Several instances: callers of `wait`, by run. */
  readonly #waiting = new Map<string, Set<(run: RunRecord) => void>>();
  #draining: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: EngineOptions) {
    this.#store = options.store;
    this.#runner = options.runner;
    this.#concurrency = Math.max(1, options.concurrency ?? 4);
    this.#now = options.now ?? Date.now;
    this.#onEvent = options.onEvent;
    this.#onError = options.onError ?? ((err) => console.error('workflow engine:', err));
    this.#schemaCompiler = options.schemaCompiler;
    this.#maxTemplateBytes = options.maxTemplateBytes ?? DEFAULT_MAX_TEMPLATE_BYTES;
    this.#jobs = options.jobs;
    this.#instance = options.instance ?? `${hostname()}:${process.pid}`;
    this.#ledger = options.ledger;
    this.#onNotice = options.onNotice ?? (() => {});
  }

  /** True when steps run as jobs shared by several instances. */
  get distributed(): boolean {
    return this.#jobs !== undefined;
  }

  // ---- public API ------------------------------------------------------------------------------

  /**
   * Creates a run and starts it; returns it as it is once its first steps have started. With an
   * idempotency key already used by the team, returns that run untouched. Throws EngineError
   * `not_found` (workflow) or `invalid` (inputs, with problems).
   */
  async start(workflowId: string, inputs: unknown, options: StartOptions): Promise<RunRecord> {
    const workflow = await this.#store.workflows.getWorkflow(workflowId);
    if (!workflow) throw new EngineError('not_found', `workflow "${workflowId}" not found`);
    const { definition, dag } = this.#parse(workflow.definition, workflowId);
    const resolved = resolveInputs(definition, inputs);
    if (!resolved.ok) throw new EngineError('invalid', 'invalid inputs', resolved.problems);
    this.#checkExpansion(definition, resolved.inputs);
    const { run, created } = await this.#store.workflows.createRun({
      workflow_id: workflowId,
      inputs: resolved.inputs,
      team: options.team,
      key_id: options.key_id ?? null,
      idempotency_key: options.idempotency_key ?? null,
      steps: Object.fromEntries(dag.order.map((name) => [name, freshStep()])),
    });
    if (!created) return this.get(run.id);
    const live = this.#track(run, definition, dag);
    await this.#locked(live, async () => {
      if (live.run.status !== 'pending') return; // another instance's reconciler started it
      const batch = newBatch();
      batch.run.status = 'running';
      batch.events.push({ type: 'run.started', data: { workflow_id: workflowId } });
      await this.#advance(live, batch);
    });
    return snapshot(live.run);
  }

  /** The run as the engine knows it (live state when it is running here, else the store's). */
  async get(runId: string): Promise<RunRecord> {
    // Several instances: the store is the truth (a copy here may be one change behind).
    const live = this.#jobs ? undefined : this.#runs.get(runId);
    if (live) return snapshot(live.run);
    const run = await this.#store.workflows.getRun(runId);
    if (!run) throw new EngineError('not_found', `run "${runId}" not found`);
    return run;
  }

  /** Resolves when the run has ended or waits for a person (`?wait=true`). */
  async wait(runId: string): Promise<RunRecord> {
    if (this.#jobs) return this.#waitStored(runId);
    const live = this.#runs.get(runId);
    if (!live || isSettled(live.run.status)) return this.get(runId);
    return new Promise((resolve) => live.waiters.push(resolve));
  }

  /** Releases an approval step: approved → succeeded (`{approved: true, comment}`), else it fails the run. */
  async approve(runId: string, step: string, approval: Approval): Promise<RunRecord> {
    const live = await this.#load(runId);
    return this.#locked(live, async () => {
      const state = this.#step(live, step);
      if (live.definition.steps[step]!.type !== 'approval' || state.status !== 'waiting') {
        throw new EngineError('conflict', `step "${step}" is not an approval waiting for a person`);
      }
      const batch = newBatch();
      const at = this.#now();
      const comment = approval.comment;
      state.ended_at = at;
      batch.steps.add(step);
      if (approval.approved) {
        state.status = 'succeeded';
        state.output = { approved: true, ...(comment !== undefined && { comment }) };
        state.history.push({ output: state.output, source: 'person', at, ...(comment && { comment }) });
        batch.events.push({ type: 'step.succeeded', step, data: { approved: true } });
        await this.#advance(live, batch);
      } else {
        state.status = 'failed';
        state.error = comment ? `not approved: ${comment}` : 'not approved';
        state.history.push({
          output: { approved: false },
          source: 'person',
          at,
          ...(comment && { comment }),
        });
        batch.events.push({ type: 'step.failed', step, data: { error: state.error, approved: false } });
        await this.#failRun(live, batch, `step "${step}" ${state.error}`);
      }
      return snapshot(live.run);
    });
  }

  /**
   * A person's correction of a step's output: kept in its history, exactly its descendants go back to
   * pending (outputs cleared, in-flight calls aborted), and the run resumes.
   */
  async editOutput(runId: string, step: string, output: unknown, comment?: string): Promise<RunRecord> {
    const live = await this.#load(runId);
    return this.#locked(live, async () => {
      const state = this.#step(live, step);
      this.#refuseCancelled(live);
      this.#abort(live, step);
      const at = this.#now();
      Object.assign(state, { status: 'succeeded', output, error: null, ended_at: at, feedback: null });
      state.started_at ??= at;
      state.history.push({ output, source: 'person', at, ...(comment && { comment }) });
      const batch = this.#reopen(live, live.dag.descendants(step));
      batch.steps.add(step);
      batch.events.push({ type: 'step.edited', step, data: { descendants: live.dag.descendants(step) } });
      await this.#advance(live, batch);
      return snapshot(live.run);
    });
  }

  /** Re-runs `from` and its descendants. */
  async rerun(runId: string, from: string): Promise<RunRecord> {
    const live = await this.#load(runId);
    return this.#locked(live, async () => {
      this.#step(live, from);
      this.#refuseCancelled(live);
      await this.#advance(live, this.#reopen(live, [from, ...live.dag.descendants(from)]));
      return snapshot(live.run);
    });
  }

  /** Aborts in-flight runner calls and marks the run cancelled (a finished run is returned unchanged). */
  async cancel(runId: string): Promise<RunRecord> {
    const live = await this.#load(runId);
    return this.#locked(live, async () => {
      if (TERMINAL.has(live.run.status)) return snapshot(live.run);
      const batch = newBatch();
      for (const [name, state] of Object.entries(live.run.steps)) {
        if (state.status === 'running') {
          this.#abort(live, name);
          Object.assign(state, { status: 'cancelled', ended_at: this.#now(), error: 'cancelled' });
          batch.steps.add(name);
        } else if (state.status === 'pending' || state.status === 'waiting') {
          state.status = 'skipped';
          batch.steps.add(name);
        }
      }
      batch.run.status = 'cancelled';
      batch.events.push({ type: 'run.cancelled' });
      await this.#flush(live, batch);
      return snapshot(live.run);
    });
  }

  /**
   * At start-up: picks up every unfinished run in the store. Steps left `running` by a crash run again;
   * finished steps never do; approvals keep waiting. Returns the ids resumed.
   */
  async resume(): Promise<string[]> {
    // Several instances: a step left running is another worker's, or its job comes back by itself.
    if (this.#jobs) return this.reconcile();
    const ids: string[] = [];
    for (const run of await this.#store.workflows.unfinishedRuns()) {
      if (this.#runs.has(run.id)) continue;
      try {
        const live = await this.#load(run.id, run);
        // Every step left running by a crash runs again.
        await this.#locked(live, () => this.#restart(live, () => true));
        ids.push(run.id);
      } catch (err) {
        this.#onError(err, run.id);
      }
    }
    return ids;
  }

  // ---- scheduling ------------------------------------------------------------------------------

  /** Steps left `running` (those `which` picks) back to pending, a pending run started; then advance. */
  async #restart(live: Live, which: (state: StepState) => boolean): Promise<void> {
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
    await this.#advance(live, batch);
  }

  /**
   * Starts every ready step (approvals go `waiting`), derives the run's status, writes the batch, and
   * launches the started steps. Called under the run's lock.
   */
  async #advance(live: Live, batch: Batch): Promise<void> {
    if (TERMINAL.has(live.run.status)) return this.#flush(live, batch);
    const { steps } = live.run;
    const failed = live.dag.order.find((name) => steps[name]!.status === 'failed');
    if (failed) return this.#failRun(live, batch, `step "${failed}" failed: ${steps[failed]!.error}`);

    const launch: string[] = [];
    let blocked = false;
    for (const name of live.dag.order) {
      const state = steps[name]!;
      if (state.status !== 'pending') continue;
      if (!live.dag.parents(name).every((p) => steps[p]!.status === 'succeeded')) continue;
      const definition = live.definition.steps[name]!;
      if (definition.type === 'approval') {
        state.status = 'waiting';
        state.started_at = this.#now();
        batch.steps.add(name);
        batch.events.push({
          type: 'step.waiting',
          step: name,
          ...(definition.description && { data: { description: definition.description } }),
        });
        continue;
      }
      if (this.#jobs) {
        // A new start of the step: its job is `<run>:<step>:<gen>`, and no worker has taken it yet.
        state.gen = (state.gen ?? 0) + 1;
        state.takes = 0;
        state.handed = 0;
        delete state.worker;
      } else if (this.#active >= this.#concurrency) {
        blocked = true; // a freed slot advances this run again
        continue;
      } else {
        this.#active++;
        live.generation.set(name, (live.generation.get(name) ?? 0) + 1);
        live.controllers.set(name, new AbortController());
      }
      Object.assign(state, {
        status: 'running',
        attempts: 0,
        iterations: 0,
        started_at: this.#now(),
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
      const outputs = this.#outputs(live);
      if (!outputs.ok) return this.#failRun(live, batch, outputs.error);
      batch.run.status = 'succeeded';
      batch.run.outputs = outputs.value;
      batch.events.push({ type: 'run.succeeded', data: { outputs: outputs.value } });
    } else {
      return this.#failRun(live, batch, 'no step can run: some needs never succeeded');
    }
    await this.#flush(live, batch);
    if (this.#jobs) await this.#enqueue(live, launch);
    else for (const name of launch) void this.#execute(live, name, live.generation.get(name)!);
  }

  /** Runs one step's model work outside the lock, then records the result under it. */
  async #execute(live: Live, name: string, generation: number): Promise<void> {
    const controller = live.controllers.get(name)!;
    const state = live.run.steps[name]!;
    const definition = live.definition.steps[name]!;
    let result: { ok: true; outcome: StepOutcome } | { ok: false; error: string };
    // `workflow.step {step}` under the run's span; the model calls' spans become its children.
    const attrs = { 'workflow.run_id': live.run.id, 'workflow.step': name, 'quorum.team': live.run.team };
    const open = () => tracer.startSpan(`workflow.step ${name}`, { attributes: attrs });
    const span = live.span ? withSpan(live.span, open) : open();
    let spent = 0;
    try {
      const outcome = await withSpan(span, () =>
        executeStep({
          runId: live.run.id,
          name,
          step: definition,
          context: { inputs: live.run.inputs, steps: live.run.steps },
          feedback: state.feedback,
          team: live.run.team,
          keyId: live.run.key_id,
          runner: this.#runner,
          signal: controller.signal,
          onCost: (usd) => {
            spent += usd;
            this.#addCost(live, name, usd);
          },
          onIteration: (verdict) =>
            this.#locked(live, async () => {
              if (live.generation.get(name) !== generation || TERMINAL.has(live.run.status)) return;
              const batch = newBatch();
              batch.events.push({ type: 'step.iteration', step: name, data: verdict });
              await this.#flush(live, batch);
            }),
          onProgress: ({ attempt, iteration }) => {
            if (live.generation.get(name) !== generation) return;
            state.attempts = attempt;
            state.iterations = iteration;
          },
          ...(this.#schemaCompiler && { schemaCompiler: this.#schemaCompiler }),
          ...(live.cap && { cap: live.cap }),
          maxPromptBytes: this.#maxTemplateBytes,
        }),
      );
      result = { ok: true, outcome };
      span.setAttributes({
        'workflow.step.attempts': outcome.attempts,
        'workflow.step.iterations': outcome.iterations,
      });
    } catch (err) {
      result = { ok: false, error: err instanceof Error ? err.message : String(err) };
      failSpan(
        span,
        controller.signal.aborted ? 'aborted' : err instanceof Error ? err.name : 'error',
        result.error,
      );
    } finally {
      span.setAttribute('quorum.cost_usd', spent);
      span.end();
      this.#active--;
      if (live.controllers.get(name) === controller) live.controllers.delete(name);
    }
    try {
      await this.#locked(live, () =>
        this.#finish(live, name, live.generation.get(name) === generation, result),
      );
    } catch (err) {
      this.#onError(err, live.run.id);
    }
    this.#kick();
  }

  /**
   * Records a step's result. `current`: the result is of the step's present start (its generation here;
   * with several instances, the fencing token `(gen, takes)` read in this very change).
   */
  async #finish(
    live: Live,
    name: string,
    current: boolean,
    result: { ok: true; outcome: StepOutcome } | { ok: false; error: string },
  ): Promise<void> {
    const state = live.run.steps[name]!;
    // Superseded (reset, edited, cancelled) or the run already ended: nothing to record but cost.
    if (!current || state.status !== 'running' || TERMINAL.has(live.run.status)) {
      if (live.unpersisted > 0 && !TERMINAL.has(live.run.status)) await this.#flush(live, newBatch());
      return;
    }
    const batch = newBatch();
    batch.steps.add(name);
    state.ended_at = this.#now();
    if (!result.ok) {
      state.status = 'failed';
      state.error = result.error;
      batch.events.push({
        type: 'step.failed',
        step: name,
        data: { error: result.error, attempts: state.attempts },
      });
      return this.#failRun(live, batch, `step "${name}" failed: ${result.error}`);
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
        this.#abort(live, step);
        resetStep(live.run.steps[step]!, { keepLoops: true });
        batch.steps.add(step);
      }
      live.run.steps[backTo.step]!.feedback = outcome.revise.feedback;
      state.loops = loops;
      Object.assign(data, { back_to: backTo.step, loop: loops, feedback: outcome.revise.feedback });
    }
    batch.events.push({ type: 'step.succeeded', step: name, data });
    await this.#advance(live, batch);
  }

  /**
   * Cost is counted the moment it is spent, in whole nano-dollars (as the ledger counts it), so the
   * run's total is the sum of its calls exactly. The runner holds each call against `max_cost_usd`
   * before making it; going over here means a runner that does not, and stops the run.
   */
  #addCost(live: Live, name: string, usd: number): void {
    const nanos = amountNanos(usd);
    if (nanos <= 0) return;
    const state = live.run.steps[name]!;
    state.cost_usd = usdOfNanos(amountNanos(state.cost_usd) + nanos);
    live.run.cost_usd = usdOfNanos(amountNanos(live.run.cost_usd) + nanos);
    live.unpersisted = usdOfNanos(amountNanos(live.unpersisted) + nanos);
    const max = live.definition.max_cost_usd;
    if (max === undefined || TERMINAL.has(live.run.status)) return;
    const spent = amountNanos(live.run.cost_usd);
    if (spent <= limitNanos(max)) return;
    void this.#locked(live, async () => {
      if (TERMINAL.has(live.run.status)) return;
      const batch = newBatch();
      const error = `max_cost_usd ${formatNanos(limitNanos(max))} exceeded: spent ${formatNanos(spent)}`;
      if (state.status === 'running') {
        this.#abort(live, name);
        Object.assign(state, { status: 'failed', error, ended_at: this.#now() });
        batch.steps.add(name);
        batch.events.push({ type: 'step.failed', step: name, data: { error } });
      }
      await this.#failRun(live, batch, error);
    }).catch((err) => this.#onError(err, live.run.id));
  }

  /** Fails the run: in-flight calls aborted, what has not finished is skipped. */
  async #failRun(live: Live, batch: Batch, error: string): Promise<void> {
    for (const [name, state] of Object.entries(live.run.steps)) {
      if (state.status === 'running' || state.status === 'pending' || state.status === 'waiting') {
        this.#abort(live, name);
        state.status = 'skipped';
        batch.steps.add(name);
      }
    }
    batch.run.status = 'failed';
    batch.run.error = error;
    batch.events.push({ type: 'run.failed', data: { error } });
    await this.#flush(live, batch);
  }

  /** Steps back to pending for a person's re-run; the run is running again. */
  #reopen(live: Live, names: string[]): Batch {
    const batch = newBatch();
    for (const name of names) {
      this.#abort(live, name);
      resetStep(live.run.steps[name]!);
      batch.steps.add(name);
    }
    // Applied at once (not only at flush) so the advance that follows sees a live run.
    if (live.run.status !== 'running') batch.run.status = live.run.status = 'running';
    if (live.run.error !== null) batch.run.error = live.run.error = null;
    if (live.run.outputs !== null) batch.run.outputs = live.run.outputs = null;
    if (!this.#runs.has(live.run.id)) this.#runs.set(live.run.id, live);
    return batch;
  }

  /** Aborts a step's in-flight call (if any); its late result is ignored. */
  #abort(live: Live, name: string): void {
    // Several instances: the step may run anywhere; each worker aborts its own once the change is
    // written (#checkHeld, here and on a notice from the store).
    if (this.#jobs) return;
    const controller = live.controllers.get(name);
    if (!controller) return;
    live.generation.set(name, (live.generation.get(name) ?? 0) + 1);
    live.controllers.delete(name);
    controller.abort(new Error('aborted'));
  }

  /** A slot freed: runs with steps waiting for one advance again. */
  #kick(): void {
    for (const live of this.#runs.values()) {
      if (TERMINAL.has(live.run.status)) continue;
      if (!Object.values(live.run.steps).some((s) => s.status === 'pending')) continue;
      this.#locked(live, () => this.#advance(live, newBatch())).catch((err) =>
        this.#onError(err, live.run.id),
      );
    }
  }

  // ---- persistence -----------------------------------------------------------------------------

  /** Writes the batch (and any unwritten cost) in one transition, then tells listeners and waiters. */
  async #flush(live: Live, batch: Batch): Promise<void> {
    if (live.unpersisted > 0) batch.run.addCostUsd = live.unpersisted;
    const hasRun = Object.keys(batch.run).length > 0;
    if (!hasRun && batch.steps.size === 0 && batch.events.length === 0) return;
    const { addCostUsd: _, ...fields } = batch.run;
    Object.assign(live.run, fields);
    const steps: Record<string, StepState> = {};
    for (const name of batch.steps) steps[name] = live.run.steps[name]!;
    live.unpersisted = 0;
    const change = { run: batch.run, steps, events: batch.events };
    if (this.#jobs) {
      await this.#store.workflows.transition(live.run.id, change, {
        expectVersion: live.run.version ?? 0,
        notify: true,
        ...(batch.ledger && { ledger: batch.ledger }),
      });
      live.run.version = (live.run.version ?? 0) + 1;
      live.run.updated_at = this.#now();
      // Events reach listeners (here too) through the store's notifications, in commit order.
      this.#checkHeld(live.run);
      return;
    }
    const events = await this.#store.workflows.transition(live.run.id, change);
    live.run.updated_at = this.#now();
    this.#traceRun(live);
    for (const event of events) {
      try {
        this.#onEvent?.(event);
      } catch (err) {
        this.#onError(err, live.run.id);
      }
    }
    if (isSettled(live.run.status)) {
      const waiters = live.waiters.splice(0);
      for (const resolve of waiters) resolve(snapshot(live.run));
    }
    if (TERMINAL.has(live.run.status) && live.controllers.size === 0) this.#runs.delete(live.run.id);
  }

  // ---- several instances -----------------------------------------------------------------------

  /**
   * Runs one job the queue handed this instance: takes the step if the job is still its present start
   * (a new fencing token, written over the version read), runs it, and records the result only if the
   * token is still the step's in the transaction that writes it. A step whose workers were lost
   * `MAX_LOST` times fails instead of running a third time. `signal` aborts when the queue cancels the job (its lock was
   * lost); `drain()` hands it back.
   */
  async runJob(job: StepJob, signal: AbortSignal): Promise<JobOutcome> {
    if (this.#draining) return 'handed-back';
    let live: Live;
    try {
      live = await this.#load(job.run_id);
    } catch (err) {
      if (err instanceof EngineError && err.code === 'not_found') return 'done';
      throw err;
    }
    live.busy++; // kept while the step runs here, so changes of it queue behind one another
    try {
      const claim = await this.#locked(live, () => this.#claim(live, job));
      if (!claim) return 'done';
      return await this.#runClaimed(live, job, claim, signal);
    } finally {
      this.#release(live);
    }
  }

  /** Takes the step for this worker (a new token), or null when the job is no longer the step's start. */
  async #claim(live: Live, job: StepJob): Promise<{ take: number; run: RunRecord } | null> {
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
      Object.assign(state, { status: 'failed', error, ended_at: this.#now() });
      batch.events.push({ type: 'step.failed', step: name, data: { error } });
      await this.#failRun(live, batch, `step "${name}" failed: ${error}`);
      return null;
    }
    const take = takes + 1;
    state.takes = take;
    state.worker = this.#instance;
    if (take > 1) {
      batch.events.push({ type: 'step.started', step: name, data: { take, worker: this.#instance } });
    }
    await this.#flush(live, batch);
    if (take > 1) {
      const why = lost > 0 ? 'its worker was lost' : 'its worker handed it back';
      this.#onNotice(`workflow step taken over (${why})`, { run_id: live.run.id, step: name, take });
    }
    return { take, run: snapshot(live.run) };
  }

  async #runClaimed(
    live: Live,
    job: StepJob,
    claim: { take: number; run: RunRecord },
    signal: AbortSignal,
  ): Promise<JobOutcome> {
    const { run, take } = claim;
    const name = job.step;
    const state = run.steps[name]!;
    const definition = live.definition.steps[name]!;
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
    const span = tracer.startSpan(`workflow.step ${name}`, {
      attributes: {
        'workflow.run_id': run.id,
        'workflow.step': name,
        'quorum.team': run.team,
        'workflow.step.take': take,
      },
    });
    let result: { ok: true; outcome: StepOutcome } | { ok: false; error: string };
    let spent = 0;
    try {
      const outcome = await withSpan(span, () =>
        executeStep({
          runId: run.id,
          name,
          step: definition,
          context: { inputs: run.inputs, steps: run.steps },
          feedback: state.feedback,
          team: run.team,
          keyId: run.key_id,
          runner: this.#runner,
          signal: controller.signal,
          take,
          onCost: (usd, ledger) => {
            spent += usd;
            return this.#spend(live, name, usd, ledger);
          },
          onIteration: (verdict) =>
            this.#locked(live, async () => {
              if (!ours() || TERMINAL.has(live.run.status)) return;
              const batch = newBatch();
              batch.events.push({ type: 'step.iteration', step: name, data: verdict });
              await this.#flush(live, batch);
            }),
          ...(this.#schemaCompiler && { schemaCompiler: this.#schemaCompiler }),
          ...(max !== undefined && { cap: new CostCap(max, run.cost_usd) }),
          maxPromptBytes: this.#maxTemplateBytes,
        }),
      );
      result = { ok: true, outcome };
    } catch (err) {
      result = { ok: false, error: err instanceof Error ? err.message : String(err) };
      failSpan(
        span,
        controller.signal.aborted ? 'aborted' : err instanceof Error ? err.name : 'error',
        result.error,
      );
    } finally {
      span.setAttribute('quorum.cost_usd', spent);
      span.end();
      signal.removeEventListener('abort', onAbort);
      if (this.#held.get(key) === held) this.#held.delete(key);
    }
    // Aborted: someone else decided (a cancel, a correction, a lost lock, a drain); nothing to record.
    if (controller.signal.aborted && controller.signal.reason === HANDED_BACK) {
      // A take handed back is no lost worker: the next take does not count against MAX_LOST.
      await this.#locked(live, async () => {
        if (!ours()) return;
        const now = live.run.steps[name]!;
        now.handed = (now.handed ?? 0) + 1;
        const batch = newBatch();
        batch.steps.add(name);
        await this.#flush(live, batch);
      }).catch((err) => this.#onError(err, run.id));
      return 'handed-back';
    }
    if (controller.signal.aborted) return 'done';
    await this.#locked(live, async () => {
      const current = ours();
      const now = live.run.steps[name];
      // Refused by the fence: the same start of the step was taken by a later worker.
      if (!current && now?.gen === job.gen && (now.takes ?? 0) > take) {
        this.#onNotice('stale workflow step result refused: another worker holds the step now', {
          run_id: run.id,
          step: name,
          take,
          holder_take: now.takes,
        });
      }
      await this.#finish(live, name, current, result);
    });
    return 'done';
  }

  /**
   * Several instances: a call's spend, written at once with its ledger rows in one transaction (so the
   * ledger and the run's cost agree even if this instance dies next); over `max_cost_usd` it fails the run.
   */
  async #spend(live: Live, name: string, usd: number, ledger: LedgerEntry[] | undefined): Promise<void> {
    const nanos = amountNanos(usd);
    if (nanos <= 0 && !ledger?.length) return;
    try {
      await this.#locked(live, async () => {
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
          return this.#flush(live, batch);
        }
        const error = `max_cost_usd ${formatNanos(limitNanos(max))} exceeded: spent ${formatNanos(total)}`;
        if (state.status === 'running') {
          Object.assign(state, { status: 'failed', error, ended_at: this.#now() });
          batch.events.push({ type: 'step.failed', step: name, data: { error } });
        }
        await this.#failRun(live, batch, error);
      });
    } catch (err) {
      // Not written with the run: the rows still reach the ledger (the run's cost misses this call).
      for (const row of ledger ?? []) this.#ledger?.append(row);
      this.#onError(err, live.run.id);
    }
  }

  /** Queues the jobs of steps just started (a failure is repaired by `reconcile`). */
  async #enqueue(live: Live, names: string[]): Promise<void> {
    if (!names.length || !this.#jobs) return;
    const jobs = names.map((step) => ({ run_id: live.run.id, step, gen: live.run.steps[step]!.gen ?? 1 }));
    try {
      await this.#jobs.enqueue(jobs);
    } catch (err) {
      this.#onError(err, live.run.id);
    }
  }

  /** Aborts the steps this instance runs for `run` that are no longer theirs to finish (other token or state). */
  #checkHeld(run: RunRecord): void {
    for (const held of this.#held.values()) {
      if (held.run !== run.id) continue;
      const state = run.steps[held.step];
      if (state?.status === 'running' && state.gen === held.gen && state.takes === held.take) continue;
      held.controller.abort(new Error('superseded'));
    }
  }

  /** Several instances: whether this instance cares about the run's events (steps it runs, callers waiting). */
  interested(runId: string): boolean {
    if (this.#waiting.has(runId)) return true;
    for (const held of this.#held.values()) if (held.run === runId) return true;
    return false;
  }

  /**
   * Several instances: the store committed these events of the run (any instance's). Steps running here
   * that the change took away are aborted; callers of `wait` are answered once the run settles.
   */
  notice(runId: string, events: readonly RunEvent[]): void {
    if (!this.interested(runId)) return;
    const settling = events.some((e) => e.type.startsWith('run.') || e.type === 'step.waiting');
    const holds = [...this.#held.values()].some((h) => h.run === runId);
    if (!holds && !settling) return;
    this.#store.workflows
      .getRun(runId)
      .then((run) => {
        if (!run) return;
        this.#checkHeld(run);
        if (isSettled(run.status)) this.#answerWaiters(run);
      })
      .catch((err) => this.#onError(err, runId));
  }

  /** Several instances: `wait` answered from the store's notifications (and a look now and then). */
  async #waitStored(runId: string): Promise<RunRecord> {
    let resolve!: (run: RunRecord) => void;
    const answer = new Promise<RunRecord>((r) => {
      resolve = r;
    });
    const set = this.#waiting.get(runId) ?? new Set();
    this.#waiting.set(runId, set);
    set.add(resolve);
    try {
      // Registered first: a change committed meanwhile is either in this read or noticed after it.
      const run = await this.get(runId);
      if (isSettled(run.status)) return run;
      return await answer;
    } finally {
      set.delete(resolve);
      if (!set.size && this.#waiting.get(runId) === set) this.#waiting.delete(runId);
    }
  }

  #answerWaiters(run: RunRecord): void {
    for (const resolve of this.#waiting.get(run.id) ?? []) resolve(snapshot(run));
  }

  /** Several instances: looks at the runs callers wait for (in case a notification was missed). */
  async recheckWaiters(): Promise<void> {
    for (const runId of [...this.#waiting.keys()]) {
      const run = await this.#store.workflows.getRun(runId);
      if (run && isSettled(run.status)) this.#answerWaiters(run);
    }
  }

  /**
   * Several instances, now and then on every instance: queues again the job of every step the store
   * says is running (a no-op for jobs still queued or running; repairs an instance that died between
   * writing a step's start and queueing its job), starts runs left `pending` for longer than `settleMs`,
   * and re-runs steps a single-instance engine left running. Returns the runs it started or repaired.
   */
  async reconcile(settleMs = 0): Promise<string[]> {
    const ids: string[] = [];
    const jobs: StepJob[] = [];
    for (const run of await this.#store.workflows.unfinishedRuns()) {
      let repair = run.status === 'pending' && run.created_at <= this.#now() - settleMs;
      for (const [step, state] of Object.entries(run.steps)) {
        if (state.status !== 'running') continue;
        if (state.gen === undefined) repair = true;
        else jobs.push({ run_id: run.id, step, gen: state.gen });
      }
      if (!repair) continue;
      try {
        const live = await this.#load(run.id);
        // Only steps a single-instance engine left running: a job's step is its worker's.
        await this.#locked(live, () => this.#restart(live, (state) => state.gen === undefined));
        ids.push(run.id);
      } catch (err) {
        this.#onError(err, run.id);
      }
    }
    if (jobs.length && this.#jobs) await this.#jobs.enqueue(jobs);
    return ids;
  }

  /**
   * Several instances: this instance stops taking steps and hands back the ones it runs — each is
   * aborted (its spend so far stays recorded) and its job goes back to the queue, where another
   * instance takes it at once. Resolves once they are all back. A no-op for the single-instance
   * engine, whose unfinished steps run again at its next start.
   */
  async drain(): Promise<void> {
    if (!this.#jobs) return;
    this.#draining ??= (async () => {
      // The worker stops fetching first, so nothing new starts between the abort and the stop.
      const stopped = this.#jobs?.stopWorking?.();
      for (const held of this.#held.values()) held.controller.abort(HANDED_BACK);
      await stopped;
    })();
    return this.#draining;
  }

  /** `drain()`, then lets go of the queue and the store's notifications; the engine is done. */
  async close(): Promise<void> {
    await this.drain();
    this.#closing ??= this.#jobs?.close?.() ?? Promise.resolve();
    return this.#closing;
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** Opens `workflow.run {name}` when the run (re)starts running here; ends it when it ends or waits. */
  #traceRun(live: Live): void {
    const { run } = live;
    if (run.status === 'running' && !live.span) {
      live.span = tracer.startSpan(`workflow.run ${live.definition.name}`, {
        attributes: {
          'workflow.run_id': run.id,
          'workflow.id': run.workflow_id,
          'quorum.team': run.team,
        },
      });
    } else if (live.span && isSettled(run.status)) {
      const span = live.span;
      live.span = undefined;
      span.setAttributes({ 'workflow.run.status': run.status, 'quorum.cost_usd': run.cost_usd });
      if (run.status === 'failed') failSpan(span, 'workflow_failed', run.error ?? undefined);
      span.end();
    }
  }

  #locked<T>(live: Live, fn: () => Promise<T>): Promise<T> {
    if (!this.#jobs) {
      const next = live.lock.then(fn);
      live.lock = next.catch(() => {});
      return next;
    }
    live.busy++;
    const next = live.lock.then(() => this.#fresh(live, fn));
    live.lock = next.catch(() => {});
    const release = () => this.#release(live);
    next.then(release, release);
    return next;
  }

  /** Several instances: this copy of the run is let go once nothing here uses it. */
  #release(live: Live): void {
    if (--live.busy === 0 && this.#runs.get(live.run.id) === live) this.#runs.delete(live.run.id);
  }

  /**
   * Several instances: runs `fn` on the run as the store has it now; when another instance changed the
   * run before `fn`'s change was written, reads it again and runs `fn` again (its side effects all
   * come after the write: jobs queued, workers aborted).
   */
  async #fresh<T>(live: Live, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const run = await this.#store.workflows.getRun(live.run.id);
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

  #track(run: RunRecord, definition: WorkflowDefinition, dag: Dag): Live {
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
    this.#runs.set(run.id, live);
    return live;
  }

  /** The live run, or the stored one brought into memory (once, even under concurrent calls). */
  async #load(runId: string, known?: RunRecord): Promise<Live> {
    const live = this.#runs.get(runId);
    if (live) return live;
    let loading = this.#loading.get(runId);
    if (!loading) {
      loading = (async () => {
        const run = known ?? (await this.#store.workflows.getRun(runId));
        if (!run) throw new EngineError('not_found', `run "${runId}" not found`);
        const { definition, dag } = await this.#definitionOf(run.workflow_id);
        for (const name of dag.order) run.steps[name] ??= freshStep();
        return this.#runs.get(runId) ?? this.#track(run, definition, dag);
      })().finally(() => this.#loading.delete(runId));
      this.#loading.set(runId, loading);
    }
    return loading;
  }

  /** A run's definition, parsed once per id (a definition never changes under its id). */
  async #definitionOf(workflowId: string): Promise<{ definition: WorkflowDefinition; dag: Dag }> {
    const known = this.#definitions.get(workflowId);
    if (known) return known;
    const workflow = await this.#store.workflows.getWorkflow(workflowId);
    if (!workflow) throw new EngineError('not_found', `workflow "${workflowId}" not found`);
    const parsed = this.#parse(workflow.definition, workflow.id);
    if (this.#definitions.size >= DEFINITIONS_KEPT) {
      this.#definitions.delete(this.#definitions.keys().next().value!);
    }
    this.#definitions.set(workflowId, parsed);
    return parsed;
  }

  #parse(stored: unknown, workflowId: string): { definition: WorkflowDefinition; dag: Dag } {
    const parsed = validateDefinition(
      stored,
      this.#schemaCompiler ? { schemaCompiler: this.#schemaCompiler } : {},
    );
    if (!parsed.ok) {
      throw new EngineError('invalid', `workflow "${workflowId}" no longer parses`, parsed.problems);
    }
    return parsed;
  }

  /**
   * Refuses a run whose inputs are too large, or whose templates already expand past the bound from the
   * inputs alone (before any step has spent anything).
   */
  #checkExpansion(definition: WorkflowDefinition, inputs: Record<string, unknown>): void {
    const max = this.#maxTemplateBytes;
    if (Buffer.byteLength(JSON.stringify(inputs)) > max) {
      throw new EngineError('invalid', `the inputs are larger than ${max} bytes (server.max_body_bytes)`, [
        { path: 'inputs', message: `larger than ${max} bytes` },
      ]);
    }
    const fields: [string, string | undefined][] = [];
    for (const [name, step] of Object.entries(definition.steps)) {
      fields.push(
        [`steps.${name}.system`, step.system],
        [`steps.${name}.prompt`, step.prompt],
        [`steps.${name}.artifact`, step.artifact],
        [`steps.${name}.until.criteria`, step.until?.criteria],
      );
    }
    for (const [name, template] of Object.entries(definition.outputs ?? {})) {
      fields.push([`outputs.${name}`, template]);
    }
    const problems = fields.flatMap(([path, template]) => {
      const at = template === undefined ? undefined : inputExpansionExceeds(template, inputs, max);
      return at === undefined
        ? []
        : [{ path, message: `with these inputs it expands to more than ${max} bytes (at ${at})` }];
    });
    if (problems.length) {
      throw new EngineError(
        'invalid',
        `the inputs make templates larger than ${max} bytes (server.max_body_bytes)`,
        problems,
      );
    }
  }

  #step(live: Live, step: string): StepState {
    const state = Object.hasOwn(live.run.steps, step) ? live.run.steps[step] : undefined;
    if (!state || !live.dag.has(step)) throw new EngineError('not_found', `step "${step}" not found`);
    return state;
  }

  #refuseCancelled(live: Live): void {
    if (live.run.status === 'cancelled') throw new EngineError('conflict', 'the run was cancelled');
  }

  #outputs(live: Live): { ok: true; value: Record<string, unknown> } | { ok: false; error: string } {
    const value: Record<string, unknown> = {};
    try {
      for (const [name, template] of Object.entries(live.definition.outputs ?? {})) {
        value[name] = renderValue(
          template,
          { inputs: live.run.inputs, steps: live.run.steps },
          { maxBytes: this.#maxTemplateBytes },
        );
      }
    } catch (err) {
      return { ok: false, error: `outputs: ${(err as Error).message}` };
    }
    return { ok: true, value };
  }
}

const snapshot = (run: RunRecord): RunRecord => structuredClone(run);

const heldKey = (run: string, step: string) => `${run}\u0000${step}`;
