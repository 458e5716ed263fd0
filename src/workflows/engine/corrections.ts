/** What a person does to a run: approve a step, correct an output, re-run from a step, cancel. */
import type { RunRecord } from '../state.ts';
import type { EngineCore } from './core.ts';
import { EngineError } from './errors.ts';
import { type Live, newBatch, snapshot } from './live.ts';
import { TERMINAL } from './step-state.ts';

/** What a person decides on an approval step. */
export interface Approval {
  approved: boolean;
  comment?: string;
}

const refuseCancelled = (live: Live) => {
  if (live.run.status === 'cancelled') throw new EngineError('conflict', 'the run was cancelled');
};

/** Releases an approval step: approved → succeeded (`{approved: true, comment}`), else it fails the run. */
export async function approve(
  core: EngineCore,
  runId: string,
  step: string,
  approval: Approval,
): Promise<RunRecord> {
  const live = await core.load(runId);
  return core.locked(live, async () => {
    const state = core.step(live, step);
    if (live.definition.steps[step]!.type !== 'approval' || state.status !== 'waiting') {
      throw new EngineError('conflict', `step "${step}" is not an approval waiting for a person`);
    }
    const batch = newBatch();
    const at = core.now();
    const comment = approval.comment;
    state.ended_at = at;
    batch.steps.add(step);
    if (approval.approved) {
      state.status = 'succeeded';
      state.output = { approved: true, ...(comment !== undefined && { comment }) };
      state.history.push({ output: state.output, source: 'person', at, ...(comment && { comment }) });
      batch.events.push({ type: 'step.succeeded', step, data: { approved: true } });
      await core.advance(live, batch);
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
      await core.failRun(live, batch, `step "${step}" ${state.error}`);
    }
    return snapshot(live.run);
  });
}

/**
 * A person's correction of a step's output: kept in its history, exactly its descendants go back to
 * pending (outputs cleared, in-flight calls aborted), and the run resumes.
 */
export async function editOutput(
  core: EngineCore,
  runId: string,
  step: string,
  output: unknown,
  comment?: string,
): Promise<RunRecord> {
  const live = await core.load(runId);
  return core.locked(live, async () => {
    const state = core.step(live, step);
    refuseCancelled(live);
    core.abort(live, step);
    const at = core.now();
    Object.assign(state, { status: 'succeeded', output, error: null, ended_at: at, feedback: null });
    state.started_at ??= at;
    state.history.push({ output, source: 'person', at, ...(comment && { comment }) });
    const batch = core.reopen(live, live.dag.descendants(step));
    batch.steps.add(step);
    batch.events.push({ type: 'step.edited', step, data: { descendants: live.dag.descendants(step) } });
    await core.advance(live, batch);
    return snapshot(live.run);
  });
}

/** Re-runs `from` and its descendants. */
export async function rerun(core: EngineCore, runId: string, from: string): Promise<RunRecord> {
  const live = await core.load(runId);
  return core.locked(live, async () => {
    core.step(live, from);
    refuseCancelled(live);
    await core.advance(live, core.reopen(live, [from, ...live.dag.descendants(from)]));
    return snapshot(live.run);
  });
}

/** Aborts in-flight runner calls and marks the run cancelled (a finished run is returned unchanged). */
export async function cancel(core: EngineCore, runId: string): Promise<RunRecord> {
  const live = await core.load(runId);
  return core.locked(live, async () => {
    if (TERMINAL.has(live.run.status)) return snapshot(live.run);
    const batch = newBatch();
    for (const [name, state] of Object.entries(live.run.steps)) {
      if (state.status === 'running') {
        core.abort(live, name);
        Object.assign(state, { status: 'cancelled', ended_at: core.now(), error: 'cancelled' });
        batch.steps.add(name);
      } else if (state.status === 'pending' || state.status === 'waiting') {
        state.status = 'skipped';
        batch.steps.add(name);
      }
    }
    batch.run.status = 'cancelled';
    batch.events.push({ type: 'run.cancelled' });
    await core.flush(live, batch);
    return snapshot(live.run);
  });
}
