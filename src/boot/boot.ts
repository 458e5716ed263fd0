/**
 * The one start-up sequence, shared by `quorum serve`, `quorum run` (embedded) and the tests:
 * config → store and limits → gateway → workflow engine → HTTP (when asked), each step logged once, and
 * `close()` undoing them in reverse: drain HTTP (see drain.ts), stop the engine's event streams, hand
 * its steps in flight back, stop the gateway (provider queues, limit backends and their Redis), close
 * the store (flushing the ledger and the request log). A step that
 * fails closes what was already open and throws a BootError naming the step and what to do (or the
 * ConfigError with every problem, for the config step).
 */
import { Alerts } from '../alerts/index.ts';
import { ConfigError, type GatewayConfig, loadConfig } from '../config/index.ts';
import { Gateway, type GatewayOptions } from '../gateway/index.ts';
import { Learner } from '../learning/index.ts';
import type { LimitBackends } from '../limits/index.ts';
import { OverrideCache } from '../limits/overrides.ts';
import { scopedWindow, windowsOf } from '../limits/scopes.ts';
import { RequestLog } from '../request-log/index.ts';
import { databaseUrlFrom, parseDatabaseUrl } from '../store/database-url.ts';
import { type RequestLogSummaryRow, redactUrl, type Store } from '../store/index.ts';
import type { Logger } from '../telemetry/index.ts';
import { Engine, type EngineOptions } from '../workflows/engine/index.ts';
import { EventHub } from '../workflows/event-hub.ts';
import { createGatewayRunner, storeCallerResolver } from '../workflows/gateway-runner.ts';
import { startDistributedEngine } from '../workflows/jobs/index.ts';
import { handBackSteps } from './engine-drain.ts';
import { BootError } from './errors.ts';
import { tuneHeap } from './heap.ts';
import { type Http, type HttpOptions, openHttp } from './http.ts';
import { repeatQuiet } from './repeat-quiet.ts';
import { openServices } from './services.ts';
import { shareProviderLimits } from './worker-count.ts';

export interface BootOptions {
  logger: Logger;
  /**
   * The configuration: a file (`path`; default $QUORUM_CONFIG, else config/quorum.yaml if it exists,
   * else the demo), or one already loaded.
   */
  config?: { path?: string | undefined } | { loaded: GatewayConfig };
  /** Read for config interpolation, QUORUM_DATABASE_URL and QUORUM_REDIS_URL (default process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * The store: `open` (default) opens QUORUM_DATABASE_URL with the limit backends and closes both on
   * `close`; a Store is used as given and left open; `none` runs without one (no admin API, no
   * workflows, no ledger unless `gateway.ledger` is given).
   */
  store?: 'open' | 'none' | Store;
  /** Extra gateway options (tests: clocks, health, limits, a ledger). */
  gateway?: GatewayOptions;
  /**
   * The workflow engine (needs a store): `run` (default with a store) runs steps here; `resume` also
   * picks up the unfinished runs in the store (`quorum serve`); a function supplies a stand-in (a
   * worker of several reaches the one engine through the primary); `none` leaves workflows out.
   */
  workflows?:
    | 'run'
    | 'resume'
    | 'none'
    | ((hub: EventHub) => Engine)
    | { mode: 'run' | 'resume'; onEvent?: EngineOptions['onEvent']; onError?: EngineOptions['onError'] };
  /** This process is one of this many workers: each gets its share of the providers' outbound limits. */
  workers?: number;
  /** Listen for HTTP (serve, tests); absent → no listener (`quorum run`). */
  http?: HttpOptions;
  /** The request log: where this process's finished records go for the other workers' live tails. */
  requestLog?: { relay?: (rows: RequestLogSummaryRow[]) => void };
}

export interface Booted {
  config: GatewayConfig;
  gateway: Gateway;
  store: Store | undefined;
  limits: LimitBackends;
  /** Budget alerts: recorded in the store (when there is one), logged, delivered to the webhooks. */
  alerts: Alerts;
  workflows: { engine: Engine; hub: EventHub } | undefined;
  /** The request log (with a store and `logging.requests`). */
  requestLog: RequestLog | undefined;
  /** What the router learns from outcomes (unless `routing.learning.enabled` is false). */
  learning: Learner | undefined;
  http: Http | undefined;
  /** Undoes the boot in reverse; `force` cuts open HTTP connections instead of draining them. */
  close(options?: { force?: boolean }): Promise<void>;
}

