export * from './tokens.ts';
export * from './types.ts';
