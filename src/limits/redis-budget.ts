/**
 * Budgets shared by several gateway instances through Redis. Each reserve, settle, release, status and
 * seed is one Lua script: one round trip, executed atomically by Redis, so concurrent reserves from any
 * number of instances can never jointly pass the limit.
 *
 * Per team and period (`{prefix}budget:{team}:{period}`):
 * - that hash: `spent` and `reserved` (integer nanos, changed only by HINCRBY) and `h:{id}` → a live
 *   hold's nanos;
 * - `…:holds`, a sorted set of live hold ids scored by expiresAt (an id is in it exactly when its
 *   `h:{id}` field exists and its nanos count in `reserved`);
 * - `…:ended`, a sorted set of settled/released ids scored by when to forget them, which makes a
 *   repeated settle or release a no-op.
 *
 * - the hash's `seeded` field marks counters rebuilt from the ledger. Redis can lose them (a restart
 *   without persistence, eviction, a flush): a reserve or status that finds no marker answers
 *   "unseeded" without touching anything, and the client loads the team's period spend from the ledger,
 *   seeds it (raising `spent` to it, never lowering, and setting the marker, so instances that race to
 *   seed agree and never count twice) and asks again.
 *
 * Time comes from the caller's clock (ARGV `now`), not Redis TIME, so tests can drive it; instances
 * are assumed to have roughly synchronised clocks (NTP): a skew of s seconds only moves hold expiry and
 * tombstone retention by s. Keys expire one period plus a day after their last write (never for `total`).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { budgetStatus, ENDED_RETENTION_MS, periodTtlMs } from './budget-status.ts';
import { amountNanos, limitNanos, settleNanos } from './nanos.ts';
import { periodOfKey, periodStart, periodWindow } from './periods.ts';
import { whenUsable } from './redis-client.ts';
import type {
  BudgetBackend,
  BudgetPolicy,
  BudgetStatus,
  MultiReservation,
  Reservation,
  ReserveManyResult,
  ReserveResult,
} from './types.ts';

/** Drops lapsed holds (expiresAt <= now) from KEYS[2] and their nanos from `reserved` in KEYS[1]. */
const PURGE = `
local function purge(hash, holds, now)
  while true do
    local ids = redis.call('ZRANGEBYSCORE', holds, '-inf', now, 'LIMIT', 0, 200)
    if #ids == 0 then return end
    local fields = {}
    for i = 1, #ids do fields[i] = 'h:' .. ids[i] end
    local amounts = redis.call('HMGET', hash, unpack(fields))
    local sum = 0
    for i = 1, #amounts do
      if amounts[i] then sum = sum + tonumber(amounts[i]) end
    end
    redis.call('HDEL', hash, unpack(fields))
    redis.call('ZREM', holds, unpack(ids))
    if sum ~= 0 then redis.call('HINCRBY', hash, 'reserved', string.format('%d', -sum)) end
  end
end
local function expire(hashTtl, auxTtl)
  if tonumber(hashTtl) > 0 then redis.call('PEXPIRE', KEYS[1], hashTtl) end
  redis.call('PEXPIRE', KEYS[2], auxTtl)
  redis.call('PEXPIRE', KEYS[3], auxTtl)
end
local function counters()
  local v = redis.call('HMGET', KEYS[1], 'spent', 'reserved')
  return tonumber(v[1]) or 0, tonumber(v[2]) or 0
end
`;

/** ARGV: now, amount, limit, id, expiresAt, hashTtl, auxTtl → {admitted 0|1 (-1: unseeded), spent, reserved}. */
const RESERVE = `${PURGE}
if redis.call('HEXISTS', KEYS[1], 'seeded') == 0 then return {-1, 0, 0} end
local now = tonumber(ARGV[1])
purge(KEYS[1], KEYS[2], now)
local spent, reserved = counters()
local amount = tonumber(ARGV[2])
if spent + reserved + amount > tonumber(ARGV[3]) then return {0, spent, reserved} end
redis.call('HINCRBY', KEYS[1], 'reserved', ARGV[2])
redis.call('HSET', KEYS[1], 'h:' .. ARGV[4], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
expire(ARGV[6], ARGV[7])
return {1, spent, reserved + amount}
`;

