import {
  type Attributes,
  context,
  INVALID_SPAN_CONTEXT,
  ProxyTracerProvider,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

export const tracer = trace.getTracer('quorum');

/** The API's own provider when none is registered: a fresh proxy's delegate is that shared no-op. */
const NO_PROVIDER = new ProxyTracerProvider().getDelegate();

/** A span that records nothing, shared: what every span is while no tracer provider is registered. */
export const NOOP_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Whether a tracer provider is registered (the SDK started, or a test's own). Until one is, every span
 * is a no-op, and the hot path skips starting them and the contexts that would carry them (the API's
 * no-op path still copies a context per span).
 */
export function tracing(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NO_PROVIDER;
}

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

/** The span's W3C `traceparent`, to parent spans in another process; undefined when tracing is off. */
export function traceparentOf(span: Span): string | undefined {
  const ctx = span.spanContext();
  if (!trace.isSpanContextValid(ctx)) return undefined;
  return `00-${ctx.traceId}-${ctx.spanId}-${(ctx.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** Runs `fn` with the span of another process (by its `traceparent`) as the parent of spans it starts. */
export function withRemoteParent<T>(traceparent: string, fn: () => T): T {
  const m = TRACEPARENT.exec(traceparent);
  if (!m) return fn();
  const remote = trace.setSpanContext(context.active(), {
    traceId: m[1]!,
    spanId: m[2]!,
    traceFlags: Number.parseInt(m[3]!, 16),
    isRemote: true,
  });
  return context.with(remote, fn);
}
