/**
 * A reporter for errors that repeat while something stays away (BullMQ's clients each retry Redis
 * every second): the first of a kind is reported, the same message again only once `quietMs` has
 * passed, with how many were held back. An outage gives a line per half minute, not three a second.
 */
export function repeatQuiet(
  report: (err: unknown, repeated: number) => void,
  quietMs = 30_000,
  now: () => number = Date.now,
): (err: unknown) => void {
  const seen = new Map<string, { at: number; held: number }>();
  return (err) => {
    const key = err instanceof Error ? err.message : String(err);
    const last = seen.get(key);
    const t = now();
    if (last && t - last.at < quietMs) {
      last.held++;
      return;
    }
    // Bounded: a key per distinct message, and old ones go.
    if (seen.size > 100) seen.clear();
    seen.set(key, { at: t, held: 0 });
    report(err, last?.held ?? 0);
  };
}
