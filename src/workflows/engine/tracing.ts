import { failSpan, type Span, tracer, withSpan } from '../../telemetry/index.ts';
import type { RunRecord } from '../state.ts';
import type { Live } from './live.ts';
import { isSettled } from './step-state.ts';

/** Opens `workflow.run {name}` when the run (re)starts running here; ends it when it ends or waits. */
export function traceRun(live: Live): void {
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

/** `workflow.step {step}`, under `parent` when there is one; the model calls' spans become its children. */
export function startStepSpan(run: RunRecord, name: string, parent?: Span, take?: number): Span {
  const attributes = {
    'workflow.run_id': run.id,
    'workflow.step': name,
    'quorum.team': run.team,
    ...(take !== undefined && { 'workflow.step.take': take }),
  };
  const open = () => tracer.startSpan(`workflow.step ${name}`, { attributes });
  return parent ? withSpan(parent, open) : open();
}
