/**
 * The durable state of workflow runs, as the engine and the store share it. A run's
 * steps and events change together in one transaction, so after a crash the store says exactly which
 * steps finished (never re-run) and which were running (run again).
 */

export type RunStatus = 'pending' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled';
export type StepStatus = RunStatus | 'skipped';

export type EventType =
  | 'run.started'
  | 'step.started'
  | 'step.succeeded'
  | 'step.failed'
  | 'step.waiting'
  | 'step.edited'
  | 'step.iteration'
  | 'run.succeeded'
  | 'run.failed'
  | 'run.cancelled';

/** A stored workflow definition: one version of a name. */
export interface WorkflowRecord {
  id: string;
  name: string;
  version: number;
  /** The validated definition, as JSON. */
  definition: unknown;
  created_at: number;
}

/** One output a step produced, kept so a person's correction never erases what the model said. */
export interface StepHistoryEntry {
  output: unknown;
  /** `model` for a produced output, `person` for a correction. */
  source: 'model' | 'person';
  at: number;
  cost_usd?: number;
  comment?: string;
}

export interface StepState {
  status: StepStatus;
  output: unknown;
  attempts: number;
  iterations: number;
  cost_usd: number;
  started_at: number | null;
  ended_at: number | null;
  error: string | null;
  history: StepHistoryEntry[];
  /** Feedback given to the step for its next run (`until` critique, `back_to`, a person's comment). */
  feedback: string | null;
  /** Loop counters for `back_to` (per target step). */
  loops: number;
  /**
   * Several instances (src/workflows/jobs/): `gen` counts the step's starts (its job is
   * `<run>:<step>:<gen>`), `takes` the workers that took this start (the fencing token of the one that
   * holds it is `(gen, takes)`), `worker` the instance that took it last.
   */
  gen?: number;
  takes?: number;
  /** Takes handed back by a draining instance (not lost: they do not count against the limit). */
  handed?: number;
  worker?: string;
}

export interface RunRecord {
  id: string;
  workflow_id: string;
  status: RunStatus;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown> | null;
  cost_usd: number;
  steps: Record<string, StepState>;
  /** The team and key that started the run: it is charged to them. */
  team: string;
  key_id: string | null;
  idempotency_key: string | null;
  error: string | null;
  created_at: number;
  updated_at: number;
  /** Bumped by every change of the run in the store (several instances write only over the version they read). */
  version?: number;
}

export interface RunEvent {
  seq: number;
  type: EventType;
  run_id: string;
  step?: string;
  /** Anything else the event carries (status, error, cost, output summary…). */
  data?: Record<string, unknown>;
  at: number;
}
