import type { ProviderConfig, ProviderType } from '../config/index.ts';
import { createAnthropicAdapter } from './anthropic/index.ts';
import { createDemoAdapter } from './demo/index.ts';
import { createGeminiAdapter } from './gemini/index.ts';
import { createOpenAIAdapter } from './openai/index.ts';
import type { AdapterFactory, ProviderAdapter } from './types.ts';

const FACTORIES: Record<ProviderType, AdapterFactory> = {
  openai: createOpenAIAdapter,
  anthropic: createAnthropicAdapter,
  gemini: createGeminiAdapter,
  demo: createDemoAdapter,
};

export function createAdapter(config: ProviderConfig): ProviderAdapter {
  return FACTORIES[config.type](config);
}

export type { ProviderAdapter, UpstreamCall } from './types.ts';
export { UpstreamError } from './upstream-error.ts';