export async function boot(options: BootOptions): Promise<Booted> {
  const { logger } = options;
  tuneHeap();
  const env = options.env ?? process.env;
  // Undone in reverse by close(), or by a later step's failure.
  const undo: { what: string; run: () => Promise<void> }[] = [];
  // Set by close(): cut open HTTP connections instead of waiting for them.
  let force = false;
  const unwind = async () => {
    for (const step of undo.splice(0).reverse()) {
      try {
        await step.run();
        logger.debug(`closed: ${step.what}`);
      } catch (err) {
        logger.warn({ err }, `closing ${step.what} failed: ${(err as Error).message}`);
      }
    }
  };

  try {
    // 1. config
    const config = shareProviderLimits(loadStep(options.config, env), options.workers ?? 1);
    if (!('loaded' in (options.config ?? {}))) for (const note of config.notes) logger.info(note);
    logger.info(
      { config: config.source, models: config.models.length, providers: config.providers.map((p) => p.id) },
      'config loaded',
    );

    // 2. store and limits
    let store: Store | undefined;
    let limits = options.gateway?.limits;
    if (options.store === 'open' || options.store === undefined) {
      const url = databaseUrlFrom(env);
      try {
        const services = await openServices(config, env, logger);
        store = services.store;
        limits ??= services.limits;
        if (limits !== services.limits) await services.limits.close();
      } catch (err) {
        throw new BootError(
          'store',
          `cannot open the store or the limit backends: ${(err as Error).message}`,
          `check that QUORUM_DATABASE_URL (${redactUrl(url)}) names a database this process can reach and write, and that QUORUM_REDIS_URL, if set, is a redis:// URL`,
          { cause: err },
        );
      }
      const opened = store;
      undo.push({ what: 'store', run: () => opened.close() });
    } else if (options.store !== 'none') {
      store = options.store;
    }

    // Learning: the store's estimates read before the first request; closed (flushed) before the store.
    let learning: Learner | undefined;
    if (config.routing.learning.enabled) {
      const learner = new Learner(config, {
        ...(store ? { repo: store.learning } : {}),
        onError: (err) => logger.warn({ err }, 'learning: background work failed (it is retried)'),
      });
      // A store that cannot be read yet leaves the catalog's quality in force until a refresh succeeds.
      await learner
        .start()
        .catch((err) => logger.warn({ err }, 'learning: cannot read the learnt quality yet'));
      undo.push({ what: 'learning', run: () => learner.close() });
      learning = learner;
    }
    // Budget alerts: closed after the gateway (what the last requests noted is recorded), before the store.
    const alerts = new Alerts({ settings: config.alerts, repo: store?.alerts, logger });
    undo.push({ what: 'alerts', run: () => alerts.close() });

    // 3. gateway (closing it stops the provider queues and the limit backends)
    const gateway = await Gateway.create(config, {
      alerts,
      onError: (err) => logger.warn({ err }, err.message),
      onWarn: (message, fields) => logger.warn(fields, message),
      ...(store ? { ledger: store.ledger } : {}),
      ...(learning ? { learning } : {}),
      ...options.gateway,
      ...(limits ? { limits } : {}),
    }).catch((err) => {
      throw new BootError(
        'gateway',
        `cannot start the gateway: ${(err as Error).message}`,
        'check the providers section of the configuration (`quorum validate`)',
        { cause: err },
      );
    });
    undo.push({ what: 'gateway and limits', run: () => gateway.close() });
    logger.info({ limits: gateway.limits.kind, deployments: config.models.length }, 'gateway ready');
    if (store) {
      // Budget overrides: every instance reads the live ones from the shared store.
      const overrides = new OverrideCache({
        load: () => (store as Store).overrides.live(),
        onError: (err) => logger.warn({ err }, 'budget overrides: cannot read the store (retried)'),
      });
      await overrides.start();
      gateway.limits.overrides = overrides;
      undo.push({ what: 'budget overrides', run: async () => overrides.close() });
      await observeBudgets(gateway, store, logger);
    }
    alerts.start();

    // 4. workflow engine: shared jobs when this process opened a Postgres store and Redis is set
    let workflows: Booted['workflows'];
    const wanted = options.workflows ?? 'run';
    const shared =
      store && options.store !== 'none' && typeof options.store !== 'object' && distributedWorkflows(env);
    if (store && wanted !== 'none' && shared && typeof wanted !== 'function') {
      const hub = new EventHub();
      const custom: { onEvent?: EngineOptions['onEvent']; onError?: EngineOptions['onError'] } =
        typeof wanted === 'object' ? wanted : {};
      const engine = await startDistributedEngine({
        store,
        databaseUrl: databaseUrlFrom(env),
        redisUrl: env.QUORUM_REDIS_URL!,
        prefix: config.workflows.queue_prefix,
        lockMs: config.workflows.lock_ms,
        concurrency: config.workflows.concurrency,
        hub,
        ...(custom.onEvent && { onEvent: custom.onEvent }),
        onError: repeatQuiet((err, repeated) =>
          logger.warn(
            { err, ...(repeated && { repeated }) },
            `workflow jobs: ${(err as Error).message}${repeated ? ` (and ${repeated} more like it)` : ''}`,
          ),
        ),
        engine: {
          runner: createGatewayRunner(gateway, storeCallerResolver(store, config), { captureLedger: true }),
          ledger: store.ledger,
          onError:
            custom.onError ?? ((err, runId) => logger.error({ err, run_id: runId }, 'workflow engine error')),
          onNotice: (message, fields) => logger.warn(fields, message),
          maxTemplateBytes: config.server.max_body_bytes,
        },
      }).catch((err) => {
        throw new BootError(
          'workflows',
          `cannot start the shared workflow jobs: ${(err as Error).message}`,
          'check that QUORUM_REDIS_URL answers and that the database accepts LISTEN (Postgres)',
          { cause: err },
        );
      });
      // Closed after the HTTP drain (pushed before it): the feed still answers `?wait=true` meanwhile.
      undo.push({ what: 'workflow jobs', run: () => engine.close() });
      undo.push({ what: 'workflow event streams', run: async () => hub.close() });
      workflows = { engine, hub };
      logger.info(
        { lock_ms: config.workflows.lock_ms, concurrency: config.workflows.concurrency },
        'workflow engine ready: steps run as jobs shared with every instance on this database and Redis',
      );
    } else if (store && wanted !== 'none') {
      const hub = new EventHub();
      let engine: Engine;
      if (typeof wanted === 'function') {
        engine = wanted(hub);
      } else {
        const mode = typeof wanted === 'string' ? wanted : wanted.mode;
        const custom: { onEvent?: EngineOptions['onEvent']; onError?: EngineOptions['onError'] } =
          typeof wanted === 'object' ? wanted : {};
        engine = new Engine({
          store,
          runner: createGatewayRunner(gateway, storeCallerResolver(store, config)),
          onEvent: (event) => {
            hub.publish(event);
            custom.onEvent?.(event);
            learning?.onRunEvent(event);
          },
          onError:
            custom.onError ?? ((err, runId) => logger.error({ err, run_id: runId }, 'workflow engine error')),
          concurrency: config.workflows.concurrency,
          maxTemplateBytes: config.server.max_body_bytes,
        });
        if (mode === 'resume') {
          const resumed = await engine.resume().catch((err) => {
            throw new BootError(
              'workflows',
              `cannot resume the unfinished workflow runs: ${(err as Error).message}`,
              'the store answered the other start-up queries, so retry; if it persists, check the database',
              { cause: err },
            );
          });
          if (resumed.length) {
            logger.info({ runs: resumed }, `resumed ${resumed.length} unfinished workflow run(s)`);
          }
        }
      }
      // After the HTTP drain, before the gateway and the store close: the steps in flight go back to
      // the job engine (another instance takes them) instead of being waited for.
      undo.push({ what: 'workflow engine', run: () => handBackSteps(engine) });
      // Stopping the engine: its event streams end, so a drain is not held open by a waiting run.
      undo.push({ what: 'workflow event streams', run: async () => hub.close() });
      workflows = { engine, hub };
      logger.info('workflow engine ready (single instance: steps run in this process)');
      if (store.engine === 'postgres' && !env.QUORUM_REDIS_URL && typeof wanted !== 'function') {
        logger.warn(
          'workflow steps run in this process only: set QUORUM_REDIS_URL before starting a second instance on this database, or both would run the same steps',
        );
      }
    }

    // The request log: records built after each response, written in batches with the ledger's writer.
    let requestLog: RequestLog | undefined;
    if (store && config.logging.requests) {
      const log = new RequestLog(store.requestLog, {
        content: config.logging.content,
        retentionDays: config.logging.retention_days,
        contentRetentionDays: config.logging.content_retention_days,
        ...(options.requestLog?.relay ? { relay: options.requestLog.relay } : {}),
        onError: (err) => logger.warn({ err }, 'request log: background work failed'),
      });
      log.start();
      // Before the store closes (which writes what is buffered): what is queued is built first.
      undo.push({
        what: 'request log',
        run: async () => {
          log.close();
          await log.settle();
        },
      });
      requestLog = log;
      if (config.logging.content) {
        logger.info(
          { retention_days: config.logging.content_retention_days },
          'request log keeps prompt and answer text (logging.content)',
        );
      }
    }

    // 5. HTTP
    let http: Http | undefined;
    if (options.http) {
      const opened = await openHttp(options.http, {
        config,
        gateway,
        logger,
        store,
        workflows,
        requestLog,
        learning,
        alerts,
      });
      undo.push({ what: 'HTTP listener', run: () => opened.drain(force) });
      http = opened;
    }
    // First of all on close: steps in flight here go back to the shared queue at once (another
    // instance takes them) instead of holding the shutdown; a no-op for the single-instance engine.
    const engine = workflows?.engine;
    if (engine?.distributed)
      undo.push({ what: 'workflow steps in flight (handed back)', run: () => engine.drain() });

    let closing: Promise<void> | undefined;
    return {
      config,
      gateway,
      store,
      limits: gateway.limits,
      alerts,
      workflows,
      requestLog,
      learning,
      http,
      close(closeOptions = {}) {
        force = closeOptions.force ?? false;
        closing ??= unwind();
        return closing;
      },
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}

/**
 * Hands every team budget (and a config team's tag budgets) to the alerts once at start-up: a crossing seen just before a crash (noted,
 * not yet recorded) is recorded now even if no request follows; one already recorded writes nothing.
 */
async function observeBudgets(gateway: Gateway, store: Store, logger: Logger): Promise<void> {
  try {
    // Config teams: every window of the team and of its tags (end users' and keys' are seen per request).
    const configured = new Set<string>();
    for (const t of gateway.config.teams) {
      configured.add(t.id);
      const team = t.id;
      await gateway.softLimits.checkWindows([
        ...windowsOf(t).map((w) => scopedWindow({ kind: 'team', team, id: team }, w)),
        ...Object.entries(t.tags ?? {}).flatMap(([selector, rule]) =>
          windowsOf(rule).map((w) => scopedWindow({ kind: 'tag', team, id: selector }, w)),
        ),
      ]);
    }
    for (const team of await store.teams.list()) {
      if (configured.has(team.id)) continue;
      const budget = team.budget;
      if (!budget || (!budget.alerts?.length && budget.soft_limit_usd === undefined)) continue;
      await gateway.softLimits.check({
        team: team.id,
        limitUsd: budget.limit_usd,
        period: budget.period,
        ...(budget.soft_limit_usd !== undefined ? { softLimitUsd: budget.soft_limit_usd } : {}),
        ...(budget.alerts?.length ? { alertThresholds: budget.alerts } : {}),
      });
    }
  } catch (err) {
    logger.warn(
      { err },
      'alerts: could not read the budgets at start-up; they are checked after each request',
    );
  }
}

/**
 * Whether workflow steps run as jobs shared by several instances: the store is Postgres and Redis is
 * set (both shared). Otherwise (SQLite, or no Redis) they run in this process only.
 */
export function distributedWorkflows(env: NodeJS.ProcessEnv): boolean {
  return parseDatabaseUrl(databaseUrlFrom(env)).engine === 'postgres' && Boolean(env.QUORUM_REDIS_URL);
}

function loadStep(source: BootOptions['config'], env: NodeJS.ProcessEnv): GatewayConfig {
  if (source && 'loaded' in source) return source.loaded;
  try {
    return loadConfig({ ...(source?.path !== undefined ? { path: source.path } : {}), env });
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new BootError(
      'config',
      `cannot load the configuration: ${(err as Error).message}`,
      'check --config / QUORUM_CONFIG names a readable YAML file (`quorum validate` lists every problem)',
      { cause: err },
    );
  }
}
