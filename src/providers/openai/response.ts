import type { ChatCompletion } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import type { ChatResult, FinishReason, ToolCall, Usage } from '../../chat/index.ts';
import { headerValue, type WholeAnswer } from '../http/pool.ts';
import { UpstreamError } from '../upstream-error.ts';
import { bodyText } from './errors.ts';
import { COUNT, STRING, stringValue } from './json-match.ts';

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

/** A 2xx answer's JSON text: null for a 204 or a body of another media type. */
function completionText(answer: WholeAnswer): string | null {
  if (answer.status === 204) return null;
  const media = headerValue(answer.headers, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  if (!(media?.includes('application/json') || media?.endsWith('+json'))) return null;
  return bodyText(answer.body);
}

/**
 * A 2xx answer's body, read as the SDK read it: parsed once when its media type is JSON (a SyntaxError
 * is an unreadable answer); nothing for a 204, an empty body or another media type (an HTML error
 * page), which toChatResult then refuses as an answer without choices.
 */
export function parseCompletion(answer: WholeAnswer): unknown {
  return parsedText(completionText(answer));
}

/** completionText's text parsed: null stays null, an empty body is undefined. */
function parsedText(text: string | null): unknown {
  if (text === null) return null;
  return text ? JSON.parse(text) : undefined;
}

/** A usage details object's members other than `key`: counts, which the gateway does not read. */
const othersThan = (key: string) => `(?:,"(?!${key}")[a-z_]+":${COUNT})*`;
const details = (key: string) =>
  `\\{(?:"${key}":(${COUNT})${othersThan(key)}|(?:"(?!${key}")[a-z_]+":${COUNT}${othersThan(key)})?)\\}`;

/**
 * A text answer in OpenAI's compact shape: the model (1), the text (2), the finish reason (3), prompt
 * and completion tokens (4, 5), cached and reasoning tokens when given (6, 7). See json-match.ts.
 */
const TEXT_ANSWER = new RegExp(
  `^\\{"id":"${STRING}","object":"chat\\.completion","created":${COUNT},"model":"(${STRING})",` +
    `"choices":\\[\\{"index":0,"message":\\{"role":"assistant","content":"(${STRING})","refusal":null(?:,"annotations":\\[\\])?\\},` +
    `(?:"logprobs":null,)?"finish_reason":"(${STRING})"\\}\\],` +
    `"usage":\\{"prompt_tokens":(${COUNT}),"completion_tokens":(${COUNT}),"total_tokens":${COUNT}` +
    `(?:,"prompt_tokens_details":${details('cached_tokens')})?(?:,"completion_tokens_details":${details('reasoning_tokens')})?\\}` +
    `(?:,"service_tier":"${STRING}")?(?:,"system_fingerprint":(?:"${STRING}"|null))?\\}$`,
);

/**
 * The gateway's result from a whole answer: a text answer in OpenAI's compact shape read by matching
 * it, anything else parsed (toChatResult). Both read the same result from the same bytes.
 */
export function readCompletion(provider: string, answer: WholeAnswer): ChatResult {
  const text = completionText(answer);
  const match = text ? TEXT_ANSWER.exec(text) : null;
  if (!match) return toChatResult(provider, parsedText(text));
  const usage: Usage = { prompt_tokens: Number(match[4]), completion_tokens: Number(match[5]) };
  if (match[6] !== undefined && match[6] !== '0') usage.cached_tokens = Number(match[6]);
  if (match[7] !== undefined && match[7] !== '0') usage.reasoning_tokens = Number(match[7]);
  return {
    content: stringValue(match[2]!),
    refusal: null,
    finish_reason: toFinishReason(stringValue(match[3]!)),
    usage,
    upstream_model: stringValue(match[1]!),
  };
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
