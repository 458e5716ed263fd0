import { afterAll, describe, expect, it } from 'vitest';
import { createLimitBackends } from '../../../src/limits/backends.ts';
import { budgetSuite } from '../../unit/limits/budget-suite.ts';
import { scopeSuite } from '../../unit/limits/scope-suite.ts';
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

  scopeSuite('redis (two instances)', async (clock) => {
    const instances = [1, 2].map(() => createLimitBackends({ redisUrl, prefix, now: clock.now }));
    await Promise.all(instances.map((i) => i.ready()));
    return {
      instances: [instances[0]!.budget, instances[1]!.budget],
      close: async () => {
        await Promise.all(instances.map((i) => i.close()));
      },
    };
  });

  it('seeds each lost window of a multi-window hold from its own scope’s ledger spend', async () => {
    const seeded = uniquePrefix();
    const asked: string[] = [];
    const loadSpent = async (subject: string) => {
      asked.push(subject);
      return subject.startsWith('user/') ? 400_000_000 : 100_000_000;
    };
    const backends = createLimitBackends({ redisUrl, prefix: seeded, loadSpent });
    try {
      const team = { team: 'seed-team', limitUsd: 10, period: 'monthly' as const };
      const user = { team: 'user/seed-team/alice', limitUsd: 0.5, period: 'daily' as const };
      expect(await backends.budget.reserveMany([team, user], 0.2, 60_000)).toMatchObject({
        ok: false,
        index: 1,
        status: { spentUsd: 0.4 },
      });
      expect(asked.sort()).toEqual(['seed-team', 'user/seed-team/alice']);
      expect((await backends.budget.status(team)).spentUsd).toBe(0.1);
    } finally {
      await backends.close();
      await deleteKeys(redisUrl!, seeded);
    }
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
