export { createLimitBackends, type LimitBackends, type LimitBackendsOptions } from './backends.ts';
export { LimitsUnavailableError } from './errors.ts';
export type { FailMode, WarnFn } from './failover.ts';
export { MemoryBudget } from './memory-budget.ts';
export { MemoryRateLimit } from './memory-rate.ts';
export { type LiveOverride, OverrideCache } from './overrides.ts';
export { periodKey, periodWindow } from './periods.ts';
export {
  ProviderQueues,
  type ProviderQueuesOptions,
  type Release,
  type RunOptions,
} from './provider-queue.ts';
export { RedisBudget, type SpendLoader } from './redis-budget.ts';
export { RedisRateLimit } from './redis-rate.ts';
export * from './scopes.ts';
export * from './types.ts';
