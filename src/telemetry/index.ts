export { createLogger, type Logger, REDACT_PATHS } from './logger.ts';
export * as metrics from './metrics.ts';
export { startTelemetry, telemetryRequested } from './sdk.ts';
export * from './semconv.ts';
export {
  failSpan,
  NOOP_SPAN,
  type Span,
  SpanKind,
  SpanStatusCode,
  traceContent,
  traceparentOf,
  tracer,
  tracing,
  withRemoteParent,
  withSpan,
} from './tracer.ts';
