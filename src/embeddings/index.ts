/** The embeddings request (POST /v1/embeddings) and its vectors: the shape every layer shares. */
export * from './schema.ts';
export * from './tokens.ts';
export * from './types.ts';
export * from './vectors.ts';
