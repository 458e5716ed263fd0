import type { GatewayConfig } from '../config/index.ts';
import { createLimitBackends, type LimitBackends } from '../limits/backends.ts';
import { parseSubject } from '../limits/scopes.ts';
import { databaseUrlFrom } from '../store/database-url.ts';
import { openStore, type Store } from '../store/index.ts';
import type { Logger } from '../telemetry/index.ts';
import { seedAllScopes } from './seed-scopes.ts';

/** The store and the limit backends; the gateway closes the limits, the caller closes the store. */
export interface Services {
  store: Store;
  limits: LimitBackends;
}

/**
 * Opens the store (running migrations), mirrors the config's teams into it (admin keys may belong to
 * them), starts the budget/rate-limit backends, and rebuilds each budget's spend for the current period
 * from the ledger — so spend survives restarts.
 */
export async function openServices(
  config: GatewayConfig,
  env: NodeJS.ProcessEnv,
  logger: Logger,
): Promise<Services> {
  const url = databaseUrlFrom(env);
  const store = await openStore(url, { onError: (err) => logger.error({ err }, 'store error') });
  for (const t of config.teams) {
    // A team with several windows is mirrored with its first (GET /admin/budgets lists them all).
    const budget = t.budget ?? t.budgets?.[0];
    await store.teams.upsert({
      id: t.id,
      budget: budget
        ? {
            limit_usd: budget.limit_usd,
            period: budget.period,
            ...(budget.soft_limit_usd !== undefined ? { soft_limit_usd: budget.soft_limit_usd } : {}),
            ...(budget.alerts?.length ? { alerts: budget.alerts } : {}),
          }
        : null,
      limits: t.limits ?? null,
      models: t.models ?? null,
    });
  }
  const limits = createLimitBackends({
    ...(env.QUORUM_REDIS_URL ? { redisUrl: env.QUORUM_REDIS_URL } : {}),
    failMode: config.limits.redis_fail_mode,
    onWarn: (message, err) => logger.warn({ err }, message),
    // Redis may lose its counters (a restart without persistence): the ledger rebuilds them.
    loadSpent: (subject, sinceMs) => store.ledger.scopeSpentSince(parseSubject(subject), sinceMs),
  });
  if (env.QUORUM_REDIS_URL && !(await limits.ready(2_000))) {
    logger.warn(
      `Redis at QUORUM_REDIS_URL is not answering yet; budgets fail ${config.limits.redis_fail_mode} until it does`,
    );
  }
  await seedAllScopes(config, store, limits);
  logger.info({ store: store.engine, limits: limits.kind }, 'store and limits ready');
  return { store, limits };
}
