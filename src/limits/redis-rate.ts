/**
 * Rate limits shared by several gateway instances. Per subject and fixed one-minute window, a hash
 * `{prefix}rate:{subject}:{window index}` with `r` (requests) and `t` (tokens). One Lua script reads the
 * current and previous windows of every subject, checks all rpm and tpm limits, and increments all of
 * them only if all pass: one atomic round trip per request. The window index comes from the caller's
 * clock (instances are assumed roughly in sync, as for budgets); keys expire after three windows.
 */
import type { Redis } from 'ioredis';
import { whenUsable } from './redis-client.ts';
import { decide, WINDOW_MS, windowElapsed, windowIndex } from './sliding-window.ts';
import type { RateDecision, RateLimitBackend, RateLimits } from './types.ts';

/**
 * KEYS: current and previous window of each subject (2 per subject). ARGV: window ms, elapsed ms,
 * tokens, key TTL, then rpm and tpm per subject (0 = none). Returns {admitted 0|1, then per subject the
 * counts before this request: requests, tokens, previous requests, previous tokens}. The comparison is
 * the one in sliding-window.ts, scaled by the window length so it is integer-exact.
 */
const ADMIT = `
local W, e, tokens = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local out, ok = {0}, 1
for i = 1, #KEYS / 2 do
  local cur = redis.call('HMGET', KEYS[2 * i - 1], 'r', 't')
  local prev = redis.call('HMGET', KEYS[2 * i], 'r', 't')
  local cr, ct = tonumber(cur[1]) or 0, tonumber(cur[2]) or 0
  local pr, pt = tonumber(prev[1]) or 0, tonumber(prev[2]) or 0
  local rpm, tpm = tonumber(ARGV[3 + 2 * i]), tonumber(ARGV[4 + 2 * i])
  if rpm > 0 and cr * W + pr * (W - e) + W > rpm * W then ok = 0 end
  if tpm > 0 and ct * W + pt * (W - e) + tokens * W > tpm * W then ok = 0 end
  out[#out + 1] = cr
  out[#out + 1] = ct
  out[#out + 1] = pr
  out[#out + 1] = pt
end
out[1] = ok
if ok == 1 then
  for i = 1, #KEYS / 2 do
    redis.call('HINCRBY', KEYS[2 * i - 1], 'r', 1)
    if tokens > 0 then redis.call('HINCRBY', KEYS[2 * i - 1], 't', ARGV[3]) end
    redis.call('PEXPIRE', KEYS[2 * i - 1], ARGV[4])
  end
end
return out
`;

/** KEYS: the current window. ARGV: token delta, key TTL. Clamps at zero. */
const ADJUST = `
local t = tonumber(redis.call('HGET', KEYS[1], 't')) or 0
local v = t + tonumber(ARGV[1])
if v < 0 then v = 0 end
if v == t then return t end
redis.call('HSET', KEYS[1], 't', string.format('%d', v))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return v
`;

interface RateCommands {
  quorumRateAdmit(numberOfKeys: number, ...args: (string | number)[]): Promise<number[]>;
  quorumRateAdjust(key: string, delta: number, ttlMs: number): Promise<number>;
}

/** A window's counts are read as "previous" during the next window; a third covers clock skew. */
const KEY_TTL_MS = 3 * WINDOW_MS;

export interface RedisRateLimitOptions {
  /** Shared with other backends; closing it is the owner's job (see backends.ts). */
  redis: Redis;
  /** Prefix of every key (default `quorum:`). */
  prefix?: string;
  /** Clock in epoch ms (default Date.now). */
  now?: () => number;
}

export class RedisRateLimit implements RateLimitBackend {
  private readonly redis: Redis & RateCommands;
  private readonly prefix: string;
  private readonly now: () => number;

  constructor(options: RedisRateLimitOptions) {
    this.redis = options.redis as Redis & RateCommands;
    this.prefix = options.prefix ?? 'quorum:';
    this.now = options.now ?? Date.now;
    // Variable key count: the number of keys is passed as the first argument of each call.
    this.redis.defineCommand('quorumRateAdmit', { lua: ADMIT });
    this.redis.defineCommand('quorumRateAdjust', { numberOfKeys: 1, lua: ADJUST });
  }

  admit(subject: string, limits: RateLimits, tokens: number): Promise<RateDecision> {
    return this.admitMany([{ subject, limits }], tokens);
  }

  async admitMany(
    subjects: { subject: string; limits: RateLimits }[],
    tokens: number,
  ): Promise<RateDecision> {
    await whenUsable(this.redis);
    const now = this.now();
    const window = windowIndex(now);
    const elapsed = windowElapsed(now);
    const need = Math.max(0, Math.ceil(tokens));
    const keys = subjects.flatMap(({ subject }) => [
      this.key(subject, window),
      this.key(subject, window - 1),
    ]);
    const limits = subjects.flatMap(({ limits }) => [limits.rpm ?? 0, limits.tpm ?? 0]);
    const reply = await this.redis.quorumRateAdmit(
      keys.length,
      ...keys,
      WINDOW_MS,
      elapsed,
      need,
      KEY_TTL_MS,
      ...limits,
    );
    const checks = subjects.map(({ subject, limits }, i) => {
      const [requests = 0, tokens = 0, prevRequests = 0, prevTokens = 0] = reply.slice(1 + 4 * i, 5 + 4 * i);
      return { subject, limits, counts: { requests, tokens, prevRequests, prevTokens } };
    });
    return decide(checks, need, elapsed, reply[0] === 1);
  }

  async adjust(subject: string, tokensDelta: number): Promise<void> {
    const delta = Math.round(tokensDelta);
    if (delta === 0) return;
    await whenUsable(this.redis);
    await this.redis.quorumRateAdjust(this.key(subject, windowIndex(this.now())), delta, KEY_TTL_MS);
  }

  /** The client is shared; its owner closes it. */
  async close(): Promise<void> {}

  private key(subject: string, window: number): string {
    return `${this.prefix}rate:${subject}:${window}`;
  }
}
