import { failSpan, type Span, tracer, withRemoteParent, withSpan } from '../../telemetry/index.ts';
import type { RunRecord } from '../state.ts';
import type { Live } from './live.ts';
import { isSettled } from './step-state.ts';

/** Opens `workflow.run {name}` when the run (re)starts running here; ends it when it ends or waits. */
export function traceRun(live: Live): void {
  const { run } = live;
  if (run.status === 'running' && !live.span) {
    live.span = startRunSpan(live);
  } else if (live.span && isSettled(run.status)) {
    const span = live.span;
    live.span = undefined;
    endRunSpan(span, run);
  }
}

/** `workflow.run {name}`: a running stretch of the run (until it ends or waits for a person). */
export function startRunSpan(live: Live, instance?: string): Span {
  const { run } = live;
  return tracer.startSpan(`workflow.run ${live.definition.name}`, {
    attributes: {
      'workflow.run_id': run.id,
      'workflow.id': run.workflow_id,
      'quorum.team': run.team,
      ...(instance !== undefined && { 'workflow.instance': instance }),
    },
  });
}

/** Ends a run span with how the run stands: its status and cost (failed: the span's status too). */
export function endRunSpan(span: Span, run: RunRecord): void {
  span.setAttributes({ 'workflow.run.status': run.status, 'quorum.cost_usd': run.cost_usd });
  if (run.status === 'failed') failSpan(span, 'workflow_failed', run.error ?? undefined);
  span.end();
}

/**
 * `workflow.step {step}`, under `parent` when there is one (a span here, or another instance's span
 * by its traceparent); the model calls' spans become its children.
 */
export function startStepSpan(
  run: RunRecord,
  name: string,
  parent?: Span | string,
  attrs: Record<string, string | number> = {},
): Span {
  const attributes = { 'workflow.run_id': run.id, 'workflow.step': name, 'quorum.team': run.team, ...attrs };
  const open = () => tracer.startSpan(`workflow.step ${name}`, { attributes });
  if (typeof parent === 'string') return withRemoteParent(parent, open);
  return parent ? withSpan(parent, open) : open();
}
