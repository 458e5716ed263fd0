/**
 * Whether the environment asks for telemetry: the SDK reads OTEL_* itself, but starting it with no
 * exporter configured would only add cost, so it stays off unless an exporter is named.
 */
export function telemetryRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  const exporter = env.OTEL_TRACES_EXPORTER;
  if (exporter) return exporter !== 'none';
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Starts the OpenTelemetry Node SDK from OTEL_* variables; returns its shutdown, or null when off. The
 * SDK (about 25 MB) is imported only when telemetry is on.
 */
export async function startTelemetry(
  env: NodeJS.ProcessEnv = process.env,
): Promise<(() => Promise<void>) | null> {
  if (!telemetryRequested(env)) return null;
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({ serviceName: env.OTEL_SERVICE_NAME ?? 'quorum' });
  sdk.start();
  return () => sdk.shutdown();
}
