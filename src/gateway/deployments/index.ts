/** Per-deployment state: the model table, deployments bound to adapters, health and circuit breakers, balance. */
export { orderDeployments } from './balance.ts';
export type { Catalog } from './catalog.ts';
export { costOf, usageNanos } from './cost.ts';
export type { Attempt, Deployment } from './deployment.ts';
export { deploymentKey, type HealthOptions, HealthTracker } from './health.ts';
export type { AnsweredRequest, LearningHook, QualityEstimate, ReviewedRequest } from './learning.ts';
export { ModelTable } from './model-table.ts';
