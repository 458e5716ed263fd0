/**
 * Rate limits shared by several gateway instances. Each subject's log (sliding-window.ts) is a hash
 * `{prefix}ratelog:{subject}`: one field per second of traffic, `requests:tokens:latest ms`, and a
 * summary of them. One Lua script reads every subject's log, drops the entries that left the window,
 * checks all rpm and tpm limits, computes the exact wait when refused, and records the request in all of
 * them only if all pass: one atomic round trip per request. Time is Redis's own clock (TIME) read inside the script, so
 * instances with skewed clocks still agree on one window, and the wait is measured on the same clock
 * that will admit the retry; tests may inject a clock instead (`now`).
 */
import type { Redis } from 'ioredis';
import { whenUsable } from './redis-client.ts';
import { decide, SLOT_MS, type SubjectState, WINDOW_MS } from './sliding-window.ts';
import type { RateDecision, RateLimitBackend, RateLimits } from './types.ts';

/**
 * Shared by both scripts. Besides its entries (numeric fields), a log keeps a summary: `R` and `T`
 * (the live sums), `LR` and `LT` (the latest `at` of an entry with requests, with tokens), `F` (no
 * later than the earliest `at`) and `N` (the newest entry's second). While `F` is inside the window no
 * entry can have left it, so an admission reads the summary alone (one HMGET); otherwise, and whenever
 * a refusal needs the entries in order for its wait, `scan` reads them all, deletes the ones that left
 * and rewrites the summary. Mirrors `live`, `windowState`, `record` and `drain` in sliding-window.ts.
 */
const COMMON = `
local W, S = tonumber(ARGV[1]), tonumber(ARGV[2])
local function clock()
  local given = tonumber(ARGV[3])
  if given then return given end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function int(x) return string.format('%d', x) end
local function parse(index, value)
  local r, t, at = string.match(value, '^(%d+):(%d+):(%d+)$')
  if not at then return nil end
  return { index = index, r = tonumber(r), t = tonumber(t), at = tonumber(at) }
end
local function put(key, slot)
  if slot.r == 0 and slot.t == 0 then
    redis.call('HDEL', key, int(slot.index))
  else
    redis.call('HSET', key, int(slot.index), int(slot.r) .. ':' .. int(slot.t) .. ':' .. int(slot.at))
  end
end
local function commit(key, log)
  if not log.newest then
    redis.call('DEL', key)
    return
  end
  redis.call('HSET', key, 'R', int(log.r), 'T', int(log.t), 'LR', int(log.lastR), 'LT', int(log.lastT),
    'F', int(log.first), 'N', int(log.newest))
  redis.call('PEXPIRE', key, 2 * W)
end
local function scan(key, now)
  local flat = redis.call('HGETALL', key)
  local log = { r = 0, t = 0, lastR = -1, lastT = -1, first = -1, slots = {}, full = true }
  local gone = {}
  for i = 1, #flat, 2 do
    local index = tonumber(flat[i])
    if index then
      local slot = parse(index, flat[i + 1])
      if slot and slot.at + W > now then
        log.slots[#log.slots + 1] = slot
        log.r, log.t = log.r + slot.r, log.t + slot.t
        if slot.r > 0 and slot.at > log.lastR then log.lastR = slot.at end
        if slot.t > 0 and slot.at > log.lastT then log.lastT = slot.at end
        if log.first < 0 or slot.at < log.first then log.first = slot.at end
        if not log.newest or index > log.newest then log.newest = index end
      else
        gone[#gone + 1] = flat[i]
      end
    end
  end
  if #gone > 0 then redis.call('HDEL', key, unpack(gone)) end
  commit(key, log)
  return log
end
local function summary(key, now)
  local m = redis.call('HMGET', key, 'R', 'T', 'LR', 'LT', 'F', 'N')
  local first = tonumber(m[5])
  if not first or first + W <= now then return scan(key, now) end
  return { r = tonumber(m[1]), t = tonumber(m[2]), lastR = tonumber(m[3]), lastT = tonumber(m[4]),
    first = first, newest = tonumber(m[6]) }
end
local function record(key, log, now, r, t)
  local index = math.floor(now / S)
  local slot
  if log.newest and log.newest >= index then
    slot = parse(log.newest, redis.call('HGET', key, int(log.newest)) or '')
  end
  if slot then
    slot.r, slot.t = slot.r + r, slot.t + t
    if now > slot.at then slot.at = now end
  else
    slot = { index = index, r = r, t = t, at = now }
    if not log.newest or index > log.newest then log.newest = index end
    if log.first < 0 or now < log.first then log.first = now end
  end
  put(key, slot)
  log.r, log.t = log.r + r, log.t + t
  if slot.r > 0 and slot.at > log.lastR then log.lastR = slot.at end
  if slot.t > 0 and slot.at > log.lastT then log.lastT = slot.at end
  commit(key, log)
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
local function waitFor(log, field, excess)
  if excess <= 0 then return 0 end
  if not log.sorted then
    table.sort(log.slots, function(a, b) return a.at < b.at end)
    log.sorted = true
  end
  local freed = 0
  for _, s in ipairs(log.slots) do
    freed = freed + s[field]
    if freed >= excess then return s.at + W - now end
  end
  return -1
end
local function leaves(at)
  if at < 0 then return 0 end
  return at + W - now
end
local out, ok, logs = { 1 }, 1, {}
for i = 1, #KEYS do
  local log = summary(KEYS[i], now)
  local rpm, tpm = tonumber(ARGV[3 + 2 * i]), tonumber(ARGV[4 + 2 * i])
  local rx, tx = 0, 0
  if rpm > 0 then rx = log.r + 1 - rpm end
  if tpm > 0 and need <= tpm then tx = log.t + need - tpm end
  if (rx > 0 or tx > 0) and not log.full then log = scan(KEYS[i], now) end
  local rw, tw = waitFor(log, 'r', rx), waitFor(log, 't', tx)
  if tpm > 0 and need > tpm then tw = -1 end
  if rw ~= 0 or tw ~= 0 then ok = 0 end
  logs[i] = log
  for _, v in ipairs({ log.r, log.t, rw, tw, leaves(log.lastR), leaves(log.lastT) }) do out[#out + 1] = v end
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
local log = summary(KEYS[1], now)
if delta > 0 then
  record(KEYS[1], log, now, 0, delta)
  return 0
end
if log.t == 0 then return 0 end
local left = -delta
-- The usual case, a settle soon after its admission: the newest entry keeps some tokens, so the
-- summary stays true with T lowered.
local newest = log.newest and parse(log.newest, redis.call('HGET', KEYS[1], int(log.newest)) or '')
if newest and newest.t > left then
  newest.t = newest.t - left
  put(KEYS[1], newest)
  log.t = log.t - left
  commit(KEYS[1], log)
  return 0
end
if not log.full then log = scan(KEYS[1], now) end
table.sort(log.slots, function(a, b) return a.at > b.at end)
for _, slot in ipairs(log.slots) do
  if left <= 0 then break end
  local take = math.min(slot.t, left)
  if take > 0 then
    slot.t, left = slot.t - take, left - take
    put(KEYS[1], slot)
  end
end
scan(KEYS[1], now)
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
