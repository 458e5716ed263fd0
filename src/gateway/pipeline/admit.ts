/** The admit stage: rate limits and a budget hold on the request's worst case, then its deadline opens. */
import { admitWithin, type LimitBackends } from '../budget/index.ts';
import type { RequestBounds, RequestContext } from '../request/index.ts';

/** Hold a reservation a little past the deadline, so a slow settle never releases it early. */
const RESERVATION_MARGIN_MS = 30_000;

/**
 * Admits a request (rate limits, then a budget hold on its worst-case cost; a refusal is the API's 429)
 * and opens it: a deadline and one signal for all its calls. `rc.end()` settles it.
 */
export async function admitRequest(
  limits: LimitBackends,
  /** server.request_timeout_ms: the longest any request may take. */
  requestTimeoutMs: number,
  rc: RequestContext,
  bounds: RequestBounds,
): Promise<void> {
  const ms = Math.min(requestTimeoutMs, bounds.timeoutMs ?? Number.POSITIVE_INFINITY);
  const admission = await admitWithin(limits, rc.caller, bounds, ms + RESERVATION_MARGIN_MS, {
    endUser: rc.endUser,
    tags: rc.tags,
  });
  rc.open(admission, bounds, ms);
}
