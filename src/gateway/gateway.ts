/**
 * The gateway: everything built once at start-up from the configuration — the per-deployment state,
 * the provider queues, the cache, the limit backends and where calls are recorded. A request's stages
 * (pipeline/) receive it; the folders below take only the part they use (a Catalog, CallServices,
 * RequestHooks), which this class satisfies.
 */
import type { ModelSpec } from '../../routing/types.ts';
import type { AlertSink } from '../alerts/index.ts';
import type { GatewayConfig } from '../config/index.ts';
import {
  createLimitBackends,
  type LimitBackends,
  ProviderQueues,
  type ProviderQueuesOptions,
} from '../limits/index.ts';
import { OriginPools } from '../providers/http/origin-pools.ts';
import { closeAdapters, createAdapter } from '../providers/index.ts';
import type { ProviderAdapter } from '../providers/types.ts';
import { type LedgerSink, SoftLimitNotices, type WarnHook } from './budget/index.ts';
import { ResponseCache } from './cache/index.ts';
import {
  type Deployment,
  type HealthOptions,
  HealthTracker,
  type LearningHook,
  ModelTable,
} from './deployments/index.ts';

/** Tuning and services that are not configuration. */
export interface GatewayOptions {
  health?: HealthOptions;
  queues?: ProviderQueuesOptions;
  /** Budget and rate-limit backends; in memory when not given. */
  limits?: LimitBackends;
  ledger?: LedgerSink;
  /** Errors that must not fail a request (a settle or ledger write that failed). */
  onError?: (err: Error) => void;
  /** Operator notices, such as a team crossing its soft budget limit. */
  onWarn?: WarnHook;
  /** What the router learns from outcomes (src/learning); absent: the catalog's quality as configured. */
  learning?: LearningHook;
  /** Budget alerts: told each team budget's window after a settle (thresholds, soft limit). */
  alerts?: AlertSink;
}

/** Everything built once at start-up from the configuration. */
export class Gateway {
  readonly config: GatewayConfig;
  readonly table: ModelTable;
  /** Latency/error EWMAs and circuit breakers per deployment; the router reads it, calls update it. */
  readonly health: HealthTracker;
  /** Outbound queues for providers with `limits`. */
  readonly queues: ProviderQueues;
  readonly cache: ResponseCache;
  readonly limits: LimitBackends;
  readonly ledger: LedgerSink | undefined;
  readonly onError: ((err: Error) => void) | undefined;
  /** The learnt quality the router scores with, and where answers are reported for learning. */
  readonly learning: LearningHook | undefined;
  /** After a settle: a team crossing its soft budget limit (told once per period), and budget alerts. */
  readonly softLimits: SoftLimitNotices;
  /** Where a settled budget window of any scope is reported (`observe(subject)`): the budget alerts. */
  readonly alerts: AlertSink | undefined;
  /** Keep-alive pools for raw calls (passthrough surfaces), by origin, made on first use. */
  readonly rawPools = new OriginPools();
  private readonly onWarn: WarnHook | undefined;
  private readonly adapters = new Map<string, ProviderAdapter>();
  private readonly deployments = new Map<ModelSpec, Deployment>();

  /** Builds the gateway, loading only the adapters of the configured provider types. */
  static async create(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
    const adapters = new Map<string, ProviderAdapter>();
    for (const provider of config.providers) adapters.set(provider.id, await createAdapter(provider));
    return new Gateway(config, adapters, options);
  }

  constructor(config: GatewayConfig, adapters: Map<string, ProviderAdapter>, options: GatewayOptions = {}) {
    this.config = config;
    this.table = new ModelTable(config.models);
    this.health = new HealthTracker(options.health);
    this.queues = new ProviderQueues(config.providers, options.queues);
    this.limits = options.limits ?? createLimitBackends({});
    this.ledger = options.ledger;
    this.onError = options.onError;
    this.onWarn = options.onWarn;
    this.learning = options.learning;
    this.alerts = options.alerts;
    this.softLimits = new SoftLimitNotices(this.limits, options.onWarn, options.alerts);
    this.cache = new ResponseCache(config.cache);
    for (const [id, adapter] of adapters) this.adapters.set(id, adapter);
    for (const spec of config.models) {
      const provider = config.providers.find((p) => p.id === spec.provider)!;
      this.deployments.set(spec, { spec, provider, adapter: this.adapters.get(provider.id)! });
    }
  }

  /**
   * Stops the provider queues (queued calls are refused), the limit backends and the upstream pools
   * (the adapters' and the raw calls').
   */
  async close(): Promise<void> {
    await this.queues.stop();
    await this.limits.close();
    await closeAdapters(this.adapters.values());
    await this.rawPools.close();
  }

  /** An operator notice from the request path (usage reported past a hold), through `onWarn`. */
  warn(message: string, fields: Record<string, unknown>): void {
    this.onWarn?.(message, fields);
  }

  deployment(spec: ModelSpec): Deployment {
    return this.deployments.get(spec)!;
  }
}
