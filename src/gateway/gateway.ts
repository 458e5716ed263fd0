import type { ModelSpec } from '../../routing/types.ts';
import type { GatewayConfig } from '../config/index.ts';
import { createAdapter } from '../providers/index.ts';
import type { ProviderAdapter } from '../providers/types.ts';
import type { Deployment } from './deployment.ts';
import { ModelTable } from './model-table.ts';

/** Everything built once at start-up from the configuration. */
export class Gateway {
  readonly config: GatewayConfig;
  readonly table: ModelTable;
  private readonly adapters = new Map<string, ProviderAdapter>();
  private readonly deployments = new Map<ModelSpec, Deployment>();

  /** Builds the gateway, loading only the adapters of the configured provider types. */
  static async create(config: GatewayConfig): Promise<Gateway> {
    const adapters = new Map<string, ProviderAdapter>();
    for (const provider of config.providers) adapters.set(provider.id, await createAdapter(provider));
    return new Gateway(config, adapters);
  }

  constructor(config: GatewayConfig, adapters: Map<string, ProviderAdapter>) {
    this.config = config;
    this.table = new ModelTable(config.models);
    for (const [id, adapter] of adapters) this.adapters.set(id, adapter);
    for (const spec of config.models) {
      const provider = config.providers.find((p) => p.id === spec.provider)!;
      this.deployments.set(spec, { spec, provider, adapter: this.adapters.get(provider.id)! });
    }
  }

  deployment(spec: ModelSpec): Deployment {
    return this.deployments.get(spec)!;
  }
}
