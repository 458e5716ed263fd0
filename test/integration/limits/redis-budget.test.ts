import { afterAll, describe } from 'vitest';
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
});
