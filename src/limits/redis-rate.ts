/**
 * Rate limits shared by several gateway instances. Each subject's log (sliding-window.ts) is a hash
 * `{prefix}ratelog:{subject}`: one field per second of traffic, `requests:tokens:latest ms`. One Lua
 * script reads every subject's log, drops the entries that left the window, checks all rpm and tpm
 * limits, computes the exact wait when refused, and records the request in all of them only if all
 * pass: one atomic round trip per request. Time is Redis's own clock (TIME) read inside the script, so
 * instances with skewed clocks still agree on one window, and the wait is measured on the same clock
 * that will admit the retry; tests may inject a clock instead (`now`).
 */
import type { Redis } from 'ioredis';
import { whenUsable } from './redis-client.ts';
import { decide, SLOT_MS, type SubjectState, WINDOW_MS } from './sliding-window.ts';
import type { RateDecision, RateLimitBackend, RateLimits } from './types.ts';

/**
 * Shared by both scripts: `now()` (ARGV[3] when given, else Redis TIME) and `load(key, now)`, the live
 * entries oldest first, deleting the rest. Mirrors `live`, `windowState` and `record` in
 * sliding-window.ts.
 */
const COMMON = `
local W, S = tonumber(ARGV[1]), tonumber(ARGV[2])
local function clock()
  local given = tonumber(ARGV[3])
  if given then return given end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function load(key, now)
  local flat = redis.call('HGETALL', key)
  local slots, gone = {}, {}
  for i = 1, #flat, 2 do
    local r, t, at = string.match(flat[i + 1], '^(%d+):(%d+):(%d+)$')
    at = tonumber(at)
    if at and at + W > now then
      slots[#slots + 1] = { index = tonumber(flat[i]), r = tonumber(r), t = tonumber(t), at = at }
    else
      gone[#gone + 1] = flat[i]
    end
  end
  if #gone > 0 then redis.call('HDEL', key, unpack(gone)) end
  table.sort(slots, function(a, b) return a.at < b.at end)
  return slots
end
local function save(key, slot)
  if slot.r == 0 and slot.t == 0 then
    redis.call('HDEL', key, slot.index)
  else
    redis.call('HSET', key, slot.index, string.format('%d:%d:%d', slot.r, slot.t, slot.at))
  end
  redis.call('PEXPIRE', key, 2 * W)
end
local function record(key, slots, now, r, t)
  local index = math.floor(now / S)
  local last = slots[#slots]
  if last and last.index >= index then
    last.r, last.t = last.r + r, last.t + t
    if now > last.at then last.at = now end
    save(key, last)
  else
    save(key, { index = index, r = r, t = t, at = now })
  end
end
`;

/**
 * KEYS: one log per subject. ARGV: window ms, slot ms, now ms ('' = Redis TIME), tokens, then rpm and
 * tpm per subject (0 = none). Returns {admitted 0|1, then per subject (before this request): requests,
 * tokens, ms until one more request fits, ms until the tokens fit (-1: never), ms until the requests and
 * the tokens all leave}.
 */
const ADMIT = `${COMMON}
local now, need = clock(), tonumber(ARGV[4])
local function waitFor(slots, field, excess)
  if excess <= 0 then return 0 end
  local freed = 0
  for _, s in ipairs(slots) do
    freed = freed + s[field]
    if freed >= excess then return s.at + W - now end
  end
  return -1
end
local function resetFor(slots, field)
  for i = #slots, 1, -1 do
    if slots[i][field] > 0 then return slots[i].at + W - now end
  end
  return 0
end
local out, ok, logs = { 1 }, 1, {}
for i = 1, #KEYS do
  local slots = load(KEYS[i], now)
  logs[i] = slots
  local r, t = 0, 0
  for _, s in ipairs(slots) do r, t = r + s.r, t + s.t end
  local rpm, tpm = tonumber(ARGV[3 + 2 * i]), tonumber(ARGV[4 + 2 * i])
  local rw, tw = 0, 0
  if rpm > 0 then rw = waitFor(slots, 'r', r + 1 - rpm) end
  if tpm > 0 then
    if need > tpm then tw = -1 else tw = waitFor(slots, 't', t + need - tpm) end
  end
  if rw ~= 0 or tw ~= 0 then ok = 0 end
  for _, v in ipairs({ r, t, rw, tw, resetFor(slots, 'r'), resetFor(slots, 't') }) do out[#out + 1] = v end
end
out[1] = ok
if ok == 1 then
  for i = 1, #KEYS do record(KEYS[i], logs[i], now, 1, need) end
end
return out
`;

