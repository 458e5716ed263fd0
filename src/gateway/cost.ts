/** What usage costs at a price, and usage arithmetic. Money itself is converted in limits/nanos.ts. */
import type { Price } from '../../routing/types.ts';
import type { Usage } from '../chat/index.ts';
import { costNanos, usdOfNanos } from '../limits/nanos.ts';

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

export function addUsage(a: Usage, b: Usage): Usage {
  const out: Usage = {
    prompt_tokens: a.prompt_tokens + b.prompt_tokens,
    completion_tokens: a.completion_tokens + b.completion_tokens,
  };
  const cached = (a.cached_tokens ?? 0) + (b.cached_tokens ?? 0);
  const reasoning = (a.reasoning_tokens ?? 0) + (b.reasoning_tokens ?? 0);
  if (cached) out.cached_tokens = cached;
  if (reasoning) out.reasoning_tokens = reasoning;
  return out;
}

/** The OpenAI wire form of usage. */
export function usageBody(usage: Usage) {
  return {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    total_tokens: usage.prompt_tokens + usage.completion_tokens,
    prompt_tokens_details: { cached_tokens: usage.cached_tokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: usage.reasoning_tokens ?? 0 },
  };
}
