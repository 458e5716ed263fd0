/** Anthropic Message → the gateway's ChatResult, plus the pieces the stream translation shares. */
import type { Message, StopReason } from '@anthropic-ai/sdk/resources/messages';
import type { ChatResult, FinishReason, ToolCall, Usage } from '../../chat/index.ts';
import { UpstreamError } from '../upstream-error.ts';

export function finishReasonOf(reason: StopReason | string | null | undefined): FinishReason {
  switch (reason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      // end_turn, stop_sequence, pause_turn (a server tool paused; the text so far is the answer).
      return 'stop';
  }
}

interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  output_tokens_details?: { thinking_tokens?: number | null } | null;
}

/** Anthropic's `input_tokens` excludes cache reads and writes; OpenAI's prompt_tokens counts them all. */
export function usageOf(u: AnthropicUsage): Usage {
  const cached = u.cache_read_input_tokens ?? 0;
  const usage: Usage = {
    prompt_tokens: (u.input_tokens ?? 0) + cached + (u.cache_creation_input_tokens ?? 0),
    completion_tokens: u.output_tokens ?? 0,
  };
  if (cached) usage.cached_tokens = cached;
  const thinking = u.output_tokens_details?.thinking_tokens;
  if (thinking) usage.reasoning_tokens = thinking;
  return usage;
}

const FENCE = /^\s*```[a-zA-Z]*[ \t]*\r?\n([\s\S]*?)\r?\n?```\s*$/;

/** JSON mode is an instruction, so a model may still wrap the answer in a ```json fence. */
export function stripJsonFence(text: string): string {
  const m = FENCE.exec(text);
  return m ? (m[1] ?? '').trim() : text;
}

export function toChatResult(providerId: string, message: Message, json: boolean): ChatResult {
  if (!message || typeof message !== 'object' || !Array.isArray(message.content)) {
    throw new UpstreamError(providerId, 200, `${providerId} answered with something that is not a message`, {
      failure: 'bad_response',
    });
  }
  const texts: string[] = [];
  const toolCalls: ToolCall[] = [];
  for (const block of message.content) {
    if (block.type === 'text') texts.push(block.text);
    else if (block.type === 'tool_use') {
      toolCalls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
    }
    // Thinking and server-tool blocks have no place in an OpenAI message.
  }
  const text = texts.join('');
  const result: ChatResult = {
    // OpenAI's shape: content is null only beside tool calls.
    content: text === '' && toolCalls.length ? null : json ? stripJsonFence(text) : text,
    finish_reason: finishReasonOf(message.stop_reason),
    usage: usageOf(message.usage ?? {}),
    upstream_model: message.model,
  };
  if (toolCalls.length) result.tool_calls = toolCalls;
  return result;
}
