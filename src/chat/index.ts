export * from './ensemble-members.ts';
export * from './replay.ts';
export * from './schema.ts';
export * from './types.ts';
