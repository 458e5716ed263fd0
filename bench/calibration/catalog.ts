/**
 * The built-in catalog (config/models.yaml) as routing sees it, completed the way the config loader
 * completes it. The routing bench builds its 50-model catalog from it, and the calibration report
 * measures the router on its chat models as a second table.
 */
import {
  CATEGORIES,
  type Capability,
  type Category,
  isEmbeddingModel,
  type ModelSpec,
} from '../../routing/index.ts';
import { loadCatalog } from '../../src/config/load.ts';
import { ModelSchema } from '../../src/config/schema.ts';

export function realCatalog(): ModelSpec[] {
  return loadCatalog().map((entry) => {
    const parsed = ModelSchema.parse(entry);
    const quality = {} as Record<Category, number>;
    for (const c of CATEGORIES) quality[c] = parsed.quality[c] ?? parsed.quality.general ?? 0.5;
    return {
      ...parsed,
      upstream: parsed.upstream ?? parsed.id,
      max_output_tokens: parsed.max_output_tokens ?? 0,
      capabilities: parsed.capabilities as Capability[],
      quality,
    };
  });
}

/** The catalog's chat models (embedding models answer no chat request). */
export function catalogChatModels(): ModelSpec[] {
  return realCatalog().filter((m) => !isEmbeddingModel(m));
}
