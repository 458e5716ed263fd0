import { amountNanos, limitNanos, usdOfNanos } from '../../limits/nanos.ts';
import type { RunEvent, RunRecord, StepState } from '../state.ts';
import type { EngineCore, Scheduler } from './core.ts';
import { formatNanos } from './cost-cap.ts';
import { type Live, newBatch, snapshot } from './live.ts';
import { runStep } from './run-step.ts';
import { isSettled, TERMINAL } from './step-state.ts';
import { traceRun } from './tracing.ts';

/**
 * The single-instance scheduler: steps run in this process, at most `concurrency` model calls across
 * the engine; a freed slot advances the runs with steps waiting for one. Events go to `onEvent` as
 * they are written.
 */
export class LocalScheduler implements Scheduler {
  readonly #core: EngineCore;
  readonly #concurrency: number;
  readonly #onEvent: ((event: RunEvent) => void) | undefined;
  #active = 0;

  constructor(core: EngineCore, concurrency: number, onEvent: ((event: RunEvent) => void) | undefined) {
    this.#core = core;
    this.#concurrency = concurrency;
    this.#onEvent = onEvent;
  }

  admit(live: Live, name: string, _state: StepState): boolean {
    if (this.#active >= this.#concurrency) return false;
    this.#active++;
    live.generation.set(name, (live.generation.get(name) ?? 0) + 1);
    live.controllers.set(name, new AbortController());
    return true;
  }

  async launch(live: Live, names: string[]): Promise<void> {
    for (const name of names) void this.#execute(live, name, live.generation.get(name)!);
  }

  written(live: Live, events: RunEvent[]): void {
    traceRun(live);
    for (const event of events) {
      try {
        this.#onEvent?.(event);
      } catch (err) {
        this.#core.onError(err, live.run.id);
      }
    }
    if (isSettled(live.run.status)) {
      const waiters = live.waiters.splice(0);
      for (const resolve of waiters) resolve(snapshot(live.run));
    }
    if (TERMINAL.has(live.run.status) && live.controllers.size === 0) this.#core.runs.delete(live.run.id);
  }

  /** Resolves when the run has ended or waits for a person. */
  async wait(runId: string, get: (runId: string) => Promise<RunRecord>): Promise<RunRecord> {
    const live = this.#core.runs.get(runId);
    if (!live || isSettled(live.run.status)) return get(runId);
    return new Promise((resolve) => live.waiters.push(resolve));
  }

  /**
   * At start-up: picks up every unfinished run in the store. Steps left `running` by a crash run again;
   * finished steps never do; approvals keep waiting. Returns the ids resumed.
   */
  async resume(): Promise<string[]> {
    const core = this.#core;
    const ids: string[] = [];
    for (const run of await core.store.workflows.unfinishedRuns()) {
      if (core.runs.has(run.id)) continue;
      try {
        const live = await core.load(run.id, run);
        // Every step left running by a crash runs again.
        await core.locked(live, () => core.restart(live, () => true));
        ids.push(run.id);
      } catch (err) {
        core.onError(err, run.id);
      }
    }
    return ids;
  }

  /** Runs one step's model work outside the lock, then records the result under it. */
  async #execute(live: Live, name: string, generation: number): Promise<void> {
    const core = this.#core;
    const controller = live.controllers.get(name)!;
    const state = live.run.steps[name]!;
    let result: Awaited<ReturnType<typeof runStep>>;
    try {
      result = await runStep({
        run: live.run,
        name,
        step: live.definition.steps[name]!,
        runner: core.runner,
        signal: controller.signal,
        parent: live.span,
        cap: live.cap,
        schemaCompiler: core.schemaCompiler,
        maxPromptBytes: core.maxTemplateBytes,
        onCost: (usd) => this.#addCost(live, name, usd),
        onIteration: (verdict) =>
          core.locked(live, async () => {
            if (live.generation.get(name) !== generation || TERMINAL.has(live.run.status)) return;
            const batch = newBatch();
            batch.events.push({ type: 'step.iteration', step: name, data: verdict });
            await core.flush(live, batch);
          }),
        onProgress: ({ attempt, iteration }) => {
          if (live.generation.get(name) !== generation) return;
          state.attempts = attempt;
          state.iterations = iteration;
        },
      });
    } finally {
      this.#active--;
      if (live.controllers.get(name) === controller) live.controllers.delete(name);
    }
    try {
      await core.locked(live, () =>
        core.finish(live, name, live.generation.get(name) === generation, result),
      );
    } catch (err) {
      core.onError(err, live.run.id);
    }
    this.#kick();
  }

  /**
   * Cost is counted the moment it is spent, in whole nano-dollars (as the ledger counts it), so the
   * run's total is the sum of its calls exactly. The runner holds each call against `max_cost_usd`
   * before making it; going over here means a runner that does not, and stops the run.
   */
  #addCost(live: Live, name: string, usd: number): void {
    const core = this.#core;
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
    void core
      .locked(live, async () => {
        if (TERMINAL.has(live.run.status)) return;
        const batch = newBatch();
        const error = `max_cost_usd ${formatNanos(limitNanos(max))} exceeded: spent ${formatNanos(spent)}`;
        if (state.status === 'running') {
          core.abort(live, name);
          Object.assign(state, { status: 'failed', error, ended_at: core.now() });
          batch.steps.add(name);
          batch.events.push({ type: 'step.failed', step: name, data: { error } });
        }
        await core.failRun(live, batch, error);
      })
      .catch((err) => core.onError(err, live.run.id));
  }

  /** A slot freed: runs with steps waiting for one advance again. */
  #kick(): void {
    const core = this.#core;
    for (const live of core.runs.values()) {
      if (TERMINAL.has(live.run.status)) continue;
      if (!Object.values(live.run.steps).some((s) => s.status === 'pending')) continue;
      core.locked(live, () => core.advance(live, newBatch())).catch((err) => core.onError(err, live.run.id));
    }
  }
}
