/**
 * The rate-limit arithmetic both backends share: a true sliding one-minute window over a log of what
 * each subject was admitted. The log keeps one entry per second that saw traffic (its requests, its
 * tokens, and the time of its latest request); an entry counts until one minute after that latest
 * request. So every request counts for at least 60 s and, when later requests share its second, at
 * most 61 s: never less than the minute the limit promises, and never more than 61 entries per subject.
 * A refusal's wait is exact for this log: the time until enough of the oldest entries leave the window
 * for the request to fit, if nothing else is admitted meanwhile. The Redis script (redis-rate.ts) does
 * the same arithmetic in Lua; both must agree.
 */
import type { RateDecision, RateLimits } from './types.ts';

export const WINDOW_MS = 60_000;
/** Entries of the log are per second: bounded size, and at most 1 s of extra hold for a busy second. */
export const SLOT_MS = 1_000;

/** One second of a subject's log. */
export interface Slot {
  /** floor(ms / SLOT_MS) of the second it covers. */
  index: number;
  requests: number;
  tokens: number;
  /** Epoch ms of its latest request (or token correction): it counts until `at + WINDOW_MS`. */
  at: number;
}

/** Still inside the window at `now`. */
export const live = (slot: Slot, now: number) => slot.at + WINDOW_MS > now;

/** A subject's window as seen at one instant, before the request being decided. */
export interface WindowState {
  requests: number;
  tokens: number;
  /** Ms until one more request fits the rpm (0 when it fits now or there is no rpm). */
  requestsWaitMs: number;
  /** Ms until the request's tokens fit the tpm (0: fits or no tpm; Infinity: more than the tpm). */
  tokensWaitMs: number;
  /** Ms until every counted request (token) has left the window. */
  requestsResetMs: number;
  tokensResetMs: number;
}

/**
 * Ms until `excess` units have left the window, taking the oldest entries first: the moment the entry
 * that completes the excess leaves. 0 when nothing needs to leave.
 */
function waitFor(slots: readonly Slot[], pick: (s: Slot) => number, excess: number, now: number): number {
  if (excess <= 0) return 0;
  let freed = 0;
  for (const slot of slots) {
    freed += pick(slot);
    if (freed >= excess) return slot.at + WINDOW_MS - now;
  }
  return Infinity;
}

function resetFor(slots: readonly Slot[], pick: (s: Slot) => number, now: number): number {
  for (let i = slots.length - 1; i >= 0; i--) {
    if (pick(slots[i]!) > 0) return slots[i]!.at + WINDOW_MS - now;
  }
  return 0;
}

const requestsOf = (s: Slot) => s.requests;
const tokensOf = (s: Slot) => s.tokens;

/** `slots`: the live entries, oldest first. `need`: the request's tokens. */
export function windowState(
  slots: readonly Slot[],
  now: number,
  need: number,
  limits: RateLimits,
): WindowState {
  let requests = 0;
  let tokens = 0;
  for (const s of slots) {
    requests += s.requests;
    tokens += s.tokens;
  }
  const rpm = limits.rpm ?? 0;
  const tpm = limits.tpm ?? 0;
  return {
    requests,
    tokens,
    requestsWaitMs: rpm > 0 ? waitFor(slots, requestsOf, requests + 1 - rpm, now) : 0,
    tokensWaitMs: tpm > 0 ? (need > tpm ? Infinity : waitFor(slots, tokensOf, tokens + need - tpm, now)) : 0,
    requestsResetMs: resetFor(slots, requestsOf, now),
    tokensResetMs: resetFor(slots, tokensOf, now),
  };
}

/** Counts `requests` and `tokens` (>= 0) at `now` into the log (oldest first), in now's second. */
export function record(slots: Slot[], now: number, requests: number, tokens: number): void {
  const index = Math.floor(now / SLOT_MS);
  const last = slots[slots.length - 1];
  // A clock that stepped back (another instance's, in tests) still lands in the newest entry.
  if (last && last.index >= index) {
    last.requests += requests;
    last.tokens += tokens;
    last.at = Math.max(last.at, now);
  } else {
    slots.push({ index, requests, tokens, at: now });
  }
}

/**
 * Takes `tokens` back (a correction below the estimate, or a refused request's undo), newest entries
 * first since the request being corrected was counted recently; never below zero. Entries left empty
 * are dropped.
 */
