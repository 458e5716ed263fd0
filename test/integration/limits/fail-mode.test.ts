/**
 * Redis unreachable: `closed` refuses at once with LimitsUnavailableError, `open` meters locally. The
 * outage-and-recovery cases put a TCP proxy between the client and the real Redis and cut it.
 */
import net from 'node:net';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createLimitBackends, type LimitBackends } from '../../../src/limits/backends.ts';
import { LimitsUnavailableError } from '../../../src/limits/errors.ts';
import type { BudgetPolicy } from '../../../src/limits/types.ts';
import { testClock } from '../../unit/limits/clock.ts';
import { deleteKeys, redisUrl, uniquePrefix } from './redis-env.ts';

const DEAD = 'redis://127.0.0.1:1';
const policy: BudgetPolicy = { team: 'research', limitUsd: 1, period: 'monthly' };

const open: LimitBackends[] = [];
function backends(options: Parameters<typeof createLimitBackends>[0]) {
  const b = createLimitBackends(options);
  open.push(b);
  return b;
}
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(open.splice(0).map((b) => b.close()));
});

/**
 * Runs `run` with every timer frozen: it settles only if it needs no timer (a command timeout, a
 * reconnect delay), which is what failing fast means, and a wait on one would never end (the test times out).
 */
async function frozen<T>(run: () => Promise<T>): Promise<PromiseSettledResult<T>> {
  vi.useFakeTimers();
  try {
    const [result] = await Promise.allSettled([run()]);
    return result!;
  } finally {
    vi.useRealTimers();
  }
}

function rejection(settled: PromiseSettledResult<unknown>): unknown {
  if (settled.status === 'fulfilled') throw new Error('expected a rejection');
  return settled.reason;
}

describe('Redis unreachable, fail closed (the default)', () => {
  it.each([
    ['right after start-up', false],
    ['once the first connection has failed', true],
  ])(
    'refuses reserve, admit and status with LimitsUnavailableError without waiting on any timer (%s)',
    async (_, afterFailure) => {
      const warnings: string[] = [];
      const limits = backends({ redisUrl: DEAD, onWarn: (m) => warnings.push(m) });
      if (afterFailure) await until(() => warnings.length > 0);
      const calls: (() => Promise<unknown>)[] = [
        () => limits.budget.reserve(policy, 0.1, 60_000),
        () => limits.rates.admit('key:k', { rpm: 10 }, 0),
        () => limits.budget.status(policy),
      ];
      for (const call of calls) {
        expect(rejection(await frozen(call))).toBeInstanceOf(LimitsUnavailableError);
      }
      await until(() => warnings.length > 0);
      expect(warnings.filter((w) => w.startsWith('Redis unreachable'))).toHaveLength(1);
    },
  );

  it('never throws from settle, release, seed or adjust', async () => {
    const limits = backends({ redisUrl: DEAD, onWarn: () => {} });
    const r = { id: 'x', team: 'research', period: '2026-11', nanos: 1, expiresAt: Date.now() + 1000 };
    await expect(limits.budget.settle(r, 0.1)).resolves.toBeUndefined();
    await expect(limits.budget.release(r)).resolves.toBeUndefined();
    await expect(limits.budget.seed('research', '2026-11', 1)).resolves.toBeUndefined();
    await expect(limits.rates.adjust('key:k', -5)).resolves.toBeUndefined();
  });
});

describe('Redis unreachable, fail open', () => {
  it('admits, metering against this instance’s memory, and warns once', async () => {
    const warnings: string[] = [];
    const limits = backends({ redisUrl: DEAD, failMode: 'open', onWarn: (m) => warnings.push(m) });
    const result = await frozen(() => limits.budget.reserve(policy, 0.4, 60_000));
    expect(result.status === 'fulfilled' && result.value.ok).toBe(true);
    const decision = await limits.rates.admit('key:k', { rpm: 2 }, 0);
    expect(decision.ok).toBe(true);
    expect(decision.headers['x-ratelimit-remaining-requests']).toBe('1');

    const second = await limits.budget.reserve(policy, 0.6, 60_000);
    if (!second.ok) throw new Error('expected a local hold');
    expect(second.reservation.id.startsWith('local:')).toBe(true);
    expect((await limits.budget.reserve(policy, 0.01, 60_000)).ok).toBe(false); // the local limit holds
    await limits.budget.release(second.reservation);
    expect((await limits.budget.status(policy)).reservedUsd).toBe(0.4);
    expect(warnings.filter((w) => w.startsWith('Redis unreachable'))).toHaveLength(1);
  });

  it('holds several windows locally, all or none, and a settle charges each', async () => {
    const limits = backends({ redisUrl: DEAD, failMode: 'open', onWarn: () => {} });
    const user: BudgetPolicy = { team: 'user/research/ann', limitUsd: 0.5, period: 'daily' };
    const first = await limits.budget.reserveMany([policy, user], 0.4, 60_000);
    if (!first.ok) throw new Error('expected a local hold');
    expect(first.reservation.id.startsWith('local:')).toBe(true);
    expect(await limits.budget.reserveMany([policy, user], 0.2, 60_000)).toMatchObject({
      ok: false,
      index: 1,
    });
    expect((await limits.budget.status(policy)).reservedUsd).toBe(0.4); // the refused one held nothing
    await limits.budget.settleMany(first.reservation, 0.3);
    expect(await limits.budget.status(user)).toMatchObject({ spentUsd: 0.3, reservedUsd: 0 });
    expect(await limits.budget.status(policy)).toMatchObject({ spentUsd: 0.3, reservedUsd: 0 });
  });
});

