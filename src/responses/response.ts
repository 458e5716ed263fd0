/**
 * The Response object (`object: "response"`) and its output items, built from the gateway's chat
 * answer: the text as one assistant `message` item, each tool call as a `function_call` item, usage in
 * the Responses terms, `model` the catalog id that answered, and the `quorum` record alongside.
 */
import type { FinishReason } from '../chat/index.ts';
import { itemId } from './ids.ts';
import type { FunctionCallItem, ItemStatus, MessageItem } from './input.ts';
import type { ResponseEcho } from './request.ts';

export type OutputItem = MessageItem | FunctionCallItem;

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** What every state of one response shares. */
export interface ResponseBase {
  id: string;
  /** Unix seconds. */
  createdAt: number;
  /** Catalog id of the model that answers. */
  model: string;
  echo: ResponseEcho;
}

export interface ResponseState {
  status: ResponseStatus;
  output: OutputItem[];
  usage?: ResponseUsage | null;
  /** Why an incomplete response stopped. */
  incomplete_details?: { reason: string } | null;
  error?: { code: string; message: string } | null;
  quorum?: unknown;
}

/** The chat usage body (`usageBody`) in the Responses terms. */
export function responseUsage(usage: unknown): ResponseUsage | null {
  if (!usage || typeof usage !== 'object') return null;
  const u = usage as {
    prompt_tokens?: number;
    completion_tokens?: number;
    prompt_tokens_details?: { cached_tokens?: number };
    completion_tokens_details?: { reasoning_tokens?: number };
  };
  const input = u.prompt_tokens ?? 0;
  const output = u.completion_tokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: u.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: u.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: input + output,
  };
}

/** A finish reason as the response's status: an answer cut by the token limit or a filter is incomplete. */
export function statusOf(finish: FinishReason | string | null | undefined): {
  status: 'completed' | 'incomplete';
  incomplete_details: { reason: 'max_output_tokens' | 'content_filter' } | null;
} {
  if (finish === 'length')
    return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finish === 'content_filter') {
    return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  }
  return { status: 'completed', incomplete_details: null };
}

export const outputText = (text: string) => ({
  type: 'output_text' as const,
  text,
  annotations: [],
  logprobs: [],
});

/** A whole chat message (a non-streamed answer) as output items. */
export function messageOutput(
  message: {
    content?: string | null;
    refusal?: string | null;
    tool_calls?: { id: string; function: { name: string; arguments: string } }[];
  },
  status: ItemStatus,
): OutputItem[] {
  const items: OutputItem[] = [];
  const calls = message.tool_calls ?? [];
  if (message.content || message.refusal || calls.length === 0) {
    items.push({
      id: itemId('msg'),
      type: 'message',
      status,
      role: 'assistant',
      content: [
        ...(message.content || !message.refusal ? [outputText(message.content ?? '')] : []),
        ...(message.refusal ? [{ type: 'refusal' as const, refusal: message.refusal }] : []),
      ],
    });
  }
  for (const call of calls) {
    items.push({
      id: itemId('fc'),
      type: 'function_call',
      status: 'completed',
      call_id: call.id,
      name: call.function.name,
      arguments: call.function.arguments,
    });
  }
  return items;
}

/** The Response object in a given state. */
export function responseObject(base: ResponseBase, state: ResponseState): Record<string, unknown> {
  const { echo } = base;
  const finished = state.status === 'completed' || state.status === 'incomplete';
  const incomplete =
    state.status === 'incomplete' ? (state.incomplete_details ?? { reason: 'max_output_tokens' }) : null;
  return {
    id: base.id,
    object: 'response',
    created_at: base.createdAt,
    status: state.status,
    background: false,
    completed_at: state.status === 'completed' ? Math.floor(Date.now() / 1000) : null,
    error: state.error ?? null,
    incomplete_details: incomplete,
    instructions: echo.instructions,
    max_output_tokens: echo.max_output_tokens,
    max_tool_calls: null,
    metadata: echo.metadata,
    model: base.model,
    output: state.output,
    parallel_tool_calls: echo.parallel_tool_calls,
    previous_response_id: echo.previous_response_id,
    reasoning: echo.reasoning,
    ...(echo.service_tier ? { service_tier: echo.service_tier } : {}),
    ...(echo.prompt_cache_key ? { prompt_cache_key: echo.prompt_cache_key } : {}),
    ...(echo.safety_identifier ? { safety_identifier: echo.safety_identifier } : {}),
    store: echo.store,
    temperature: echo.temperature,
    text: echo.text,
    tool_choice: echo.tool_choice,
    tools: echo.tools,
    top_p: echo.top_p,
    truncation: echo.truncation,
    usage: finished ? (state.usage ?? null) : null,
    ...(echo.user !== undefined ? { user: echo.user } : {}),
    ...(state.quorum !== undefined ? { quorum: state.quorum } : {}),
  };
}
