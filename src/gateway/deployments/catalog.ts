import type { ModelSpec } from '../../../routing/types.ts';
import type { GatewayConfig } from '../../config/index.ts';
import type { Deployment } from './deployment.ts';
import type { HealthTracker } from './health.ts';
import type { LearningHook } from './learning.ts';
import type { ModelTable } from './model-table.ts';

/**
 * What planning reads: the configuration and the per-deployment state built from it. The Gateway is
 * one; planning code takes this instead, so it depends on the state it reads, not on the whole gateway.
 */
export interface Catalog {
  readonly config: GatewayConfig;
  readonly table: ModelTable;
  /** Latency/error EWMAs and circuit breakers per deployment; the router reads it, calls update it. */
  readonly health: HealthTracker;
  /** What the router learnt from outcomes; absent: the catalog's quality as configured. */
  readonly learning: LearningHook | undefined;
  /** The deployment (catalog entry bound to its adapter) of one spec of `table`. */
  deployment(spec: ModelSpec): Deployment;
}
