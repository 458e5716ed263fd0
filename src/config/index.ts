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
export type {
  AlertsConfig,
  EnsembleConfig,
  KeyConfig,
  LearningConfig,
  ProviderConfig,
  ProviderType,
  TeamConfig,
} from './schema.ts';
