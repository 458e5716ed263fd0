import type { ToolCall } from './schema.ts';

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

/** Token counts in the gateway's terms; adapters fill in what their provider reports. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  /** Prompt tokens served from the provider's cache (a subset of prompt_tokens). */
  cached_tokens?: number;
  /** Output tokens spent on hidden reasoning (a subset of completion_tokens). */
  reasoning_tokens?: number;
}

/** A whole answer from one upstream call. */
export interface ChatResult {
  content: string | null;
  tool_calls?: ToolCall[];
  refusal?: string | null;
  finish_reason: FinishReason;
  usage: Usage;
  /** The model name the provider says answered (its own naming). */
  upstream_model?: string;
}

/** Streaming is an async iterable of these typed events, never raw SSE text. */
export type StreamEvent =
  | { type: 'text'; text: string }
  | {
      type: 'tool_call';
      /** Position of the call in the message's tool_calls, stable across deltas. */
      index: number;
      /** Present on the first delta of a call. */
      id?: string;
      name?: string;
      /** A fragment of the JSON arguments. */
      arguments?: string;
    }
  | { type: 'finish'; reason: FinishReason }
  | { type: 'usage'; usage: Usage }
  | { type: 'model'; model: string };
