/**
 * The readiness probe of the store: a trivial query, asked at most once per interval however many
 * probes arrive (a probe storm must not become a query storm), and bounded in time, since a database
 * host that drops packets would otherwise hold every probe for the driver's connection timeout.
 */
import { unavailableReason } from './errors.ts';

export interface ProbeOptions {
  /** How long an answer is reused (default 1 s). */
  cacheMs?: number;
  /** How long the query may take before the store counts as not answering (default 2 s). */
  timeoutMs?: number;
  now?: () => number;
}

/** Resolves null while the store answers, else a short reason. */
export type StoreProbe = () => Promise<string | null>;

export function cachedProbe(ping: () => Promise<void>, options: ProbeOptions = {}): StoreProbe {
  const cacheMs = options.cacheMs ?? 1_000;
  const timeoutMs = options.timeoutMs ?? 2_000;
  const now = options.now ?? Date.now;
  let last: { at: number; result: Promise<string | null> } | null = null;

  const ask = async (): Promise<string | null> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([ping().then(() => null), timeout]);
    } catch (err) {
      return unavailableReason(err);
    } finally {
      clearTimeout(timer);
    }
  };

  return () => {
    // A pending answer is shared too, so concurrent probes wait on one query.
    if (!last || now() - last.at >= cacheMs) last = { at: now(), result: ask() };
    return last.result;
  };
}
