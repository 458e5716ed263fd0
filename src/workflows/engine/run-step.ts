import { failSpan, type Span, withSpan } from '../../telemetry/index.ts';
import type { SchemaCompiler, StepDefinition } from '../definition/index.ts';
import type { RunRecord } from '../state.ts';
import type { RunCap } from './cost-cap.ts';
import { type ExecuteStepInput, executeStep } from './execute-step.ts';
import type { StepResult } from './live.ts';
import type { StepRunner } from './runner.ts';
import { startStepSpan } from './tracing.ts';

/** One execution of one step, as both the in-process scheduler and a job's worker make it. */
export interface StepRun {
  /** The run as the step sees it: its inputs and the outputs of the steps before it. */
  run: RunRecord;
  name: string;
  step: StepDefinition;
  runner: StepRunner;
  signal: AbortSignal;
  /** The span the step's span goes under: the run's, here or (by its traceparent) on another instance. */
  parent?: Span | string | undefined;
  /** Several instances: the worker's take of the step. */
  take?: number | undefined;
  /** Several instances: this instance's name, on the step's span. */
  worker?: string | undefined;
  cap?: RunCap | undefined;
  schemaCompiler?: SchemaCompiler | undefined;
  maxPromptBytes: number;
  onCost: ExecuteStepInput['onCost'];
  onIteration: NonNullable<ExecuteStepInput['onIteration']>;
  onProgress?: ExecuteStepInput['onProgress'];
}

/**
 * Runs the step's model work under its `workflow.step` span and says how it ended; never throws (a
 * failure, an abort included, is a result). Recording the result is the caller's.
 */
export async function runStep(input: StepRun): Promise<StepResult> {
  const { run, name, signal } = input;
  const state = run.steps[name]!;
  const span = startStepSpan(run, name, input.parent, {
    ...(input.take !== undefined && { 'workflow.step.take': input.take }),
    ...(input.worker !== undefined && { 'workflow.step.worker': input.worker }),
  });
  let spent = 0;
  try {
    const outcome = await withSpan(span, () =>
      executeStep({
        runId: run.id,
        name,
        step: input.step,
        context: { inputs: run.inputs, steps: run.steps },
        feedback: state.feedback,
        team: run.team,
        keyId: run.key_id,
        runner: input.runner,
        signal,
        ...(input.take !== undefined && { take: input.take }),
        onCost: (usd, ledger) => {
          spent += usd;
          return input.onCost(usd, ledger);
        },
        onIteration: input.onIteration,
        ...(input.onProgress && { onProgress: input.onProgress }),
        ...(input.schemaCompiler && { schemaCompiler: input.schemaCompiler }),
        ...(input.cap && { cap: input.cap }),
        maxPromptBytes: input.maxPromptBytes,
      }),
    );
    span.setAttributes({
      'workflow.step.attempts': outcome.attempts,
      'workflow.step.iterations': outcome.iterations,
    });
    return { ok: true, outcome };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    failSpan(span, signal.aborted ? 'aborted' : err instanceof Error ? err.name : 'error', error);
    return { ok: false, error };
  } finally {
    span.setAttribute('quorum.cost_usd', spent);
    span.end();
  }
}
