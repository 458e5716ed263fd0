export * from './replay.ts';
export * from './schema.ts';
export * from './types.ts';