export function drain(slots: Slot[], tokens: number): void {
  let left = tokens;
  for (let i = slots.length - 1; i >= 0 && left > 0; i--) {
    const slot = slots[i]!;
    const take = Math.min(slot.tokens, left);
    slot.tokens -= take;
    left -= take;
    if (slot.tokens === 0 && slot.requests === 0) slots.splice(i, 1);
  }
}

/** OpenAI's (Go's) duration format: `0s`, `250ms`, `1s`, `59.5s`, `6m0s`, `1h2m3s`. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total < 1000) return total === 0 ? '0s' : `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = `${(total % 60_000) / 1000}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  return minutes > 0 ? `${minutes}m${seconds}` : seconds;
}

export interface SubjectState {
  subject: string;
  limits: RateLimits;
  /** Before this request. */
  state: WindowState;
}

/** Whether one request of `tokens` fits every subject's rpm and tpm. */
export const admits = (subjects: readonly SubjectState[]) =>
  subjects.every(({ state }) => state.requestsWaitMs === 0 && state.tokensWaitMs === 0);

/**
 * The decision for states read before the request: when admitted, the headers show the counts with it
 * included; when refused, nothing was counted and the wait is the longest any limit needs (with no new
 * traffic entries only leave, so a limit once met stays met: the longest wait is the first moment all
 * are).
 * Headers describe the tightest subject (least remaining) per kind; the `-tokens` trio only when a tpm
 * applies, the `-requests` trio only when an rpm does.
 */
export function decide(subjects: readonly SubjectState[], tokens: number, ok: boolean): RateDecision {
  const headers: Record<string, string> = {};
  let requests: { limit: number; left: number; reset: number } | undefined;
  let tokenTrio: { limit: number; left: number; reset: number } | undefined;
  let wait = 0;
  let limited: Pick<RateDecision, 'limitedBy' | 'subject' | 'limit'> = {};
  let tooLarge: Pick<RateDecision, 'limitedBy' | 'subject' | 'limit'> | undefined;
  for (const { subject, limits, state: s } of subjects) {
    if (limits.rpm) {
      const used = s.requests + (ok ? 1 : 0);
      const left = Math.max(0, limits.rpm - used);
      const reset = ok ? WINDOW_MS : s.requestsResetMs;
      if (!requests || left < requests.left) requests = { limit: limits.rpm, left, reset };
      if (!ok && s.requestsWaitMs > wait) {
        wait = s.requestsWaitMs;
        limited = { limitedBy: 'requests', subject, limit: limits.rpm };
      }
    }
    if (limits.tpm) {
      const used = s.tokens + (ok ? tokens : 0);
      const left = Math.max(0, limits.tpm - used);
      const reset = ok && tokens > 0 ? WINDOW_MS : s.tokensResetMs;
      if (!tokenTrio || left < tokenTrio.left) tokenTrio = { limit: limits.tpm, left, reset };
      if (!ok && s.tokensWaitMs === Infinity) {
        tooLarge ??= { limitedBy: 'tokens', subject, limit: limits.tpm };
      } else if (!ok && s.tokensWaitMs > wait) {
        wait = s.tokensWaitMs;
        limited = { limitedBy: 'tokens', subject, limit: limits.tpm };
      }
    }
  }
  if (requests) {
    headers['x-ratelimit-limit-requests'] = String(requests.limit);
    headers['x-ratelimit-remaining-requests'] = String(requests.left);
    headers['x-ratelimit-reset-requests'] = formatDuration(requests.reset);
  }
  if (tokenTrio) {
    headers['x-ratelimit-limit-tokens'] = String(tokenTrio.limit);
    headers['x-ratelimit-remaining-tokens'] = String(tokenTrio.left);
    headers['x-ratelimit-reset-tokens'] = formatDuration(tokenTrio.reset);
  }
  if (ok) return { ok, headers };
  // Bigger than a whole tpm: no wait makes it fit, so no retry time is offered.
  if (tooLarge) return { ok, headers, neverFits: true, ...tooLarge };
  const ms = Math.max(1, Math.ceil(wait));
  return { ok, headers, retryAfterMs: ms, retryAfterSeconds: Math.ceil(ms / 1000), ...limited };
}
