import type { ProviderConfig, ProviderType } from '../config/index.ts';
import type { AdapterFactory, ProviderAdapter } from './types.ts';

/**
 * Adapters load on demand: each provider SDK costs 7–30 MB of memory, and most deployments use one or
 * two of the three, so only the configured types are ever imported.
 */
const LOADERS: Record<ProviderType, () => Promise<AdapterFactory>> = {
  openai: async () => (await import('./openai/index.ts')).createOpenAIAdapter,
  anthropic: async () => (await import('./anthropic/index.ts')).createAnthropicAdapter,
  gemini: async () => (await import('./gemini/index.ts')).createGeminiAdapter,
  demo: async () => (await import('./demo/index.ts')).createDemoAdapter,
};

export async function createAdapter(config: ProviderConfig): Promise<ProviderAdapter> {
  return (await LOADERS[config.type]())(config);
}

/** Closes the adapters' connection pools (at gateway close, after the last call). */
export async function closeAdapters(adapters: Iterable<ProviderAdapter>): Promise<void> {
  await Promise.all([...adapters].map((adapter) => adapter.close?.()));
}

export type { EmbedCall, ProviderAdapter, UpstreamCall } from './types.ts';
export { UpstreamError } from './upstream-error.ts';
