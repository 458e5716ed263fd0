/**
 * How many workers `quorum serve` runs, and whether this configuration may run that many: every worker
 * must see the same budgets and rate limits, or each could spend a full budget.
 */
import { availableParallelism } from 'node:os';
import type { GatewayConfig, ProviderConfig } from '../config/index.ts';

/** `--workers` / QUORUM_WORKERS: a positive integer or `auto` (the cores this process may use). */
export function parseWorkers(raw: string | undefined): number | string {
  if (raw === undefined || raw.trim() === '') return 1;
  const value = raw.trim();
  if (value === 'auto') return availableParallelism();
  if (!/^[0-9]+$/.test(value) || Number(value) < 1 || Number(value) > 1024) {
    return `--workers takes a number of processes (1 or more) or auto, got "${raw}"`;
  }
  return Number(value);
}

/**
 * The reasons this configuration cannot run on `count` workers (none for one). Budgets and rate limits
 * need Redis; a provider's outbound `limits` are split between the workers, so each must get at least 1.
 */
export function workerProblems(count: number, config: GatewayConfig, env: NodeJS.ProcessEnv): string[] {
  if (count <= 1) return [];
  const problems: string[] = [];
  if (!env.QUORUM_REDIS_URL) {
    problems.push(
      `--workers ${count} needs QUORUM_REDIS_URL: budgets and rate limits must be shared, or each worker could spend a full budget`,
    );
  }
  config.providers.forEach((p, i) => {
    for (const field of ['rpm', 'concurrency'] as const) {
      const limit = p.limits?.[field];
      if (limit !== undefined && limit < count) {
        problems.push(
          `providers[${i}].limits.${field}: ${limit} cannot be split between ${count} workers (each gets ${field} / ${count}); raise it or run fewer workers`,
        );
      }
    }
  });
  return problems;
}

/**
 * A worker's share of each provider's outbound limits (rpm and concurrency divided by the workers,
 * rounded down), so that together they stay within what the upstream allows.
 */
export function shareProviderLimits(config: GatewayConfig, count: number): GatewayConfig {
  if (count <= 1) return config;
  const share = (p: ProviderConfig): ProviderConfig => {
    if (!p.limits) return p;
    const limits = { ...p.limits };
    if (limits.rpm !== undefined) limits.rpm = Math.max(1, Math.floor(limits.rpm / count));
    if (limits.concurrency !== undefined) {
      limits.concurrency = Math.max(1, Math.floor(limits.concurrency / count));
    }
    return { ...p, limits };
  };
  return { ...config, providers: config.providers.map(share) };
}
