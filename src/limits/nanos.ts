/**
 * Money: the one place that converts. Every amount the gateway keeps (charges, holds, budgets, the
 * ledger, run costs) is an integer count of nano-dollars (1e-9 USD), so sums are exact and atomic
 * increments never round; dollars exist only at the edges — prices and limits read from config, and
 * costs written in answers — and cross them here.
 *
 * Rounding rule: a cost is tokens × price per million, computed exactly in pico-dollars (prices are
 * kept to the micro-dollar per million tokens) and rounded up to the nano-dollar once per call. Amounts
 * (holds, charges) round up and limits round down, so any rounding errs towards refusing rather than
 * overspending. Reported dollars are `usdOfNanos(n)`: `n / 1e9`, the double nearest the exact decimal,
 * which prints with at most 9 decimal places (`0.0000682`, never `0.00006819999999999999`).
 */

export const NANOS_PER_USD = 1_000_000_000;
const PICOS_PER_NANO = 1000;

/**
 * USD → pico-dollars, ignoring binary floating-point noise: `0.000123 * 1e9` is `123000.00000000001`,
 * which a bare `Math.ceil` would turn into 123001 nanos. Costs are far coarser than a pico-dollar.
 */
const picos = (usd: number) => Math.round(usd * 1e12);

/** A hold or a charge, in nanos: never negative, rounded up. */
export const amountNanos = (usd: number) => (usd > 0 ? Math.ceil(picos(usd) / PICOS_PER_NANO) : 0);

/** A limit or threshold, in nanos: rounded down. */
export const limitNanos = (usd: number) => Math.floor(picos(usd) / PICOS_PER_NANO);

/** Nanos → the dollars an answer, a header or a report shows (at most 9 decimal places). */
export const usdOfNanos = (nanos: number) => nanos / NANOS_PER_USD;

/**
 * A reported dollar amount as text (the `x-quorum-cost-usd` header): plain decimals of at most 9
 * places, never exponent notation — `0.00000014`, not `1.4e-7`.
 */
export function usdText(usd: number): string {
  // Integer nanos, split and trimmed by hand: `toFixed` and a regex per answer cost a microsecond.
  const nanos = Math.round(usd * NANOS_PER_USD);
  if (nanos === 0) return '0';
  const abs = Math.abs(nanos);
  const whole = `${nanos < 0 ? '-' : ''}${Math.floor(abs / NANOS_PER_USD)}`;
  let fraction = abs % NANOS_PER_USD;
  if (fraction === 0) return whole;
  let places = 9;
  while (fraction % 10 === 0) {
    fraction /= 10;
    places--;
  }
  return `${whole}.${String(fraction).padStart(places, '0')}`;
}

/**
 * A dollar amount in a sentence (refusals, alert messages): cents, or three significant digits below a
 * cent so a small remainder does not read as `$0.00`.
 */
export const usdWords = (usd: number) => `$${usd > 0 && usd < 0.01 ? usd.toPrecision(3) : usd.toFixed(2)}`;

/** Any dollar amount as it is reported: rounded up to the nano-dollar, as a charge is. */
export const reportedUsd = (usd: number) => usdOfNanos(amountNanos(usd));

/** A price per million tokens in micro-dollars, i.e. pico-dollars per token: an integer. */
const picosPerToken = (usdPerMillion: number) => Math.round(usdPerMillion * 1e6);

export interface PricedTokens {
  /** Prompt tokens billed at the input price. */
  input: number;
  output: number;
  /** Prompt tokens served from the provider's cache (billed at `cached_input`, else `input`). */
  cachedInput?: number;
}

export interface TokenPrices {
  /** USD per million tokens. */
  input: number;
  output: number;
  cached_input?: number;
}

/**
 * What tokens cost, in nanos: exact integer pico-dollars, rounded up once. 341 input + 97 output tokens
 * at $0.1/$0.4 per million is 72,900 nanos, i.e. $0.0000729 — never 0.00007290000000000001.
 */
export function costNanos(tokens: PricedTokens, price: TokenPrices): number {
  const total =
    tokens.input * picosPerToken(price.input) +
    (tokens.cachedInput ?? 0) * picosPerToken(price.cached_input ?? price.input) +
    tokens.output * picosPerToken(price.output);
  return total > 0 ? Math.ceil(total / PICOS_PER_NANO) : 0;
}

/**
 * What a settle charges: the actual cost, never more than the hold. A request's hold is its worst
 * case, so anything above it is an upstream's claim the gateway does not pass on (it logs it instead).
 */
export const settleNanos = (hold: { nanos: number }, actualUsd: number) =>
  Math.min(amountNanos(actualUsd), hold.nanos);

/** Sums dollar amounts exactly: each rounded to its nanos as a charge is, then added as integers. */
export const sumUsd = (amounts: Iterable<number>) => {
  let nanos = 0;
  for (const usd of amounts) nanos += amountNanos(usd);
  return usdOfNanos(nanos);
};
