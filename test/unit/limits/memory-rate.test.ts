import { MemoryRateLimit } from '../../../src/limits/memory-rate.ts';
import { rateSuite } from './rate-suite.ts';

rateSuite('memory', async (clock) => {
  const rates = new MemoryRateLimit({ now: clock.now });
  return { instances: [rates, rates], close: () => rates.close() };
});
