import { hostname } from 'node:os';
import type { LedgerEntry, Store } from '../../store/index.ts';
import { resolveInputs, type SchemaCompiler } from '../definition/index.ts';
import type { RunEvent, RunRecord } from '../state.ts';
import { EngineCore } from './core.ts';
import { type Approval, approve, cancel, editOutput, rerun } from './corrections.ts';
import { checkExpansion } from './definitions.ts';
import { EngineError } from './errors.ts';
import { JobSteps } from './job-steps.ts';
import { newBatch, snapshot } from './live.ts';
import { LocalScheduler } from './local-scheduler.ts';
import type { StepRunner } from './runner.ts';
import type { JobOutcome, StepJob, StepJobs } from './step-jobs.ts';
import { freshStep } from './step-state.ts';

/**
 * The workflow engine. Event-driven: whenever something changes (a step ends, a person acts, a slot
 * frees) the run is "advanced" — every pending step whose needs all succeeded starts at once. The
 * parts: `core.ts` (each change of a run, locked and written in one transition), `run-step.ts` (one
 * execution of a step, both modes), `local-scheduler.ts` (steps run in this process, up to
 * `concurrency`), `job-steps.ts` (several instances: steps as jobs any instance's worker takes, with
 * `shared-cost-cap.ts`, `run-spans.ts` and `stored-waiters.ts`), `corrections.ts` (what a person
 * does), `definitions.ts` (parsed definitions, template bounds), `tracing.ts` (spans).
 */

export type { Approval } from './corrections.ts';
export { MAX_LOST } from './job-steps.ts';

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

/** The config default of `server.max_body_bytes`. */
const DEFAULT_MAX_TEMPLATE_BYTES = 10 * 1024 * 1024;

export interface StartOptions {
  team: string;
  key_id?: string | null;
  idempotency_key?: string | null;
}

export class Engine {
  readonly #core: EngineCore;
  readonly #local: LocalScheduler | undefined;
  readonly #shared: JobSteps | undefined;

