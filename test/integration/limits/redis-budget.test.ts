import { afterAll, describe, expect, it } from 'vitest';
import { createLimitBackends } from '../../../src/limits/backends.ts';
import { budgetSuite } from '../../unit/limits/budget-suite.ts';
import { deleteKeys, redisUrl, uniquePrefix } from './redis-env.ts';

const prefix = uniquePrefix();

describe.skipIf(!redisUrl)('Redis', () => {
  afterAll(async () => {
    await deleteKeys(redisUrl!, prefix);
  });

  // Two gateway instances: two clients, one key prefix.
  budgetSuite('redis (two instances)', async (clock) => {
    const instances = [1, 2].map(() => createLimitBackends({ redisUrl, prefix, now: clock.now }));
    await Promise.all(instances.map((i) => i.ready()));
    return {
      instances: [instances[0]!.budget, instances[1]!.budget],
      close: async () => {
        await Promise.all(instances.map((i) => i.close()));
      },
    };
  });

  it('re-seeds lost counters from the ledger once, however many instances race to do it', async () => {
    const seeded = uniquePrefix();
    let loads = 0;
    const loadSpent = async () => {
      loads++;
      return 600_000_000; // the ledger says $0.60 was spent this period
    };
    const instances = [1, 2].map(() => createLimitBackends({ redisUrl, prefix: seeded, loadSpent }));
    try {
      const policy = { team: 'reseed', limitUsd: 1, period: 'monthly' as const };
      // Nothing in Redis (a restart without persistence): both instances find the counters unseeded.
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => instances[i % 2]!.budget.reserve(policy, 0.1, 60_000)),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(4);
      expect(loads).toBeLessThanOrEqual(2);
      const st = await instances[0]!.budget.status(policy);
      expect([st.spentUsd, st.reservedUsd]).toEqual([0.6, 0.4]);

      await deleteKeys(redisUrl!, seeded); // lost again: the next status re-seeds before answering
      expect((await instances[1]!.budget.status(policy)).spentUsd).toBe(0.6);
    } finally {
      await Promise.all(instances.map((i) => i.close()));
      await deleteKeys(redisUrl!, seeded);
    }
  });
});
