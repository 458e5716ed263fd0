import type { LedgerEntry } from '../../store/index.ts';
import type { NewRunEvent, RunChange } from '../../store/workflows.ts';
import type { Span } from '../../telemetry/index.ts';
import type { Dag, WorkflowDefinition } from '../definition/index.ts';
import type { RunRecord } from '../state.ts';
import type { CostCap } from './cost-cap.ts';
import type { StepOutcome } from './execute-step.ts';

/** A run the engine is working on: its state as last read or written, and what runs of it here. */
export interface Live {
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

/** What one transition will write: the steps that changed, the run fields, the events. */
export interface Batch {
  steps: Set<string>;
  run: NonNullable<RunChange['run']>;
  events: NewRunEvent[];
  /** Ledger rows written with the change (a step's spend, several instances). */
  ledger?: LedgerEntry[];
}

export const newBatch = (): Batch => ({ steps: new Set(), run: {}, events: [] });

/** How one execution of a step ended. */
export type StepResult = { ok: true; outcome: StepOutcome } | { ok: false; error: string };

export const snapshot = (run: RunRecord): RunRecord => structuredClone(run);
