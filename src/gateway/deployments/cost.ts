/** What usage costs at a deployment's price. Money itself is converted in limits/nanos.ts. */
import type { Price } from '../../../routing/types.ts';
import type { Usage } from '../../chat/index.ts';
import { costNanos, usdOfNanos } from '../../limits/nanos.ts';

/** Usage's cost in nanos: fresh prompt tokens at the input price, cached ones at the cached price. */
export function usageNanos(usage: Usage, price: Price): number {
  const cached = Math.min(usage.cached_tokens ?? 0, usage.prompt_tokens);
  return costNanos(
    { input: usage.prompt_tokens - cached, cachedInput: cached, output: usage.completion_tokens },
    price,
  );
}

/**
 * Usage's cost in USD, as charged: exact to the nano-dollar (rounded up once), so 12 tokens at $0.10/M
 * is 0.0000012, not 0.0000012000000000000002, and it prints with at most 9 decimal places.
 */
export function costOf(usage: Usage, price: Price): number {
  return usdOfNanos(usageNanos(usage, price));
}
