import { afterAll, describe } from 'vitest';
import { createLimitBackends } from '../../../src/limits/backends.ts';
import type { FailoverRateLimit } from '../../../src/limits/failover.ts';
import { rateSuite } from '../../unit/limits/rate-suite.ts';
import { deleteKeys, redisUrl, uniquePrefix } from './redis-env.ts';

const prefix = uniquePrefix();

describe.skipIf(!redisUrl)('Redis', () => {
  afterAll(async () => {
    await deleteKeys(redisUrl!, prefix);
  });

  // Two gateway instances: two clients, one key prefix.
  rateSuite('redis (two instances)', async (clock) => {
    const instances = [1, 2].map(() => createLimitBackends({ redisUrl, prefix, now: clock.now }));
    await Promise.all(instances.map((i) => i.ready()));
    const rates = instances.map((i) => i.rates as FailoverRateLimit);
    return {
      instances: [rates[0]!, rates[1]!],
      close: async () => {
        await Promise.all(instances.map((i) => i.close()));
      },
    };
  });
});
