import type { RunStatus, StepState } from '../state.ts';

/** Step-state helpers shared by the engine's operations. */

export const TERMINAL: ReadonlySet<RunStatus> = new Set(['succeeded', 'failed', 'cancelled']);

/** A run that `wait` returns for: finished, or holding for a person. */
export const isSettled = (status: RunStatus) => TERMINAL.has(status) || status === 'waiting';

export function freshStep(): StepState {
  return {
    status: 'pending',
    output: null,
    attempts: 0,
    iterations: 0,
    cost_usd: 0,
    started_at: null,
    ended_at: null,
    error: null,
    history: [],
    feedback: null,
    loops: 0,
  };
}

/**
 * Back to pending for a re-run. Cost and history stay (they happened); `loops` stays across a `back_to`
 * so its bound holds, and is cleared when a person restarts the step.
 */
export function resetStep(state: StepState, options: { feedback?: string | null; keepLoops?: boolean } = {}) {
  state.status = 'pending';
  state.output = null;
  state.attempts = 0;
  state.iterations = 0;
  state.started_at = null;
  state.ended_at = null;
  state.error = null;
  state.feedback = options.feedback ?? null;
  if (!options.keepLoops) state.loops = 0;
}
