/**
 * USD ↔ nano-dollar conversion that ignores binary floating-point noise: `0.000123 * 1e9` is
 * `123000.00000000001`, which a bare `Math.ceil` turns into 123001. Rounding to pico-dollars first
 * removes the noise (costs are tokens × price / 1e6, far coarser than a pico-dollar) and keeps the
 * direction of the final rounding: amounts (holds, charges) round up, limits round down, so any
 * rounding errs towards refusing rather than overspending.
 */
const PICOS_PER_NANO = 1000;

const picos = (usd: number) => Math.round(usd * 1e12);

/** A hold or a charge, in nanos: never negative, rounded up. */
export const amountNanos = (usd: number) => (usd > 0 ? Math.ceil(picos(usd) / PICOS_PER_NANO) : 0);

/** A limit or threshold, in nanos: rounded down. */
export const limitNanos = (usd: number) => Math.floor(picos(usd) / PICOS_PER_NANO);

/**
 * What a settle charges: the actual cost, never more than the hold. A request's hold is its worst
 * case, so anything above it is an upstream's claim the gateway does not pass on (it logs it instead).
 */
export const settleNanos = (hold: { nanos: number }, actualUsd: number) =>
  Math.min(amountNanos(actualUsd), hold.nanos);