describe('Redis unreachable, fail closed: several windows', () => {
  it('refuses a multi-window hold with LimitsUnavailableError, and never throws from its settle', async () => {
    const limits = backends({ redisUrl: DEAD, onWarn: () => {} });
    const user: BudgetPolicy = { team: 'user/research/ann', limitUsd: 0.5, period: 'daily' };
    const settled = await frozen(() => limits.budget.reserveMany([policy, user], 0.1, 60_000));
    expect(rejection(settled)).toBeInstanceOf(LimitsUnavailableError);
    const hold = {
      id: 'x',
      nanos: 1,
      expiresAt: Date.now() + 1000,
      parts: [{ team: 'research', period: '2026-11' }],
    };
    await expect(limits.budget.settleMany(hold, 0.1)).resolves.toBeUndefined();
    await expect(limits.budget.releaseMany(hold)).resolves.toBeUndefined();
  });
});

/** A TCP proxy to the real Redis that can be cut and restored. */
async function proxy(target: URL) {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = net.createServer((client) => {
        const upstream = net.connect(Number(target.port || 6379), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => {});
          s.on('close', () => sockets.delete(s));
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as net.AddressInfo).port;
        resolve();
      });
    });
  await listen();
  return {
    url: () => `redis://127.0.0.1:${port}`,
    cut: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server!.close(r));
    },
    restore: listen,
    close: async () => {
      for (const s of sockets) s.destroy();
      if (server?.listening) await new Promise((r) => server!.close(r));
    },
  };
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!redisUrl)('Redis outage and recovery (through a proxy)', () => {
  const prefix = uniquePrefix();
  afterAll(async () => {
    await deleteKeys(redisUrl!, prefix);
  });

  it.each(['closed', 'open'] as const)(
    'fail %s: settles made during the outage reach Redis once it is back, so nothing leaks',
    async (failMode) => {
      const clock = testClock();
      const team = { ...policy, team: `outage-${failMode}` };
      const link = await proxy(new URL(redisUrl!));
      const warnings: string[] = [];
      const limits = backends({
        redisUrl: link.url(),
        prefix,
        failMode,
        now: clock.now,
        onWarn: (m) => warnings.push(m),
      });
      // A second instance with a direct connection sees the shared counters.
      const direct = backends({ redisUrl, prefix, now: clock.now });
      expect(await limits.ready()).toBe(true);
      expect(await direct.ready()).toBe(true);
      try {
        const held = await limits.budget.reserve(team, 0.3, 60_000);
        if (!held.ok) throw new Error('expected a hold');

        await link.cut();
        await until(() => warnings.some((w) => w.startsWith('Redis unreachable')));
        await limits.budget.settle(held.reservation, 0.2); // queued, not lost
        const during = await Promise.allSettled([limits.budget.reserve(team, 0.1, 60_000)]);
        if (failMode === 'closed') {
          expect(rejection(during[0]!)).toBeInstanceOf(LimitsUnavailableError);
        } else {
          const local = during[0]!.status === 'fulfilled' ? during[0]!.value : undefined;
          if (!local?.ok) throw new Error('expected a local hold');
          expect(local.reservation.id.startsWith('local:')).toBe(true);
          await limits.budget.settle(local.reservation, 0.1); // charged to Redis once it is back
        }
        // Meanwhile Redis still holds the 0.3 the other instance sees.
        expect(await direct.budget.status(team)).toMatchObject({ spentUsd: 0, reservedUsd: 0.3 });

        await link.restore();
        const spent = failMode === 'open' ? 0.3 : 0.2;
        await until(async () => (await direct.budget.status(team)).spentUsd === spent);
        expect(await direct.budget.status(team)).toMatchObject({ spentUsd: spent, reservedUsd: 0 });
        expect(warnings).toContain(
          'Redis reachable again: budgets and rate limits are shared across instances',
        );
        expect(warnings.filter((w) => w.startsWith('Redis unreachable'))).toHaveLength(1);
      } finally {
        await link.close();
      }
    },
  );

  it('keeps key TTLs: a period plus a day for monthly counters, none for total', async () => {
    const direct = backends({ redisUrl, prefix });
    expect(await direct.ready()).toBe(true);
    await direct.budget.reserve({ team: 'ttl', limitUsd: 1, period: 'monthly' }, 0.1, 60_000);
    await direct.budget.reserve({ team: 'ttl', limitUsd: 1, period: 'total' }, 0.1, 60_000);
    const { Redis } = await import('ioredis');
    const redis = new Redis(redisUrl!);
    try {
      const month = `${prefix}budget:ttl:${new Date().toISOString().slice(0, 7)}`;
      const monthTtl = await redis.pttl(month);
      expect(monthTtl).toBeGreaterThan(31 * 86_400_000);
      expect(monthTtl).toBeLessThanOrEqual(32 * 86_400_000);
      expect(await redis.pttl(`${prefix}budget:ttl:total`)).toBe(-1);
      expect(await redis.pttl(`${prefix}budget:ttl:total:holds`)).toBeGreaterThan(0);
    } finally {
      await redis.quit();
    }
  });
});