/**
 * KEYS: the subject's log. ARGV: window ms, slot ms, now ms ('' = Redis TIME), token delta. A positive
 * delta counts from now; a negative one is taken from the newest entries, never below zero.
 */
const ADJUST = `${COMMON}
local now, delta = clock(), tonumber(ARGV[4])
local slots = load(KEYS[1], now)
if delta > 0 then
  record(KEYS[1], slots, now, 0, delta)
else
  local left = -delta
  for i = #slots, 1, -1 do
    if left <= 0 then break end
    local take = math.min(slots[i].t, left)
    if take > 0 then
      slots[i].t, left = slots[i].t - take, left - take
      save(KEYS[1], slots[i])
    end
  end
end
return 0
`;

interface RateCommands {
  quorumRateAdmit(numberOfKeys: number, ...args: (string | number)[]): Promise<number[]>;
  quorumRateAdjust(key: string, ...args: (string | number)[]): Promise<number>;
}

export interface RedisRateLimitOptions {
  /** Shared with other backends; closing it is the owner's job (see backends.ts). */
  redis: Redis;
  /** Prefix of every key (default `quorum:`). */
  prefix?: string;
  /** Clock in epoch ms sent with each script; default: Redis's own clock (TIME), read in the script. */
  now?: () => number;
}

const fromScript = (ms: number) => (ms < 0 ? Infinity : ms);

export class RedisRateLimit implements RateLimitBackend {
  private readonly redis: Redis & RateCommands;
  private readonly prefix: string;
  private readonly now: (() => number) | undefined;

  constructor(options: RedisRateLimitOptions) {
    this.redis = options.redis as Redis & RateCommands;
    this.prefix = options.prefix ?? 'quorum:';
    this.now = options.now;
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
    const need = Math.max(0, Math.ceil(tokens));
    const keys = subjects.map(({ subject }) => this.key(subject));
    const limits = subjects.flatMap(({ limits }) => [limits.rpm ?? 0, limits.tpm ?? 0]);
    const reply = await this.redis.quorumRateAdmit(keys.length, ...keys, ...this.timing(), need, ...limits);
    const states: SubjectState[] = subjects.map(({ subject, limits }, i) => {
      const [requests = 0, tokens = 0, rw = 0, tw = 0, rr = 0, tr = 0] = reply.slice(1 + 6 * i, 7 + 6 * i);
      return {
        subject,
        limits,
        state: {
          requests,
          tokens,
          requestsWaitMs: fromScript(rw),
          tokensWaitMs: fromScript(tw),
          requestsResetMs: rr,
          tokensResetMs: tr,
        },
      };
    });
    return decide(states, need, reply[0] === 1);
  }

  async adjust(subject: string, tokensDelta: number): Promise<void> {
    const delta = Math.round(tokensDelta);
    if (delta === 0) return;
    await whenUsable(this.redis);
    await this.redis.quorumRateAdjust(this.key(subject), ...this.timing(), delta);
  }

  /** The client is shared; its owner closes it. */
  async close(): Promise<void> {}

  /** ARGV 1-3 of both scripts: window, entry length, and the injected time ('' = Redis TIME). */
  private timing(): [number, number, number | string] {
    return [WINDOW_MS, SLOT_MS, this.now ? this.now() : ''];
  }

  private key(subject: string): string {
    return `${this.prefix}ratelog:${subject}`;
  }
}