  constructor(options: EngineOptions) {
    this.#core = new EngineCore({
      store: options.store,
      runner: options.runner,
      now: options.now ?? Date.now,
      onError: options.onError ?? ((err) => console.error('workflow engine:', err)),
      schemaCompiler: options.schemaCompiler,
      maxTemplateBytes: options.maxTemplateBytes ?? DEFAULT_MAX_TEMPLATE_BYTES,
      jobs: options.jobs,
      instance: options.instance ?? `${hostname()}:${process.pid}`,
      ledger: options.ledger,
      onNotice: options.onNotice ?? (() => {}),
    });
    if (options.jobs) {
      this.#shared = new JobSteps(this.#core, options.jobs);
      this.#core.scheduler = this.#shared;
    } else {
      const concurrency = Math.max(1, options.concurrency ?? 4);
      this.#local = new LocalScheduler(this.#core, concurrency, options.onEvent);
      this.#core.scheduler = this.#local;
    }
  }

  /** True when steps run as jobs shared by several instances. */
  get distributed(): boolean {
    return this.#shared !== undefined;
  }

  /**
   * Creates a run and starts it; returns it as it is once its first steps have started. With an
   * idempotency key already used by the team, returns that run untouched. Throws EngineError
   * `not_found` (workflow) or `invalid` (inputs, with problems).
   */
  async start(workflowId: string, inputs: unknown, options: StartOptions): Promise<RunRecord> {
    const core = this.#core;
    const workflow = await core.store.workflows.getWorkflow(workflowId);
    if (!workflow) throw new EngineError('not_found', `workflow "${workflowId}" not found`);
    const { definition, dag } = core.definitions.parse(workflow.definition, workflowId);
    const resolved = resolveInputs(definition, inputs);
    if (!resolved.ok) throw new EngineError('invalid', 'invalid inputs', resolved.problems);
    checkExpansion(definition, resolved.inputs, core.maxTemplateBytes);
    const { run, created } = await core.store.workflows.createRun({
      workflow_id: workflowId,
      inputs: resolved.inputs,
      team: options.team,
      key_id: options.key_id ?? null,
      idempotency_key: options.idempotency_key ?? null,
      steps: Object.fromEntries(dag.order.map((name) => [name, freshStep()])),
    });
    if (!created) return this.get(run.id);
    const live = core.track(run, definition, dag);
    await core.locked(live, async () => {
      if (live.run.status !== 'pending') return; // another instance's reconciler started it
      const batch = newBatch();
      batch.run.status = 'running';
      batch.events.push({ type: 'run.started', data: { workflow_id: workflowId } });
      await core.advance(live, batch);
    });
    return snapshot(live.run);
  }

  /** The run as the engine knows it (live state when it is running here, else the store's). */
  async get(runId: string): Promise<RunRecord> {
    // Several instances: the store is the truth (a copy here may be one change behind).
    const live = this.#shared ? undefined : this.#core.runs.get(runId);
    if (live) return snapshot(live.run);
    const run = await this.#core.store.workflows.getRun(runId);
    if (!run) throw new EngineError('not_found', `run "${runId}" not found`);
    return run;
  }

  /** Resolves when the run has ended or waits for a person (`?wait=true`). */
  wait(runId: string): Promise<RunRecord> {
    const get = (id: string) => this.get(id);
    return this.#shared ? this.#shared.wait(runId, get) : this.#local!.wait(runId, get);
  }

  /** Releases an approval step: approved → succeeded (`{approved: true, comment}`), else it fails the run. */
  approve(runId: string, step: string, approval: Approval): Promise<RunRecord> {
    return approve(this.#core, runId, step, approval);
  }

  /**
   * A person's correction of a step's output: kept in its history, exactly its descendants go back to
   * pending (outputs cleared, in-flight calls aborted), and the run resumes.
   */
  editOutput(runId: string, step: string, output: unknown, comment?: string): Promise<RunRecord> {
    return editOutput(this.#core, runId, step, output, comment);
  }

  /** Re-runs `from` and its descendants. */
  rerun(runId: string, from: string): Promise<RunRecord> {
    return rerun(this.#core, runId, from);
  }

  /** Aborts in-flight runner calls and marks the run cancelled (a finished run is returned unchanged). */
  cancel(runId: string): Promise<RunRecord> {
    return cancel(this.#core, runId);
  }

  /**
   * At start-up: picks up every unfinished run in the store. Steps left `running` by a crash run again;
   * finished steps never do; approvals keep waiting. Returns the ids resumed.
   */
  resume(): Promise<string[]> {
    // Several instances: a step left running is another worker's, or its job comes back by itself.
    return this.#shared ? this.#shared.reconcile() : this.#local!.resume();
  }

  // ---- several instances -----------------------------------------------------------------------

  /** Runs one job the queue handed this instance (see JobSteps.runJob). */
  runJob(job: StepJob, signal: AbortSignal): Promise<JobOutcome> {
    if (!this.#shared) throw new Error('runJob: this engine runs its steps in process (no jobs)');
    return this.#shared.runJob(job, signal);
  }

  /** Several instances: whether this instance cares about the run's events (steps it runs, callers waiting). */
  interested(runId: string): boolean {
    return this.#shared?.interested(runId) ?? false;
  }

  /** Several instances: the store committed these events of the run (any instance's). */
  notice(runId: string, events: readonly RunEvent[]): void {
    this.#shared?.notice(runId, events);
  }

  /** Several instances: looks at the runs callers wait for (in case a notification was missed). */
  async recheckWaiters(): Promise<void> {
    await this.#shared?.recheckWaiters();
  }

  /** Several instances, now and then on every instance: see JobSteps.reconcile. */
  async reconcile(settleMs = 0): Promise<string[]> {
    return this.#shared ? this.#shared.reconcile(settleMs) : [];
  }

  /**
   * Several instances: stops taking steps and hands back the ones running here (see JobSteps.drain).
   * A no-op for the single-instance engine, whose unfinished steps run again at its next start.
   */
  async drain(): Promise<void> {
    await this.#shared?.drain();
  }

  /** `drain()`, then lets go of the queue and the store's notifications; the engine is done. */
  async close(): Promise<void> {
    await this.#shared?.close();
  }
}
