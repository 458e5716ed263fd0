import { describe, expect, it } from 'vitest';
import { createLimitBackends } from '../../../src/limits/backends.ts';
import { MemoryBudget } from '../../../src/limits/memory-budget.ts';
import { MemoryRateLimit } from '../../../src/limits/memory-rate.ts';
import { testClock } from './clock.ts';

describe('createLimitBackends', () => {
  it('uses the in-memory backends without a Redis URL, on the injected clock', async () => {
    const clock = testClock('2026-11-30T23:00:00.000Z');
    const limits = createLimitBackends({ now: clock.now });
    expect(limits.kind).toBe('memory');
    expect(limits.budget).toBeInstanceOf(MemoryBudget);
    expect(limits.rates).toBeInstanceOf(MemoryRateLimit);
    expect(await limits.ready()).toBe(true);
    const policy = { team: 't', limitUsd: 1, period: 'daily' as const };
    expect((await limits.budget.status(policy)).resetsAt).toBe('2026-12-01T00:00:00.000Z');
    await limits.close();
  });
});
