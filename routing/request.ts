/**
 * The part of a chat request the router reads. Structural, so `routing/` needs nothing from `src/`:
 * the gateway's `ChatRequest` is assignable to it (a type test checks that).
 */
export interface RouteMessage {
  role: string;
  content?: unknown;
  tool_calls?: { function: { name: string; arguments: string } }[];
}

export interface RouteRequest {
  messages: readonly RouteMessage[];
  tools?: readonly unknown[] | null;
  tool_choice?: unknown;
  response_format?: { type: string } | null;
  stream?: boolean | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
}

/**
 * The most output tokens a request lets a model write: the larger of `max_tokens` and
 * `max_completion_tokens` when both are set, since both reach an OpenAI-compatible upstream and it may
 * honour either; null when neither is. Budget holds, tpm estimates and every adapter use this one
 * reading, so what is held and what can be billed cannot disagree.
 */
export function requestedOutputTokens(
  request: Pick<RouteRequest, 'max_tokens' | 'max_completion_tokens'>,
): number | null {
  const { max_tokens: legacy, max_completion_tokens: current } = request;
  if (legacy == null) return current ?? null;
  return current == null ? legacy : Math.max(legacy, current);
}
