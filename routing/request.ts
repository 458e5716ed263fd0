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
