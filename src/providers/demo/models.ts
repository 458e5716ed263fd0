import type { ModelSpec } from '../../../routing/types.ts';

/**
 * The demo provider's models. Prices are fictional but non-zero so that cost headers, budgets and the
 * router's price trade-offs can be tried without any provider key. demo-mini is the cheap, weaker one:
 * it gets some arithmetic wrong (arithmetic.ts), so a vote over the three can split. demo-embed is the
 * embedding model (POST /v1/embeddings, embed.ts): 256 dimensions, priced per input token only.
 */
export const DEMO_MODELS: ModelSpec[] = [
  {
    id: 'demo-fast',
    provider: 'demo',
    upstream: 'demo-fast',
    context_window: 32_000,
    max_output_tokens: 4_096,
    price: { input: 0.1, output: 0.4 },
    capabilities: ['tools', 'vision', 'json', 'streaming'],
    quality: { general: 0.6, code: 0.55, math: 0.5, reasoning: 0.5, writing: 0.6 },
    aliases: ['demo'],
    weight: 1,
  },
  {
    id: 'demo-smart',
    provider: 'demo',
    upstream: 'demo-smart',
    context_window: 128_000,
    max_output_tokens: 8_192,
    price: { input: 2, output: 8 },
    capabilities: ['tools', 'vision', 'json', 'streaming'],
    quality: { general: 0.85, code: 0.85, math: 0.8, reasoning: 0.85, writing: 0.85 },
    aliases: [],
    weight: 1,
  },
  {
    id: 'demo-mini',
    provider: 'demo',
    upstream: 'demo-mini',
    context_window: 16_000,
    max_output_tokens: 2_048,
    price: { input: 0.03, output: 0.12 },
    capabilities: ['tools', 'json', 'streaming'],
    quality: { general: 0.45, code: 0.4, math: 0.35, reasoning: 0.4, writing: 0.45 },
    aliases: [],
    weight: 1,
  },
  {
    id: 'demo-embed',
    provider: 'demo',
    upstream: 'demo-embed',
    context_window: 8_192,
    max_output_tokens: 0,
    price: { input: 0.02, output: 0 },
    capabilities: ['embeddings'],
    quality: { general: 0, code: 0, math: 0, reasoning: 0, writing: 0 },
    aliases: [],
    weight: 1,
  },
];
