import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, describe, expect, it } from 'vitest';
import { NOOP_SPAN, tracer, tracing } from '../../../src/telemetry/tracer.ts';

// Only at the end: after trace.disable() the API hands out a new global proxy, and tracers taken before
// (the module's `tracer`) no longer see providers registered later.
afterAll(() => {
  trace.disable();
});

describe('tracing()', () => {
  it('is off while no tracer provider is registered, and the shared span records nothing', () => {
    expect(tracing()).toBe(false);
    expect(NOOP_SPAN.isRecording()).toBe(false);
    expect(trace.isSpanContextValid(NOOP_SPAN.spanContext())).toBe(false);
  });

  it('is on once a provider is registered (spans then record), and off again after it is removed', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    trace.setGlobalTracerProvider(provider);
    expect(tracing()).toBe(true);
    const span = tracer.startSpan('probe');
    expect(span.isRecording()).toBe(true);
    span.end();
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['probe']);
    await provider.shutdown();
    trace.disable();
    expect(tracing()).toBe(false);
  });
});