/**
 * Settle (charge > 0) or release (charge 0). ARGV: now, id, charge, forgetAt, hashTtl, auxTtl → 1 when
 * it ended the hold, 0 when the id had already ended. A lapsed hold (already purged, or past expiresAt
 * but not yet purged) is subtracted from `reserved` at most once, and its charge still counts.
 */
const END = `${PURGE}
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if redis.call('ZSCORE', KEYS[3], ARGV[2]) then return 0 end
if redis.call('ZREM', KEYS[2], ARGV[2]) == 1 then
  local held = tonumber(redis.call('HGET', KEYS[1], 'h:' .. ARGV[2])) or 0
  redis.call('HDEL', KEYS[1], 'h:' .. ARGV[2])
  if held ~= 0 then redis.call('HINCRBY', KEYS[1], 'reserved', string.format('%d', -held)) end
end
if tonumber(ARGV[3]) > 0 then redis.call('HINCRBY', KEYS[1], 'spent', ARGV[3]) end
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
expire(ARGV[5], ARGV[6])
return 1
`;

/** ARGV: now → {spent, reserved, seeded 0|1} after dropping lapsed holds. */
const STATUS = `${PURGE}
purge(KEYS[1], KEYS[2], tonumber(ARGV[1]))
local spent, reserved = counters()
return {spent, reserved, redis.call('HEXISTS', KEYS[1], 'seeded')}
`;

/**
 * ARGV: spent, hashTtl, auxTtl. Raises `spent` to the given value, never lowers it, and marks the
 * counters seeded. Raising to a maximum is idempotent, so two instances seeding at once count once.
 */
const SEED = `${PURGE}
local spent = counters()
if tonumber(ARGV[1]) > spent then redis.call('HSET', KEYS[1], 'spent', ARGV[1]) end
redis.call('HSET', KEYS[1], 'seeded', 1)
expire(ARGV[2], ARGV[3])
return 1
`;

/**
 * Several windows at once. KEYS: 3 per window (hash, holds, ended). ARGV: now, amount, id, expiresAt,
 * then per window limit, hashTtl, auxTtl. Every window is checked before any is held, so the hold is
 * taken in all or in none → {1} | {0, window, spent, reserved} | {-1, window} (unseeded).
 */
const RESERVE_MANY = `${PURGE}
local now = tonumber(ARGV[1])
local amount = tonumber(ARGV[2])
local n = #KEYS / 3
for i = 1, n do
  if redis.call('HEXISTS', KEYS[3*i-2], 'seeded') == 0 then return {-1, i - 1} end
end
for i = 1, n do
  local hash = KEYS[3*i-2]
  purge(hash, KEYS[3*i-1], now)
  local v = redis.call('HMGET', hash, 'spent', 'reserved')
  local spent, reserved = tonumber(v[1]) or 0, tonumber(v[2]) or 0
  if spent + reserved + amount > tonumber(ARGV[3*i+2]) then return {0, i - 1, spent, reserved} end
end
for i = 1, n do
  local hash = KEYS[3*i-2]
  if redis.call('HEXISTS', hash, 'h:' .. ARGV[3]) == 0 then
    redis.call('HINCRBY', hash, 'reserved', ARGV[2])
    redis.call('HSET', hash, 'h:' .. ARGV[3], ARGV[2])
    redis.call('ZADD', KEYS[3*i-1], ARGV[4], ARGV[3])
  end
  if tonumber(ARGV[3*i+3]) > 0 then redis.call('PEXPIRE', hash, ARGV[3*i+3]) end
  redis.call('PEXPIRE', KEYS[3*i-1], ARGV[3*i+4])
  redis.call('PEXPIRE', KEYS[3*i], ARGV[3*i+4])
end
return {1}
`;

/**
 * Ends a multi-window hold in each window, as END does for one. KEYS: 3 per window. ARGV: now, id,
 * charge, forgetAt, then per window hashTtl, auxTtl.
 */
