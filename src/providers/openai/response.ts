import type { ChatCompletion } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import type { ChatResult, FinishReason, ToolCall, Usage } from '../../chat/index.ts';
import { headerValue, type WholeAnswer } from '../http/pool.ts';
import { UpstreamError } from '../upstream-error.ts';
import { bodyText } from './errors.ts';

export function toFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'content_filter':
      return 'content_filter';
    default:
      return 'stop';
  }
}

export function toUsage(usage: CompletionUsage | null | undefined): Usage {
  const out: Usage = {
    prompt_tokens: usage?.prompt_tokens ?? 0,
    completion_tokens: usage?.completion_tokens ?? 0,
  };
  const cached = usage?.prompt_tokens_details?.cached_tokens;
  const reasoning = usage?.completion_tokens_details?.reasoning_tokens;
  if (cached) out.cached_tokens = cached;
  if (reasoning) out.reasoning_tokens = reasoning;
  return out;
}

/**
 * A 2xx answer's body, read as the SDK read it: parsed once when its media type is JSON (a SyntaxError
 * is an unreadable answer); nothing for a 204, an empty body or another media type (an HTML error
 * page), which toChatResult then refuses as an answer without choices.
 */
export function parseCompletion(answer: WholeAnswer): unknown {
  if (answer.status === 204) return null;
  const media = headerValue(answer.headers, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  if (!(media?.includes('application/json') || media?.endsWith('+json'))) return null;
  const text = bodyText(answer.body);
  return text ? JSON.parse(text) : undefined;
}

/**
 * The gateway's result from a completion. An answer without a choice is the provider's failure (an
 * empty answer passed on as `stop` would look complete), and it counts against the deployment.
 */
export function toChatResult(provider: string, parsed: unknown): ChatResult {
  const completion = parsed as ChatCompletion;
  const choice = Array.isArray(completion?.choices) ? completion.choices[0] : undefined;
  if (!choice) {
    throw new UpstreamError(provider, 200, 'the provider sent an answer without choices', {
      failure: 'bad_response',
    });
  }
  const message = choice?.message;
  const toolCalls: ToolCall[] = [];
  for (const call of message?.tool_calls ?? []) {
    if (call.type === 'function') {
      toolCalls.push({
        id: call.id,
        type: 'function',
        function: { name: call.function.name, arguments: call.function.arguments },
      });
    }
  }
  return {
    content: message?.content ?? null,
    ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
    refusal: message?.refusal ?? null,
    finish_reason: toFinishReason(choice?.finish_reason),
    usage: toUsage(completion.usage),
    upstream_model: completion.model,
  };
}
