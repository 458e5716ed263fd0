import { amountNanos, limitNanos, usdOfNanos } from '../../limits/nanos.ts';
import type { Store } from '../../store/index.ts';
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
import { freshStep, isSettled, resetStep, TERMINAL } from './step-state.ts';

/**
 * The workflow engine. Event-driven: whenever something changes (a step ends, a person
 * acts, a slot frees) the run is "advanced" — every pending step whose needs all succeeded starts at
 * once, up to `concurrency` model calls across the engine. Each change of a run is serialised by a
 * per-run lock and written with its events in one `transition`, so the store is always the truth to
 * resume from after a crash.
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
}

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
}

/** What one transition will write: the steps that changed, the run fields, the events. */
interface Batch {
  steps: Set<string>;
  run: NonNullable<RunChange['run']>;
  events: NewRunEvent[];
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

  constructor(options: EngineOptions) {
    this.#store = options.store;
    this.#runner = options.runner;
    this.#concurrency = Math.max(1, options.concurrency ?? 4);
    this.#now = options.now ?? Date.now;
    this.#onEvent = options.onEvent;
    this.#onError = options.onError ?? ((err) => console.error('workflow engine:', err));
    this.#schemaCompiler = options.schemaCompiler;
    this.#maxTemplateBytes = options.maxTemplateBytes ?? DEFAULT_MAX_TEMPLATE_BYTES;
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
      const batch = newBatch();
      batch.run.status = 'running';
      batch.events.push({ type: 'run.started', data: { workflow_id: workflowId } });
      await this.#advance(live, batch);
    });
    return snapshot(live.run);
  }

  /** The run as the engine knows it (live state when it is running here, else the store's). */
  async get(runId: string): Promise<RunRecord> {
    const live = this.#runs.get(runId);
    if (live) return snapshot(live.run);
    const run = await this.#store.workflows.getRun(runId);
    if (!run) throw new EngineError('not_found', `run "${runId}" not found`);
    return run;
  }

  /** Resolves when the run has ended or waits for a person (`?wait=true`). */
  async wait(runId: string): Promise<RunRecord> {
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
    const ids: string[] = [];
    for (const run of await this.#store.workflows.unfinishedRuns()) {
      if (this.#runs.has(run.id)) continue;
      try {
        const live = await this.#load(run.id, run);
        await this.#locked(live, async () => {
          const batch = newBatch();
          for (const [name, state] of Object.entries(live.run.steps)) {
            if (state.status !== 'running') continue;
            resetStep(state, { feedback: state.feedback, keepLoops: true });
            batch.steps.add(name);
          }
          if (live.run.status === 'pending') {
            batch.run.status = 'running';
            batch.events.push({ type: 'run.started', data: { workflow_id: live.run.workflow_id } });
          }
          await this.#advance(live, batch);
        });
        ids.push(run.id);
      } catch (err) {
        this.#onError(err, run.id);
      }
    }
    return ids;
  }

  // ---- scheduling ------------------------------------------------------------------------------

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
      if (this.#active >= this.#concurrency) {
        blocked = true; // a freed slot advances this run again
        continue;
      }
      this.#active++;
      Object.assign(state, {
        status: 'running',
        attempts: 0,
        iterations: 0,
        started_at: this.#now(),
        ended_at: null,
        error: null,
      });
      live.generation.set(name, (live.generation.get(name) ?? 0) + 1);
      live.controllers.set(name, new AbortController());
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
    for (const name of launch) void this.#execute(live, name, live.generation.get(name)!);
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
      await this.#locked(live, () => this.#finish(live, name, generation, result));
    } catch (err) {
      this.#onError(err, live.run.id);
    }
    this.#kick();
  }

  async #finish(
    live: Live,
    name: string,
    generation: number,
    result: { ok: true; outcome: StepOutcome } | { ok: false; error: string },
  ): Promise<void> {
    const state = live.run.steps[name]!;
    // Superseded (reset, edited, cancelled) or the run already ended: nothing to record but cost.
    if (
      live.generation.get(name) !== generation ||
      state.status !== 'running' ||
      TERMINAL.has(live.run.status)
    ) {
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
    const events = await this.#store.workflows.transition(live.run.id, {
      run: batch.run,
      steps,
      events: batch.events,
    });
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
    const next = live.lock.then(fn);
    live.lock = next.catch(() => {});
    return next;
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
        const workflow = await this.#store.workflows.getWorkflow(run.workflow_id);
        if (!workflow) throw new EngineError('not_found', `workflow "${run.workflow_id}" not found`);
        const { definition, dag } = this.#parse(workflow.definition, workflow.id);
        for (const name of dag.order) run.steps[name] ??= freshStep();
        return this.#runs.get(runId) ?? this.#track(run, definition, dag);
      })().finally(() => this.#loading.delete(runId));
      this.#loading.set(runId, loading);
    }
    return loading;
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