const END_MANY = `${PURGE}
local now = tonumber(ARGV[1])
local n = #KEYS / 3
for i = 1, n do
  local hash, holds, ended = KEYS[3*i-2], KEYS[3*i-1], KEYS[3*i]
  redis.call('ZREMRANGEBYSCORE', ended, '-inf', now)
  if not redis.call('ZSCORE', ended, ARGV[2]) then
    if redis.call('ZREM', holds, ARGV[2]) == 1 then
      local held = tonumber(redis.call('HGET', hash, 'h:' .. ARGV[2])) or 0
      redis.call('HDEL', hash, 'h:' .. ARGV[2])
      if held ~= 0 then redis.call('HINCRBY', hash, 'reserved', string.format('%d', -held)) end
    end
    if tonumber(ARGV[3]) > 0 then redis.call('HINCRBY', hash, 'spent', ARGV[3]) end
    redis.call('ZADD', ended, ARGV[4], ARGV[2])
    if tonumber(ARGV[3+2*i]) > 0 then redis.call('PEXPIRE', hash, ARGV[3+2*i]) end
    redis.call('PEXPIRE', holds, ARGV[4+2*i])
    redis.call('PEXPIRE', ended, ARGV[4+2*i])
  end
end
return 1
`;

type Keys = [hash: string, holds: string, ended: string];
type Arg = string | number;

interface BudgetCommands {
  quorumBudgetReserve(...args: [...Keys, ...Arg[]]): Promise<[number, number, number]>;
  quorumBudgetEnd(...args: [...Keys, ...Arg[]]): Promise<number>;
  quorumBudgetStatus(...args: [...Keys, ...Arg[]]): Promise<[number, number, number]>;
  quorumBudgetSeed(...args: [...Keys, ...Arg[]]): Promise<number>;
  quorumBudgetReserveMany(numKeys: number, ...args: Arg[]): Promise<number[]>;
  quorumBudgetEndMany(numKeys: number, ...args: Arg[]): Promise<number>;
}

const UNSEEDED = Symbol('unseeded');

/** Holds' and tombstones' sets outlive the longest hold; a week covers `total` budgets. */
const AUX_TTL_FLOOR_MS = 7 * 86_400_000;

export interface RedisBudgetOptions {
  /** Shared with other backends; closing it is the owner's job (see backends.ts). */
  redis: Redis;
  /** Prefix of every key (default `quorum:`); instances sharing a budget use the same one. */
  prefix?: string;
  /** Clock in epoch ms (default Date.now), sent with each script instead of Redis TIME. */
  now?: () => number;
  /**
   * A team's spend in nanos since an instant (the ledger), to re-seed counters Redis lost. Without it
   * lost counters restart from what Redis still has.
   */
  loadSpent?: SpendLoader;
}

/**
 * A counter's recorded spend in integer nanos since `sinceMs` (the period's start): `team` is a team id
 * or a scope subject (scopes.ts) whose spend the ledger can sum.
 */
export type SpendLoader = (team: string, sinceMs: number) => Promise<number>;

export class RedisBudget implements BudgetBackend {
  private readonly redis: Redis & BudgetCommands;
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly loadSpent: SpendLoader;
  /** Seeds in flight by hash key, so a burst of requests after a restart reads the ledger once. */
  private readonly seeding = new Map<string, Promise<void>>();

  constructor(options: RedisBudgetOptions) {
    this.redis = options.redis as Redis & BudgetCommands;
    this.prefix = options.prefix ?? 'quorum:';
    this.now = options.now ?? Date.now;
    this.loadSpent = options.loadSpent ?? (async () => 0);
    // defineCommand sends EVALSHA and falls back to EVAL once if Redis lacks the script (NOSCRIPT).
    this.redis.defineCommand('quorumBudgetReserve', { numberOfKeys: 3, lua: RESERVE });
    this.redis.defineCommand('quorumBudgetEnd', { numberOfKeys: 3, lua: END });
    this.redis.defineCommand('quorumBudgetStatus', { numberOfKeys: 3, lua: STATUS });
    this.redis.defineCommand('quorumBudgetSeed', { numberOfKeys: 3, lua: SEED });
    // The number of keys varies with the windows: passed first on each call.
    this.redis.defineCommand('quorumBudgetReserveMany', { lua: RESERVE_MANY });
    this.redis.defineCommand('quorumBudgetEndMany', { lua: END_MANY });
  }

