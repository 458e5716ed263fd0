/**
 * The HTTP step of the boot: the app over the gateway (with the store and the workflow engine when
 * there are), its listener, and `/metrics` on a listener of its own when `metrics.port` asks for one.
 */
import type { Alerts } from '../alerts/index.ts';
import type { GatewayConfig } from '../config/index.ts';
import type { Gateway } from '../gateway/index.ts';
import type { Learner } from '../learning/index.ts';
import type { RequestLog } from '../request-log/index.ts';
import { type AppOptions, createApp } from '../server/app.ts';
import { listen } from '../server/listen.ts';
import type { Lifecycle } from '../server/routes/health.ts';
import { createMetricsApp } from '../server/routes/metrics.ts';
import type { Store } from '../store/index.ts';
import type { Logger } from '../telemetry/index.ts';
import { closeWhenDraining, drainListener, type Listener } from './drain.ts';
import { BootError } from './errors.ts';

export interface HttpOptions {
  port: number;
  hostname: string;
  masterKey?: string | undefined;
  /**
   * The line that says the gateway is up (default `Quorum listening on http://host:port`, which
   * scripts and the tests wait for); a worker of several says its own.
   */
  announce?: (url: string) => string;
  /** Extra app services built against the started gateway (tests that wire their own engine). */
  extend?: (gateway: Gateway) => Partial<Pick<AppOptions, 'store' | 'workflows'>>;
}

export interface Http {
  url: string;
  port: number;
  /** True when no key is configured and every request is served as team `default`. */
  open: boolean;
  /**
   * Turns /readyz 503 at once, keeps accepting for `server.drain_delay_ms`, then stops accepting and
   * resolves once the in-flight requests have finished (cut after `server.drain_timeout_ms`); `force`
   * cuts open connections at once instead (tests).
   */
  drain(force?: boolean): Promise<void>;
}

export async function openHttp(
  options: HttpOptions,
  deps: {
    config: GatewayConfig;
    gateway: Gateway;
    logger: Logger;
    store: Store | undefined;
    workflows: AppOptions['workflows'];
    requestLog?: RequestLog | undefined;
    learning?: Learner | undefined;
    alerts?: Alerts | undefined;
  },
): Promise<Http> {
  const { config, gateway, logger } = deps;
  let state: Lifecycle = 'starting';
  const extra = options.extend?.(gateway) ?? {};
  const store = extra.store ?? deps.store;
  const workflows = extra.workflows ?? deps.workflows;
  const { app, keys } = createApp({
    gateway,
    logger,
    ...(options.masterKey ? { masterKey: options.masterKey } : {}),
    ...(store ? { store } : {}),
    ...(store && workflows ? { workflows } : {}),
    ...(store && deps.requestLog ? { requestLog: deps.requestLog } : {}),
    lifecycle: () => state,
    ...(deps.learning ? { learning: deps.learning } : {}),
    ...(deps.alerts ? { alerts: deps.alerts } : {}),
  });
  if (keys.open) {
    logger.warn(
      'no keys and no QUORUM_MASTER_KEY configured: every request is served as team "default", unauthenticated, and only under loopback host names (server.allowed_hosts adds others)',
    );
  }

  const { port, hostname } = options;
  const server = (await listen(app.fetch, { port, hostname, timeouts: config.server }).catch((err) => {
    throw listenError(err, hostname, port, '--port or PORT');
  })) as Listener;
  closeWhenDraining(server, () => state === 'draining');
  let metricsServer: Listener | null = null;
  if (config.metrics.port !== undefined) {
    const metricsPort = config.metrics.port;
    const metricsApp = createMetricsApp({
      logger,
      key: config.metrics.key,
      masterKey: options.masterKey,
      open: keys.open,
      allowedHosts: config.server.allowed_hosts,
    });
    try {
      metricsServer = (await listen(metricsApp.fetch, {
        port: metricsPort,
        hostname,
        timeouts: config.server,
      })) as Listener;
    } catch (err) {
      await drainListener(server, { delayMs: 0, timeoutMs: 0, force: true });
      throw listenError(err, hostname, metricsPort, 'metrics.port', 'for metrics ');
    }
    logger.info(`metrics on http://${hostname}:${metricsPort}/metrics`);
  }
  state = 'ready';
  const actualPort = (server.address() as { port: number } | null)?.port ?? port;
  const url = `http://${hostname}:${actualPort}`;
  logger.info(
    {
      port: actualPort,
      host: hostname,
      config: config.source,
      models: config.models.length,
      providers: config.providers.map((p) => p.id),
    },
    options.announce?.(url) ?? `Quorum listening on ${url}`,
  );

  return {
    url,
    port: actualPort,
    open: keys.open,
    async drain(force = false) {
      state = 'draining';
      // Event streams of runs that can still change would hold the drain open for as long as a run
      // waits for a person; their followers resume elsewhere with Last-Event-ID.
      workflows?.hub.close();
      // Live tails of the request log likewise: they follow whichever instance serves next.
      deps.requestLog?.hub.close();
      const { drain_delay_ms: delayMs, drain_timeout_ms: timeoutMs } = config.server;
      logger.info({ delay_ms: delayMs, timeout_ms: timeoutMs }, 'draining: /readyz answers 503');
      await drainListener(server, {
        delayMs,
        timeoutMs,
        force,
        onCut: (open) =>
          logger.warn(`drain timeout (${timeoutMs} ms): cut ${open} connection(s) still in flight`),
      });
      // Prometheus may scrape until the end.
      if (metricsServer) await drainListener(metricsServer, { delayMs: 0, timeoutMs, force: true });
    },
  };
}

function listenError(err: unknown, hostname: string, port: number, setting: string, what = ''): BootError {
  const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  const hint =
    code === 'EADDRINUSE'
      ? `another process already listens there: stop it or choose another port (${setting})`
      : code === 'EACCES'
        ? `ports below 1024 need privileges: choose a higher port (${setting})`
        : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND'
          ? 'this machine has no such address: use 127.0.0.1, 0.0.0.0 or one of its own (--host or HOST)'
          : `check the host and port (--host/HOST, ${setting})`;
  return new BootError('http', `cannot listen ${what}on ${hostname}:${port}: ${code}`, hint, { cause: err });
}
