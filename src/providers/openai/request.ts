import type { ChatCompletionCreateParamsBase } from 'openai/resources/chat/completions';
import type { ChatRequest } from '../../chat/index.ts';

/**
 * The client's body is already OpenAI-shaped: forward it whole (unknown fields included, so `seed`,
 * `logit_bias`, `reasoning_effort`… reach OpenAI-compatible servers), minus our extension field.
 */
export function toOpenAIBody(model: string, request: ChatRequest): ChatCompletionCreateParamsBase {
  const { quorum: _quorum, stream: _stream, stream_options: _options, model: _model, ...rest } = request;
  return { ...(rest as Omit<ChatCompletionCreateParamsBase, 'model'>), model };
}
