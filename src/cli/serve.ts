import { ConfigError, loadConfig } from '../config/index.ts';
import { Gateway } from '../gateway/index.ts';
import { openServices } from '../gateway/services.ts';
import { createApp } from '../server/app.ts';
import { listen } from '../server/listen.ts';
import { createMetricsApp } from '../server/routes/metrics.ts';
import { createLogger, startTelemetry } from '../telemetry/index.ts';
import { installLastResort } from '../telemetry/last-resort.ts';
import { Engine } from '../workflows/engine/index.ts';
import { EventHub } from '../workflows/event-hub.ts';
import { createGatewayRunner, storeCallerResolver } from '../workflows/gateway-runner.ts';
import { parse } from './args.ts';
import { SERVE_HELP } from './help.ts';

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    config: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  const shutdownTelemetry = await startTelemetry();
  const logger = createLogger();
  // From here on, one escaped error must not end every tenant's requests: log it, count it, serve on.
  installLastResort(logger);
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(typeof values.config === 'string' ? { path: values.config } : {});
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const p of err.problems) process.stderr.write(`${p}\n`);
      return 2;
    }
    throw err;
  }
  for (const note of config.notes) logger.info(note);
  const masterKey = process.env.QUORUM_MASTER_KEY || undefined;
  let ready = false;
  let services: Awaited<ReturnType<typeof openServices>>;
  try {
    services = await openServices(config, process.env, logger);
  } catch (err) {
    logger.error({ err }, `cannot open the store or the limit backends: ${(err as Error).message}`);
    return 1;
  }
  const gateway = await Gateway.create(config, {
    limits: services.limits,
    ledger: services.store.ledger,
    onError: (err) => logger.warn({ err }, err.message),
    onWarn: (message, fields) => logger.warn(fields, message),
  });
  // Workflows: the engine runs steps through the gateway's own request path; unfinished runs resume.
  const hub = new EventHub();
  const engine = new Engine({
    store: services.store,
    runner: createGatewayRunner(gateway, storeCallerResolver(services.store, config)),
    onEvent: hub.publish,
    onError: (err, runId) => logger.error({ err, run_id: runId }, 'workflow engine error'),
    maxTemplateBytes: config.server.max_body_bytes,
  });
  const resumed = await engine.resume();
  if (resumed.length) logger.info({ runs: resumed }, `resumed ${resumed.length} unfinished workflow run(s)`);
  const { app, keys } = createApp({
    store: services.store,
    workflows: { engine, hub },
    gateway,
    logger,
    ...(masterKey ? { masterKey } : {}),
    isReady: () => ready,
  });
  if (keys.open) {
    logger.warn(
      'no keys and no QUORUM_MASTER_KEY configured: every request is served as team "default", unauthenticated, and only under loopback host names (server.allowed_hosts adds others)',
    );
  }

  const port = Number(values.port ?? process.env.PORT ?? 8080);
  const hostname = String(values.host ?? process.env.HOST ?? '127.0.0.1');
  const server = await listen(app.fetch, { port, hostname, timeouts: config.server }).catch(
    (err: NodeJS.ErrnoException) => {
      logger.error(`cannot listen on ${hostname}:${port}: ${err.code ?? err.message}`);
      process.exit(1);
    },
  );
  const metricsServer = await listenMetrics(config, logger, hostname, masterKey, keys.open);
  ready = true;
  const actualPort = (server.address() as { port: number } | null)?.port ?? port;
  logger.info(
    {
      port: actualPort,
      host: hostname,
      config: config.source,
      models: config.models.length,
      providers: config.providers.map((p) => p.id),
    },
    `Quorum listening on http://${hostname}:${actualPort}`,
  );

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info(`${signal} received: draining connections`);
      ready = false;
      server.close(() => resolve());
      // Event streams of runs that can still change would hold the drain open for as long as a run
      // waits for a person; their followers resume elsewhere with Last-Event-ID.
      hub.close();
      metricsServer?.close();
      // Idle keep-alive sockets would hold close() open; in-flight requests still finish.
      (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await gateway.close();
  await services.store.close(); // flushes the ledger
  await shutdownTelemetry?.();
  logger.info('stopped');
  logger.flush();
  return 0;
}

/** `metrics.port`: /metrics on a listener of its own (same host), for a scraper the operator lets in. */
async function listenMetrics(
  config: ReturnType<typeof loadConfig>,
  logger: ReturnType<typeof createLogger>,
  hostname: string,
  masterKey: string | undefined,
  open: boolean,
) {
  const port = config.metrics.port;
  if (port === undefined) return null;
  const app = createMetricsApp({
    logger,
    key: config.metrics.key,
    masterKey,
    open,
    allowedHosts: config.server.allowed_hosts,
  });
  const server = await listen(app.fetch, { port, hostname, timeouts: config.server }).catch(
    (err: NodeJS.ErrnoException) => {
      logger.error(`cannot listen for metrics on ${hostname}:${port}: ${err.code ?? err.message}`);
      process.exit(1);
    },
  );
  logger.info(`metrics on http://${hostname}:${port}/metrics`);
  return server;
}
