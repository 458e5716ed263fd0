/**
 * The rate-limit arithmetic both backends share: a sliding one-minute window approximated from two
 * fixed windows, count = current + previous × (1 − elapsed fraction of the current window). It needs
 * two counters per subject instead of a log of timestamps, and is exact when traffic in the previous
 * window was evenly spread. All comparisons are scaled by the window length so they are integer-exact
 * (the Redis script makes the same comparison in Lua; both must agree).
 */
import type { RateDecision, RateLimits } from './types.ts';

export const WINDOW_MS = 60_000;

/** A subject's counters in the current and the previous fixed window. */
export interface WindowCounts {
  requests: number;
  tokens: number;
  prevRequests: number;
  prevTokens: number;
}

export const windowIndex = (now: number) => Math.floor(now / WINDOW_MS);
export const windowElapsed = (now: number) => now - windowIndex(now) * WINDOW_MS;

/** The weighted count × WINDOW_MS. */
const scaled = (cur: number, prev: number, elapsed: number) => cur * WINDOW_MS + prev * (WINDOW_MS - elapsed);

export const fits = (cur: number, prev: number, need: number, limit: number, elapsed: number) =>
  scaled(cur, prev, elapsed) + need * WINDOW_MS <= limit * WINDOW_MS;

/**
 * Ms until `need` more would fit if nothing else is counted meanwhile: later in this window as the
 * previous window's weight fades, or in the next, when this window becomes the fading one. Infinity
 * when `need` alone is over the limit.
 */
export function waitMs(cur: number, prev: number, need: number, limit: number, elapsed: number): number {
  if (fits(cur, prev, need, limit, elapsed)) return 0;
  if (need > limit) return Infinity;
  if (cur + need <= limit) {
    const at = Math.ceil(WINDOW_MS - ((limit - cur - need) * WINDOW_MS) / prev);
    return Math.min(at, WINDOW_MS) - elapsed;
  }
  const at = Math.ceil(WINDOW_MS - ((limit - need) * WINDOW_MS) / cur);
  return WINDOW_MS - elapsed + at;
}

/** Whole units left under the limit now. */
export function remaining(cur: number, prev: number, limit: number, elapsed: number): number {
  const left = Math.floor((limit * WINDOW_MS - scaled(cur, prev, elapsed)) / WINDOW_MS);
  return Math.min(limit, Math.max(0, left));
}

/** Ms until the weighted count is back to zero (OpenAI's "resets to its initial state"). */
export function resetMs(cur: number, prev: number, elapsed: number): number {
  if (cur > 0) return 2 * WINDOW_MS - elapsed;
  return prev > 0 ? WINDOW_MS - elapsed : 0;
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

export interface SubjectCounts {
  subject: string;
  limits: RateLimits;
  /** Before this request. */
  counts: WindowCounts;
}

/** Whether one request of `tokens` fits every subject's rpm and tpm. */
export function admits(subjects: SubjectCounts[], tokens: number, elapsed: number): boolean {
  return subjects.every(({ limits, counts: c }) => {
    if (limits.rpm && !fits(c.requests, c.prevRequests, 1, limits.rpm, elapsed)) return false;
    if (limits.tpm && !fits(c.tokens, c.prevTokens, tokens, limits.tpm, elapsed)) return false;
    return true;
  });
}

/**
 * The decision for counts read before the request: when admitted, the headers show the counts with it
 * included; when refused, nothing was counted and retryAfterSeconds is the longest wait any limit needs.
 * Headers describe the tightest subject (least remaining) per kind; the `-tokens` trio only when a tpm
 * applies, the `-requests` trio only when an rpm does.
 */
export function decide(
  subjects: SubjectCounts[],
  tokens: number,
  elapsed: number,
  ok: boolean,
): RateDecision {
  const headers: Record<string, string> = {};
  const added = ok ? 1 : 0;
  let requests: { limit: number; left: number; reset: number } | undefined;
  let tokenTrio: { limit: number; left: number; reset: number } | undefined;
  let wait = 0;
  let limited: Pick<RateDecision, 'limitedBy' | 'subject'> = {};
  for (const { subject, limits, counts: c } of subjects) {
    if (limits.rpm) {
      const cur = c.requests + added;
      const left = remaining(cur, c.prevRequests, limits.rpm, elapsed);
      if (!requests || left < requests.left) {
        requests = { limit: limits.rpm, left, reset: resetMs(cur, c.prevRequests, elapsed) };
      }
      if (!ok) {
        const w = waitMs(c.requests, c.prevRequests, 1, limits.rpm, elapsed);
        if (w > wait) [wait, limited] = [w, { limitedBy: 'requests', subject }];
      }
    }
    if (limits.tpm) {
      const cur = c.tokens + added * tokens;
      const left = remaining(cur, c.prevTokens, limits.tpm, elapsed);
      if (!tokenTrio || left < tokenTrio.left) {
        tokenTrio = { limit: limits.tpm, left, reset: resetMs(cur, c.prevTokens, elapsed) };
      }
      if (!ok) {
        const w = waitMs(c.tokens, c.prevTokens, tokens, limits.tpm, elapsed);
        if (w > wait) [wait, limited] = [w, { limitedBy: 'tokens', subject }];
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
  // A request over a whole tpm can never fit; one window is the honest "not soon" answer.
  const seconds = Number.isFinite(wait) ? Math.ceil(wait / 1000) : WINDOW_MS / 1000;
  return { ok, headers, retryAfterSeconds: Math.max(1, seconds), ...limited };
}