  async reserveMany(
    policies: readonly BudgetPolicy[],
    amountUsd: number,
    ttlMs: number,
  ): Promise<ReserveManyResult> {
    await whenUsable(this.redis);
    // Each unseeded window is seeded from the ledger once, then the whole check runs again.
    for (let attempt = 0; attempt <= policies.length; attempt++) {
      const result = await this.tryReserveMany(policies, amountUsd, ttlMs);
      if (typeof result === 'number') await this.reseed(policies[result]!);
      else return result;
    }
    throw new Error('budget counters were lost while seeding');
  }

  /** A result, or the index of a window whose counters must be seeded first. */
  private async tryReserveMany(
    policies: readonly BudgetPolicy[],
    amountUsd: number,
    ttlMs: number,
  ): Promise<ReserveManyResult | number> {
    const now = this.now();
    const nanos = amountNanos(amountUsd);
    const id = randomUUID();
    const expiresAt = now + Math.max(0, ttlMs);
    const keys: string[] = [];
    const args: Arg[] = [];
    const parts: MultiReservation['parts'] = [];
    const seen = new Set<string>();
    for (const policy of policies) {
      const { key } = periodWindow(policy.period, now);
      const [hashTtl, auxTtl] = ttls(key, ttlMs);
      const k = this.keys(policy.team, key);
      keys.push(...k);
      args.push(limitNanos(policy.limitUsd), hashTtl, auxTtl);
      if (!seen.has(k[0])) {
        seen.add(k[0]);
        parts.push({ team: policy.team, period: key });
      }
    }
    const reply = await this.redis.quorumBudgetReserveMany(
      keys.length,
      ...keys,
      now,
      nanos,
      id,
      expiresAt,
      ...args,
    );
    const [admitted, index = 0, spent = 0, reserved = 0] = reply.map(Number);
    if (admitted === -1) return index;
    if (admitted !== 1) {
      const policy = policies[index]!;
      const { key, resetsAt } = periodWindow(policy.period, now);
      return { ok: false, index, status: budgetStatus(policy, key, resetsAt, spent, reserved) };
    }
    return { ok: true, reservation: { id, nanos, expiresAt, parts } };
  }

  async settleMany(reservation: MultiReservation, actualUsd: number): Promise<void> {
    await this.endMany(reservation, settleNanos(reservation, actualUsd));
  }

  async releaseMany(reservation: MultiReservation): Promise<void> {
    await this.endMany(reservation, 0);
  }

  private async endMany(reservation: MultiReservation, chargeNanos: number): Promise<void> {
    await whenUsable(this.redis);
    const now = this.now();
    const keys: string[] = [];
    const args: Arg[] = [];
    for (const part of reservation.parts) {
      keys.push(...this.keys(part.team, part.period));
      args.push(...ttls(part.period, reservation.expiresAt - now));
    }
    await this.redis.quorumBudgetEndMany(
      keys.length,
      ...keys,
      now,
      reservation.id,
      chargeNanos,
      now + ENDED_RETENTION_MS,
      ...args,
    );
  }

  async reserve(policy: BudgetPolicy, amountUsd: number, ttlMs: number): Promise<ReserveResult> {
    await whenUsable(this.redis);
    const first = await this.tryReserve(policy, amountUsd, ttlMs);
    if (first !== UNSEEDED) return first;
    await this.reseed(policy);
    const again = await this.tryReserve(policy, amountUsd, ttlMs);
    // Lost again between the seed and the retry (another flush): refuse rather than guess.
    if (again === UNSEEDED) throw new Error(`budget counters for ${policy.team} were lost while seeding`);
    return again;
  }

