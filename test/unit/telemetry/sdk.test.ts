import { describe, expect, it } from 'vitest';
import { startTelemetry, telemetryRequested } from '../../../src/telemetry/index.ts';

describe('telemetry start-up', () => {
  it.each([
    [{}, false],
    [{ OTEL_TRACES_EXPORTER: 'none' }, false],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, true],
    [{ OTEL_TRACES_EXPORTER: 'console' }, true],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }, true],
    [{ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }, false],
  ])('%j → %s', (env, expected) => {
    expect(telemetryRequested(env)).toBe(expected);
  });

  it('starts nothing when no exporter is configured', async () => {
    expect(await startTelemetry({})).toBeNull();
  });
});
