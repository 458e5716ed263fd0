/**
 * The model table the calibration targets are measured on: five models whose quality per category is
 * known (it is the definition of the table, not an estimate), with the tier structure and list prices
 * of config/models.yaml (read 2026-11-22): a small model, a mid tier, a code specialist (gpt-6.2-sol:
 * $2/$10, code .87), a strong reasoner at half the flagship's price (claude-opus-5-5: $4/$20, .87 in
 * every category but general) and the flagship (gpt-6.2-astra: $8/$40). The coder is frontier-grade at
 * code only, so a router that reads "hard" but not "math" sends a hard proof to it and fails; only
 * `large` clears hard general and writing prompts.
 */
import type { Capability, ModelSpec } from '../../routing/index.ts';

const ALL: Capability[] = ['tools', 'vision', 'json', 'streaming'];
const NO_VISION: Capability[] = ['tools', 'json', 'streaming'];

/** id, $/M input and output, quality general / code / math / reasoning / writing, capabilities, context. */
type Row = [string, number, number, number, number, number, number, number, Capability[], number];

/**
 * small → easy prompts everywhere; mid → medium everywhere; coder → hard code; reasoner → hard code,
 * math and reasoning; large → everything.
 */
const ROWS: Row[] = [
  ['small', 0.1, 0.4, 0.66, 0.6, 0.57, 0.58, 0.65, NO_VISION, 128_000],
  ['mid', 0.5, 2, 0.78, 0.75, 0.74, 0.75, 0.79, ALL, 200_000],
  ['coder', 2, 10, 0.79, 0.89, 0.82, 0.82, 0.74, NO_VISION, 256_000],
  ['reasoner', 4, 20, 0.84, 0.86, 0.89, 0.88, 0.83, ALL, 1_000_000],
  ['large', 8, 40, 0.88, 0.9, 0.91, 0.9, 0.89, ALL, 1_000_000],
];

export const CALIBRATION_MODELS: readonly ModelSpec[] = ROWS.map(
  ([id, input, output, general, code, math, reasoning, writing, capabilities, contextWindow]) => ({
    id,
    provider: 'calibration',
    upstream: id,
    context_window: contextWindow,
    max_output_tokens: 32_000,
    price: { input, output },
    capabilities,
    quality: { general, code, math, reasoning, writing },
    aliases: [],
    weight: 1,
  }),
);
