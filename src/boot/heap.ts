/**
 * V8's allocation-site pretenuring, turned off for the whole process (every thread shares V8's flags).
 *
 * Pretenuring allocates objects from a "long-lived" allocation site straight into the old generation.
 * A gateway's objects are per request: V8 saw some of them alive at a scavenge (the 32 requests in
 * flight), pretenured their sites, and from then on every request's objects that a pretenured one
 * points at survived every scavenge (the young generation's collector cannot tell that an old object is
 * dead) and were copied into the old generation, to be freed only by the next full collection. Under
 * 32 connections that was ≈ 2.5 KB of each request promoted, scavenge pauses of 4–7 ms instead of
 * 1.4, and ≈ 100 MB more peak memory (docs/decisions.md has the measurements).
 *
 * V8 reads the flag when it decides, at each scavenge, so setting it at start-up (before any request)
 * is enough; it cannot be passed in NODE_OPTIONS.
 */
import { setFlagsFromString } from 'node:v8';

/** Setting it again (a second boot in one process) changes nothing. */
export function tuneHeap(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}
