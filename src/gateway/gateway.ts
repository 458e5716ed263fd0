import type { ModelSpec } from '../../routing/types.ts';
import type { GatewayConfig } from '../config/index.ts';
import { ProviderQueues, type ProviderQueuesOptions } from '../limits/index.ts';
import { createAdapter } from '../providers/index.ts';
import type { ProviderAdapter } from '../providers/types.ts';
import { ResponseCache } from './cache.ts';
import type { Deployment } from './deployment.ts';
import { type HealthOptions, HealthTracker } from './health.ts';
import { ModelTable } from './model-table.ts';

/** Tuning that is not configuration (tests shorten cooldowns and windows with it). */
export interface GatewayOptions {
  health?: HealthOptions;
  queues?: ProviderQueuesOptions;
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
    this.cache = new ResponseCache(config.cache);
    for (const [id, adapter] of adapters) this.adapters.set(id, adapter);
    for (const spec of config.models) {
      const provider = config.providers.find((p) => p.id === spec.provider)!;
      this.deployments.set(spec, { spec, provider, adapter: this.adapters.get(provider.id)! });
    }
  }

  /** Stops the provider queues (queued calls are refused). */
  async close(): Promise<void> {
    await this.queues.stop();
  }

  deployment(spec: ModelSpec): Deployment {
    return this.deployments.get(spec)!;
  }
}
