import type { Price } from '../../routing/types.ts';
import type { Usage } from '../chat/index.ts';

/** Prices as integer micro-dollars per million tokens, so sums of products are exact integers. */
const micros = (usdPerMillion: number) => Math.round(usdPerMillion * 1e6);

/**
 * Exact cost in USD: tokens × price per million, cached prompt tokens at the cached price. Integer
 * arithmetic with one final division, so 12 tokens at $0.10/M is 0.0000012, not 0.0000012000000000000002.
 */
export function costOf(usage: Usage, price: Price): number {
  const cached = Math.min(usage.cached_tokens ?? 0, usage.prompt_tokens);
  const fresh = usage.prompt_tokens - cached;
  const total =
    fresh * micros(price.input) +
    cached * micros(price.cached_input ?? price.input) +
    usage.completion_tokens * micros(price.output);
  return total / 1e12;
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
