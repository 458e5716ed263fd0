/**
 * The seam between the engine and a distributed job queue (several instances on one store): the engine
 * queues a job for each step it starts and runs the jobs the queue hands it (`Engine.runJob`); the
 * queue takes care of who runs what — a lock its worker renews while working, a job whose worker died
 * handed to another instance. `src/workflows/jobs/` implements it over BullMQ.
 */

/** One start of one step: `gen` counts the step's starts, so a job of an older start is recognised. */
export interface StepJob {
  run_id: string;
  step: string;
  gen: number;
  /** The W3C traceparent of the run's `workflow.run` span, which the step's span goes under. */
  trace?: string;
}

/** How a job ended for the queue: done (whatever the step's fate), or handed back to be taken elsewhere. */
export type JobOutcome = 'done' | 'handed-back';

export interface StepJobs {
  /** Queues the jobs; a job already queued or running (same run, step and gen) is left as it is. */
  enqueue(jobs: readonly StepJob[]): Promise<void>;
  /** Stops this instance's worker taking jobs; resolves once the jobs it ran have ended or gone back. */
  stopWorking?(): Promise<void>;
  /** Lets go of the queue (and whatever else the jobs need: timers, listeners). */
  close?(): Promise<void>;
}
