/** The retry schedule of a webhook delivery: exponential, capped, and a last try after which it is failed. */

export interface RetrySchedule {
  /** Tries in all, the first included. */
  maxAttempts: number;
  /** Wait before the first retry; each later one waits twice as long. */
  backoffMs: number;
  /** The longest wait between two tries. */
  maxBackoffMs: number;
}

/**
 * When to try again after try number `attempt` (1 = the first) failed at `nowMs`; null when that was
 * the last try. No jitter: each delivery is held by one sender, so retries do not stampede together.
 */
export function retryAt(schedule: RetrySchedule, attempt: number, nowMs: number): number | null {
  if (attempt >= schedule.maxAttempts) return null;
  const wait = Math.min(schedule.maxBackoffMs, schedule.backoffMs * 2 ** (attempt - 1));
  return nowMs + wait;
}