  private async tryReserve(
    policy: BudgetPolicy,
    amountUsd: number,
    ttlMs: number,
  ): Promise<ReserveResult | typeof UNSEEDED> {
    const now = this.now();
    const { key, resetsAt } = periodWindow(policy.period, now);
    const nanos = amountNanos(amountUsd);
    const id = randomUUID();
    const expiresAt = now + Math.max(0, ttlMs);
    const [hashTtl, auxTtl] = ttls(key, ttlMs);
    const [admitted, spent, reserved] = await this.redis.quorumBudgetReserve(
      ...this.keys(policy.team, key),
      now,
      nanos,
      limitNanos(policy.limitUsd),
      id,
      expiresAt,
      hashTtl,
      auxTtl,
    );
    if (admitted === -1) return UNSEEDED;
    if (admitted !== 1) return { ok: false, status: budgetStatus(policy, key, resetsAt, spent, reserved) };
    return { ok: true, reservation: { id, team: policy.team, period: key, nanos, expiresAt } };
  }

  async settle(reservation: Reservation, actualUsd: number): Promise<void> {
    await this.end(reservation, settleNanos(reservation, actualUsd));
  }

  async release(reservation: Reservation): Promise<void> {
    await this.end(reservation, 0);
  }

  async status(policy: BudgetPolicy): Promise<BudgetStatus> {
    await whenUsable(this.redis);
    const now = this.now();
    const { key, resetsAt } = periodWindow(policy.period, now);
    let [spent, reserved, seeded] = await this.redis.quorumBudgetStatus(...this.keys(policy.team, key), now);
    if (seeded !== 1) {
      await this.reseed(policy);
      [spent, reserved] = await this.redis.quorumBudgetStatus(...this.keys(policy.team, key), now);
    }
    return budgetStatus(policy, key, resetsAt, spent, reserved);
  }

  /** Rebuilds a team's counters for the current period from the ledger (one load per instance at a time). */
  private async reseed(policy: BudgetPolicy): Promise<void> {
    const now = this.now();
    const key = periodWindow(policy.period, now).key;
    const hash = this.keys(policy.team, key)[0];
    let pending = this.seeding.get(hash);
    if (!pending) {
      pending = (async () => {
        const nanos = await this.loadSpent(policy.team, periodStart(policy.period, now));
        const [hashTtl, auxTtl] = ttls(key, 0);
        await this.redis.quorumBudgetSeed(...this.keys(policy.team, key), nanos, hashTtl, auxTtl);
      })().finally(() => this.seeding.delete(hash));
      this.seeding.set(hash, pending);
    }
    await pending;
  }

  async seed(team: string, periodKey: string, spentUsd: number): Promise<void> {
    await whenUsable(this.redis);
    const [hashTtl, auxTtl] = ttls(periodKey, 0);
    await this.redis.quorumBudgetSeed(...this.keys(team, periodKey), amountNanos(spentUsd), hashTtl, auxTtl);
  }

  /** The client is shared; its owner closes it. */
  async close(): Promise<void> {}

  /** Charged to the period the hold was taken in, even when it ends after a rollover. */
  private async end(reservation: Reservation, chargeNanos: number): Promise<void> {
    await whenUsable(this.redis);
    const now = this.now();
    const [hashTtl, auxTtl] = ttls(reservation.period, reservation.expiresAt - now);
    await this.redis.quorumBudgetEnd(
      ...this.keys(reservation.team, reservation.period),
      now,
      reservation.id,
      chargeNanos,
      now + ENDED_RETENTION_MS,
      hashTtl,
      auxTtl,
    );
  }

  private keys(team: string, periodKey: string): Keys {
    const hash = `${this.prefix}budget:${team}:${periodKey}`;
    return [hash, `${hash}:holds`, `${hash}:ended`];
  }
}

/** [hash TTL (0: none, for `total`), TTL of the holds/ended sets] in ms. */
function ttls(periodKey: string, holdMs: number): [number, number] {
  const hash = periodTtlMs(periodOfKey(periodKey)) ?? 0;
  const aux = Math.max(hash, AUX_TTL_FLOOR_MS, holdMs + ENDED_RETENTION_MS + 86_400_000);
  return [hash, aux];
}
