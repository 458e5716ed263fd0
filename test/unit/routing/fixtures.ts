import type { TaskProfile } from '../../../routing/route-types.ts';
import type { Category, ModelSpec } from '../../../routing/types.ts';

const flat = (q: number): Record<Category, number> => ({
  general: q,
  code: q,
  math: q,
  reasoning: q,
  writing: q,
});

export function model(id: string, over: Partial<ModelSpec> = {}): ModelSpec {
  return {
    id,
    provider: 'p',
    upstream: id,
    context_window: 128_000,
    max_output_tokens: 16_384,
    price: { input: 1, output: 4 },
    capabilities: ['tools', 'vision', 'json', 'streaming'],
    quality: flat(0.7),
    aliases: [],
    weight: 1,
    ...over,
  };
}

/** A cheap, weak, small model without tools or vision. */
export const CHEAP = model('cheap', {
  context_window: 8192,
  max_output_tokens: 4096,
  price: { input: 0.1, output: 0.4 },
  capabilities: ['json', 'streaming'],
  quality: { general: 0.62, code: 0.55, math: 0.5, reasoning: 0.52, writing: 0.6 },
  aliases: ['tiny'],
});

/** Mid price and quality, mid-sized window, tools but no vision. */
export const MID = model('mid', {
  context_window: 32_768,
  max_output_tokens: 8192,
  price: { input: 1, output: 4 },
  capabilities: ['tools', 'json', 'streaming'],
  quality: { general: 0.76, code: 0.74, math: 0.72, reasoning: 0.73, writing: 0.77 },
  aliases: ['middle'],
});

/** Strong, expensive, large window, the best code model. */
export const STRONG = model('strong', {
  context_window: 400_000,
  max_output_tokens: 32_000,
  price: { input: 10, output: 40 },
  quality: { general: 0.9, code: 0.93, math: 0.9, reasoning: 0.91, writing: 0.88 },
  aliases: ['big'],
});

export const TRIO: readonly ModelSpec[] = [CHEAP, MID, STRONG];

export function task(over: Partial<TaskProfile> = {}): TaskProfile {
  return {
    categories: { general: 1, code: 0, math: 0, reasoning: 0, writing: 0 },
    difficulty: 0,
    required: [],
    promptTokens: 20,
    maxOutputTokens: null,
    ...over,
  };
}

export const user = (content: string) => ({ messages: [{ role: 'user', content }] });
