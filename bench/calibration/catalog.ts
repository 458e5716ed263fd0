/**
 * The built-in catalog (config/models.yaml) as routing sees it, completed the way the config loader
 * completes it. The routing bench builds its 50-model catalog from it, and the calibration report
 * measures the router on its chat models as a second table.
 */
import { isEmbeddingModel, type ModelSpec } from '../../routing/index.ts';
import { completeModel, loadCatalog } from '../../src/config/index.ts';
import { ModelSchema } from '../../src/config/schema.ts';

export function realCatalog(): ModelSpec[] {
  return loadCatalog().map((entry) => completeModel(ModelSchema.parse(entry)));
}

/** The catalog's chat models (embedding models answer no chat request). */
export function catalogChatModels(): ModelSpec[] {
  return realCatalog().filter((m) => !isEmbeddingModel(m));
}
