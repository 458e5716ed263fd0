import { type Span, traceparentOf } from '../../telemetry/index.ts';
import type { RunRecord } from '../state.ts';
import type { Live } from './live.ts';
import { isSettled } from './step-state.ts';
import { endRunSpan, startRunSpan } from './tracing.ts';

/**
 * Several instances: the `workflow.run` spans this instance knows. The instance that starts a running
 * stretch of a run opens its span and keeps it until the run ends or waits (written here, or noticed from
 * another instance's write); its traceparent goes with the stretch's jobs, so every step's span is its
 * child wherever it runs, and a job running here lends its traceparent to the steps it makes ready.
 */
export class RunSpans {
  readonly #instance: string;
  /** Spans opened here, by run. */
  readonly #open = new Map<string, { span: Span; trace: string }>();
  /** The traceparents of the jobs running here, by run, with how many jobs use each. */
  readonly #borrowed = new Map<string, { trace: string; uses: number }>();

  constructor(instance: string) {
    this.#instance = instance;
  }

  /** The traceparent of the run's span as this instance knows it (its own, or a job's). */
  traceOf(runId: string): string | undefined {
    return this.#open.get(runId)?.trace ?? this.#borrowed.get(runId)?.trace;
  }

  /** Whether the run's span is open here (this instance then follows the run to end it). */
  has(runId: string): boolean {
    return this.#open.has(runId);
  }

  runs(): string[] {
    return [...this.#open.keys()];
  }

  /** The run's span for the steps about to be queued: the known one, else a new stretch's opened here. */
  forLaunch(live: Live): string | undefined {
    const known = this.traceOf(live.run.id);
    if (known !== undefined) return known;
    const span = startRunSpan(live, this.#instance);
    const trace = traceparentOf(span);
    if (trace === undefined) return undefined; // tracing off: nothing recorded, nothing to end
    this.#open.set(live.run.id, { span, trace });
    return trace;
  }

  /** Ends the run's span opened here once the run has ended or waits for a person. */
  settle(run: RunRecord): void {
    const open = this.#open.get(run.id);
    if (!open || !isSettled(run.status)) return;
    this.#open.delete(run.id);
    endRunSpan(open.span, run);
  }

  /**
   * A job running here uses the run's traceparent (until its result is recorded, so the steps it makes
   * ready go under the same span); the returned function ends the use.
   */
  borrow(runId: string, trace: string): () => void {
    const known = this.#borrowed.get(runId);
    const entry = known?.trace === trace ? known : { trace, uses: 0 };
    entry.uses++;
    this.#borrowed.set(runId, entry);
    return () => {
      if (--entry.uses === 0 && this.#borrowed.get(runId) === entry) this.#borrowed.delete(runId);
    };
  }

  /** The instance stops: spans still open end now (their runs go on elsewhere). */
  close(): void {
    for (const { span } of this.#open.values()) {
      span.setAttribute('workflow.run.unfinished', true);
      span.end();
    }
    this.#open.clear();
  }
}
