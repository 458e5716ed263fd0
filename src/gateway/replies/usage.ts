/** Usage arithmetic and its OpenAI wire form. */
import type { Usage } from '../../chat/index.ts';

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
