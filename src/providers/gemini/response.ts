/** Gemini `GenerateContentResponse` → the gateway's ChatResult (pieces shared with the stream). */
import { randomBytes } from 'node:crypto';
import type { GenerateContentResponse, GenerateContentResponseUsageMetadata, Part } from '@google/genai';
import type { ChatResult, FinishReason, ToolCall, Usage } from '../../chat/index.ts';
import { UpstreamError } from '../upstream-error.ts';

const FILTERED = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/** Gemini has no tool_calls finish reason: a STOP that carries function calls is one. */
export function mapFinish(reason: unknown, hasToolCalls: boolean): FinishReason {
  const r = typeof reason === 'string' ? reason : '';
  if (r === 'MAX_TOKENS') return 'length';
  if (FILTERED.has(r)) return 'content_filter';
  return hasToolCalls ? 'tool_calls' : 'stop';
}

/** Gemini counts thinking separately from the answer; OpenAI's completion_tokens include both. */
export function mapUsage(meta: GenerateContentResponseUsageMetadata | undefined): Usage {
  const thoughts = meta?.thoughtsTokenCount;
  const usage: Usage = {
    prompt_tokens: meta?.promptTokenCount ?? 0,
    completion_tokens: (meta?.candidatesTokenCount ?? 0) + (thoughts ?? 0),
  };
  if (meta?.cachedContentTokenCount != null) usage.cached_tokens = meta.cachedContentTokenCount;
  if (thoughts != null) usage.reasoning_tokens = thoughts;
  return usage;
}

/**
 * Gemini rarely gives calls an id, and OpenAI clients key tool results by id across the whole
 * conversation, so a missing one is made unique (`call_` + 24 hex) rather than positional.
 */
export function toolCallId(part: Part): string {
  return part.functionCall?.id || `call_${randomBytes(12).toString('hex')}`;
}

export function toolCallOf(part: Part): ToolCall | null {
  const call = part.functionCall;
  if (!call?.name) return null;
  return {
    id: toolCallId(part),
    type: 'function',
    function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) },
  };
}

/** Visible answer text of a part: thought summaries (`thought: true`) are not the answer. */
export function textOf(part: Part): string {
  return part.thought || typeof part.text !== 'string' ? '' : part.text;
}

export function toChatResult(providerId: string, response: GenerateContentResponse): ChatResult {
  const candidate = response.candidates?.[0];
  if (!candidate) {
    // A blocked prompt answers 200 with promptFeedback and no candidates.
    if (response.promptFeedback?.blockReason) {
      return {
        content: '',
        finish_reason: 'content_filter',
        usage: mapUsage(response.usageMetadata),
        upstream_model: response.modelVersion,
      };
    }
    throw new UpstreamError(providerId, 200, 'Gemini returned no candidates', { failure: 'bad_response' });
  }
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const part of candidate.content?.parts ?? []) {
    text += textOf(part);
    const call = toolCallOf(part);
    if (call) toolCalls.push(call);
  }
  const result: ChatResult = {
    content: text || (toolCalls.length ? null : ''),
    finish_reason: mapFinish(candidate.finishReason, toolCalls.length > 0),
    usage: mapUsage(response.usageMetadata),
    upstream_model: response.modelVersion,
  };
  if (toolCalls.length) result.tool_calls = toolCalls;
  return result;
}
