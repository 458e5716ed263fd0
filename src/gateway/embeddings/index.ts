/** What is particular to an embeddings request: its budget bounds and its answer's shape. */
export { EmbeddingBounds } from './bounds.ts';
export {
  cachedEmbeddingsReply,
  type EmbeddingsBody,
  type EmbeddingsReply,
  embeddingsReply,
} from './reply.ts';
