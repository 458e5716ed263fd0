/** The capability and price table, as routing sees it. Pure data: no I/O here. */

/**
 * What a model can do. `embeddings` marks an embedding model: it serves POST /v1/embeddings only, and
 * the router never picks it for a chat request.
 */
export type Capability = 'tools' | 'vision' | 'json' | 'streaming' | 'embeddings';
export type Category = 'general' | 'code' | 'math' | 'reasoning' | 'writing';
export type Policy = 'cost' | 'balanced' | 'quality' | 'latency';

export const CATEGORIES: readonly Category[] = ['general', 'code', 'math', 'reasoning', 'writing'];
export const CAPABILITIES: readonly Capability[] = ['tools', 'vision', 'json', 'streaming', 'embeddings'];

/** An embedding model: it turns text into vectors and answers no chat request. */
export function isEmbeddingModel(spec: Pick<ModelSpec, 'capabilities'>): boolean {
  return spec.capabilities.includes('embeddings');
}

/** USD per 1M tokens. */
export interface Price {
  input: number;
  output: number;
  cached_input?: number;
}

export interface ModelSpec {
  /** The name clients send. */
  id: string;
  /** Provider id (config `providers[].id`). */
  provider: string;
  /** Name sent upstream. */
  upstream: string;
  context_window: number;
  max_output_tokens: number;
  price: Price;
  capabilities: Capability[];
  quality: Record<Category, number>;
  aliases: string[];
  /** Load-balancing weight among entries sharing an id. */
  weight: number;
  /** Output tokens a budgeted request without max_tokens is held on and capped at (config override). */
  default_max_output_tokens?: number;
}
