export * from './analyze.ts';
export { topCategory } from './categorize.ts';
export * from './filter.ts';
export * from './request.ts';
export * from './route.ts';
export * from './route-types.ts';
export * from './score.ts';
export * from './tokens.ts';
export * from './types.ts';
