import cluster from 'node:cluster';
import { remoteEngine, serveEngine } from '../boot/engine-link.ts';
import { BootError, type Booted, boot, distributedWorkflows } from '../boot/index.ts';
import { receiveRequestLog, relayRequestLog } from '../boot/log-link.ts';
import { parseWorkers, workerProblems } from '../boot/worker-count.ts';
import { ENGINE_SLOT, runWorkers } from '../boot/workers.ts';
import { ConfigError, type GatewayConfig, loadConfig } from '../config/index.ts';
import { createLogger, type Logger, startTelemetry } from '../telemetry/index.ts';
import { installLastResort } from '../telemetry/last-resort.ts';
import { parse, usage } from './args.ts';
import { SERVE_HELP } from './help.ts';

interface ServeValues {
  config?: string | boolean | undefined;
  port?: string | boolean | undefined;
  host?: string | boolean | undefined;
}

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    config: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    workers: { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  if (cluster.isWorker) {
    const code = await serveProcess(values, workerRole());
    // The IPC channel to the primary would keep the worker alive: let go of it so the process ends.
    if (process.connected) process.disconnect();
    return code;
  }
  const workers = parseWorkers(
    typeof values.workers === 'string' ? values.workers : process.env.QUORUM_WORKERS,
  );
  if (typeof workers === 'string') return usage('serve', workers);
  if (workers > 1) return servePrimary(values, workers);
  return serveProcess(values, null);
}

/** This worker's slot among `count` (set by the primary when it forks it). */
interface WorkerRole {
  slot: number;
  count: number;
}

function workerRole(): WorkerRole {
  return {
    slot: Number(process.env.QUORUM_WORKER_SLOT) || 1,
    count: Number(process.env.QUORUM_WORKER_COUNT) || 1,
  };
}

function configProblems(err: unknown): number {
  if (!(err instanceof ConfigError)) throw err;
  for (const p of err.problems) process.stderr.write(`${p}\n`);
  return 2;
}

/** The whole gateway in this process: alone, or as one worker of several. */
async function serveProcess(values: ServeValues, role: WorkerRole | null): Promise<number> {
  const shutdownTelemetry = await startTelemetry();
  const base = createLogger();
  const logger = role ? base.child({ worker: role.slot }) : base;
  // From here on, one escaped error must not end every tenant's requests: log it, count it, serve on.
  installLastResort(logger);
  const masterKey = process.env.QUORUM_MASTER_KEY || undefined;
  const port = Number(values.port ?? process.env.PORT ?? 8080);
  const hostname = String(values.host ?? process.env.HOST ?? '127.0.0.1');
  // Steps shared through Postgres and Redis: every worker runs them. Otherwise one worker does.
  const shared = distributedWorkflows(process.env);
  const runsEngine = !role || shared || role.slot === ENGINE_SLOT;
  let link: ReturnType<typeof serveEngine> | undefined;

  let booted: Booted;
  try {
    booted = await boot({
      logger,
      config: typeof values.config === 'string' ? { path: values.config } : {},
      ...(role ? { workers: role.count } : {}),
      // With workers, one of them runs the engine; the others reach it through the primary.
      workflows: runsEngine
        ? {
            mode: 'resume',
            ...(role && !shared && { onEvent: (event) => link?.publish(event) }),
          }
        : remoteEngine,
      // With workers, each one's finished requests reach the others' live tails.
      ...(role && { requestLog: { relay: relayRequestLog } }),
      http: {
        port,
        hostname,
        masterKey,
        ...(role && { announce: (url: string) => `worker ${role.slot} listening on ${url}` }),
      },
    });
  } catch (err) {
    if (err instanceof BootError) {
      logger.error({ step: err.step }, `${err.message} (${err.hint})`);
      logger.flush();
      return 1;
    }
    return configProblems(err);
  }
  if (role && !shared && runsEngine && booted.workflows) link = serveEngine(booted.workflows.engine);
  const stopLogLink = role && booted.requestLog ? receiveRequestLog(booted.requestLog) : undefined;
  if (role) process.send?.({ q: 'listening', url: booted.http!.url });

  const signal = await new Promise<string>((resolve) => {
    if (role) {
      // The primary forwards SIGTERM, and a terminal's Ctrl-C reaches every worker too: drain once.
      process.on('SIGINT', () => resolve('SIGINT'));
      process.on('SIGTERM', () => resolve('SIGTERM'));
      // The primary is gone: nobody will restart or stop us.
      process.on('disconnect', () => resolve('primary exit'));
    } else {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    }
  });
  logger.info(`${signal} received: draining connections`);
  link?.stop();
  stopLogLink?.();
  await booted.close();
  await shutdownTelemetry?.();
  logger.info('stopped');
  logger.flush();
  return 0;
}

/** `--workers N` (N > 1): checks the configuration can be shared, then forks and watches the workers. */
async function servePrimary(values: ServeValues, count: number): Promise<number> {
  const logger: Logger = createLogger();
  let config: GatewayConfig;
  try {
    config = loadConfig(typeof values.config === 'string' ? { path: values.config } : {});
  } catch (err) {
    return configProblems(err);
  }
  const problems = workerProblems(count, config, process.env);
  if (problems.length) {
    for (const p of problems) process.stderr.write(`quorum serve: ${p}\n`);
    return 2;
  }
  const code = await runWorkers({ count, logger });
  logger.info('stopped');
  logger.flush();
  return code;
}
