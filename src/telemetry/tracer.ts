import { type Attributes, context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

export const tracer = trace.getTracer('quorum');

export { type Attributes, type Span, SpanKind, SpanStatusCode };

/** Whether prompts and completions may be recorded on spans (off unless the operator opts in). */
export const traceContent = () => process.env.QUORUM_TRACE_CONTENT === 'true';

/** Records a failure on a span without leaking internals: only the error's class name and message. */
export function failSpan(span: Span, errorType: string, message?: string): void {
  span.setAttribute('error.type', errorType);
  span.setStatus({ code: SpanStatusCode.ERROR, ...(message ? { message } : {}) });
}

/** Runs `fn` with `span` as the active span, so spans started inside become its children. */
export function withSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}
