export {
  CATALOG_PATH,
  ConfigError,
  completeModel,
  DEFAULT_CONFIG_PATH,
  type GatewayConfig,
  type LoadOptions,
  loadCatalog,
  loadConfig,
} from './load.ts';
export type { EnsembleConfig, KeyConfig, ProviderConfig, ProviderType, TeamConfig } from './schema.ts';
