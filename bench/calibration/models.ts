/**
 * The model table the calibration targets are measured on: five models whose quality per category is
 * known (it is the definition of the table, not an estimate), with the tier structure and list prices
 * of config/models.yaml (read 2026-11-22): a small model, a mid tier, a code specialist (gpt-6.2-sol:
 * $2/$10, code .87), a strong reasoner at half the flagship's price (claude-opus-5-5: $4/$20, .87 in
 * every category but general) and the flagship (gpt-6.2-astra: $8/$40). The coder is frontier-grade at
 * code only, so a router that reads "hard" but not "math" sends a hard proof to it and fails; only
 * `large` clears hard general and writing prompts.
 */
import type { Capability, Category, ModelSpec } from '../../routing/index.ts';

function spec(
  id: string,
  price: { input: number; output: number },
  quality: Record<Category, number>,
  capabilities: Capability[],
  contextWindow: number,
): ModelSpec {
  return {
    id,
    provider: 'calibration',
    upstream: id,
    context_window: contextWindow,
    max_output_tokens: 32_000,
    price,
    capabilities,
    quality,
    aliases: [],
    weight: 1,
  };
}

const ALL: Capability[] = ['tools', 'vision', 'json', 'streaming'];

/**
 * small → easy prompts everywhere; mid → medium everywhere; coder → hard code; reasoner → hard code,
 * math and reasoning; large → everything.
 */
export const CALIBRATION_MODELS: readonly ModelSpec[] = [
  spec(
    'small',
    { input: 0.1, output: 0.4 },
    { general: 0.66, code: 0.6, math: 0.57, reasoning: 0.58, writing: 0.65 },
    ['tools', 'json', 'streaming'],
    128_000,
  ),
  spec(
    'mid',
    { input: 0.5, output: 2 },
    { general: 0.78, code: 0.75, math: 0.74, reasoning: 0.75, writing: 0.79 },
    ALL,
    200_000,
  ),
  spec(
    'coder',
    { input: 2, output: 10 },
    { general: 0.79, code: 0.89, math: 0.82, reasoning: 0.82, writing: 0.74 },
    ['tools', 'json', 'streaming'],
    256_000,
  ),
  spec(
    'reasoner',
    { input: 4, output: 20 },
    { general: 0.84, code: 0.86, math: 0.89, reasoning: 0.88, writing: 0.83 },
    ALL,
    1_000_000,
  ),
  spec(
    'large',
    { input: 8, output: 40 },
    { general: 0.88, code: 0.9, math: 0.91, reasoning: 0.9, writing: 0.89 },
    ALL,
    1_000_000,
  ),
];
