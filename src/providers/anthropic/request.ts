/**
 * OpenAI chat request → Anthropic Messages request. What Anthropic would reject and can be adapted is
 * (empty text blocks left out, a system-only request sent as the user's turn); what cannot is refused
 * here, before any call, naming the field.
 */
import type {
  ContentBlockParam,
  ImageBlockParam,
  MessageCreateParamsBase,
  MessageParam,
  TextBlockParam,
  Tool,
  ToolChoice,
} from '@anthropic-ai/sdk/resources/messages';
import { requestedOutputTokens } from '../../../routing/request.ts';
import type { ChatMessage, ChatRequest, UserContentPart } from '../../chat/index.ts';
import { RefusedRequestError, UpstreamError } from '../upstream-error.ts';

/** Anthropic requires `max_tokens`; OpenAI does not. Used when the client sent neither limit. */
export const DEFAULT_MAX_TOKENS = 4096;

/** Anthropic's temperature range is 0..1 where OpenAI's is 0..2. */
const MAX_TEMPERATURE = 1;

export interface MapOptions {
  providerId: string;
  /**
   * Send `temperature` / `top_p`. API version 2026-10-21 (what SDK 1.x sends) rejects them with a
   * 400 even at their defaults, so they are dropped unless the operator pins `anthropic-version:
   * 2023-06-01` in the provider's `headers`.
   */
  sampling: boolean;
}

/** The body sent upstream, minus `stream` (the caller adds it). */
export type AnthropicParams = MessageCreateParamsBase & { temperature?: number; top_p?: number };

type Role = 'user' | 'assistant';
type Turn = { role: Role; content: ContentBlockParam[] };

export function toAnthropicParams(model: string, request: ChatRequest, options: MapOptions): AnthropicParams {
  const system: string[] = [];
  const turns: Turn[] = [];
  // Anthropic wants alternating turns: consecutive same-role messages (e.g. parallel tool results) merge.
  const push = (role: Role, blocks: ContentBlockParam[]) => {
    if (blocks.length === 0) return;
    const last = turns.at(-1);
    // A loop, not push(...blocks): a message may carry more parts than a call may take arguments.
    if (last?.role === role) for (const block of blocks) last.content.push(block);
    else turns.push({ role, content: blocks });
  };

  for (const message of request.messages) {
    switch (message.role) {
      case 'system':
      case 'developer': {
        const text = joinText(message.content);
        if (text) system.push(text);
        break;
      }
      case 'user':
        push('user', userBlocks(message.content, options.providerId));
        break;
      case 'assistant':
        push('assistant', assistantBlocks(message));
        break;
      case 'tool':
        push('user', [
          { type: 'tool_result', tool_use_id: message.tool_call_id, content: joinText(message.content) },
        ]);
        break;
    }
  }

  const instruction = jsonInstruction(request);
  if (instruction) system.push(instruction);
  // A system-only conversation is valid for OpenAI but an empty `messages` is a 400 here.
  if (turns.length === 0) {
    // Anthropic needs one non-empty message; with no text anywhere there is nothing to send.
    if (system.length === 0) throw emptyRequest(request, options.providerId);
    turns.push({ role: 'user', content: [{ type: 'text', text: system.splice(0).join('\n\n') }] });
  }

  const params: AnthropicParams = {
    model,
    max_tokens: requestedOutputTokens(request) ?? DEFAULT_MAX_TOKENS,
    messages: turns.map(toMessageParam),
  };
  if (system.length) params.system = system.join('\n\n');
  const stop = typeof request.stop === 'string' ? [request.stop] : request.stop;
  if (stop?.length) params.stop_sequences = stop;
  if (options.sampling) {
    if (request.temperature != null) params.temperature = Math.min(request.temperature, MAX_TEMPERATURE);
    if (request.top_p != null) params.top_p = request.top_p;
  }
  if (request.tools?.length) {
    params.tools = request.tools.map(toTool);
    const choice = toToolChoice(request);
    if (choice) params.tool_choice = choice;
  }
  if (typeof request.user === 'string' && request.user) params.metadata = { user_id: request.user };
  return params;
}

/** The refusal for a request with no text at all: names the one message when there is only one. */
function emptyRequest(request: ChatRequest, providerId: string): RefusedRequestError {
  const param = request.messages.length === 1 ? 'messages[0].content' : 'messages';
  return new RefusedRequestError(
    providerId,
    param,
    'Anthropic needs at least one message with non-empty content; every message here is empty',
  );
}

/** Whether the answer must be JSON (so the response side strips a markdown fence). */
export function wantsJson(request: ChatRequest): boolean {
  const type = request.response_format?.type;
  return type === 'json_object' || type === 'json_schema';
}

/**
 * JSON mode as a system instruction: it works on every Claude model, where native structured
 * outputs (`output_config.format`) are model-dependent. The response side strips a ```json fence.
 */
function jsonInstruction(request: ChatRequest): string | null {
  const format = request.response_format;
  if (format?.type === 'json_object') {
    return 'Respond with a single valid JSON object and nothing else: no prose, no markdown code fences.';
  }
  if (format?.type === 'json_schema') {
    const { name, description, schema } = format.json_schema;
    return [
      `Respond with a single valid JSON value and nothing else: no prose, no markdown code fences.`,
      `It must conform to this JSON Schema (named "${name}")${description ? `, described as: ${description}` : ''}:`,
      JSON.stringify(schema ?? { type: 'object' }),
    ].join('\n');
  }
  return null;
}

/** A lone text block is sent as a plain string, the shape Anthropic's own examples use. */
function toMessageParam(turn: Turn): MessageParam {
  const [only] = turn.content;
  if (turn.content.length === 1 && only?.type === 'text') return { role: turn.role, content: only.text };
  return { role: turn.role, content: turn.content };
}

function joinText(content: string | { text: string }[]): string {
  return typeof content === 'string' ? content : content.map((p) => p.text).join('\n');
}

/** Anthropic rejects empty text blocks, so they are left out. */
function textBlock(text: string): TextBlockParam[] {
  return text === '' ? [] : [{ type: 'text', text }];
}

function userBlocks(content: string | UserContentPart[], providerId: string): ContentBlockParam[] {
  if (typeof content === 'string') return textBlock(content);
  return content.flatMap((part): ContentBlockParam[] => {
    switch (part.type) {
      case 'text':
        return textBlock(part.text);
      case 'image_url':
        return [imageBlock(part.image_url.url)];
      case 'file':
        return [fileBlock(part.file, providerId)];
      default:
        throw unsupported(providerId, 'audio input');
    }
  });
}

const DATA_URL = /^data:([^;,]*)((?:;[^;,]*)*?)(;base64)?,(.*)$/s;

function parseDataUrl(url: string): { mediaType: string; data: string } | null {
  const m = DATA_URL.exec(url);
  if (!m) return null;
  const [, mediaType = '', , base64, payload = ''] = m;
  const data = base64 ? payload : Buffer.from(decodeURIComponent(payload), 'utf8').toString('base64');
  return { mediaType: mediaType.toLowerCase(), data };
}

/** Data URLs become base64 sources; anything else is a URL Anthropic fetches itself. */
function imageBlock(url: string): ImageBlockParam {
  const parsed = parseDataUrl(url);
  if (!parsed) return { type: 'image', source: { type: 'url', url } };
  // Anthropic accepts jpeg/png/gif/webp; other types are passed on for the API to refuse clearly.
  const media_type = parsed.mediaType as 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp';
  return { type: 'image', source: { type: 'base64', media_type, data: parsed.data } };
}

/** PDFs (and plain text) sent as data in an OpenAI `file` part become Anthropic documents. */
function fileBlock(file: { file_data?: string; filename?: string }, providerId: string): ContentBlockParam {
  const parsed = file.file_data ? parseDataUrl(file.file_data) : null;
  const title = file.filename ? { title: file.filename } : {};
  if (parsed?.mediaType === 'application/pdf') {
    return {
      type: 'document',
      source: { type: 'base64', media_type: 'application/pdf', data: parsed.data },
      ...title,
    };
  }
  if (parsed?.mediaType === 'text/plain') {
    const data = Buffer.from(parsed.data, 'base64').toString('utf8');
    return { type: 'document', source: { type: 'text', media_type: 'text/plain', data }, ...title };
  }
  throw unsupported(
    providerId,
    'files other than inline PDF or plain text (OpenAI file ids are not portable)',
  );
}

/** Content Anthropic cannot take: refused before any call, as the provider itself would with a 400. */
function unsupported(providerId: string, what: string): UpstreamError {
  return new UpstreamError(providerId, 400, `${providerId} (anthropic) does not accept ${what}`, {
    code: 'unsupported_content',
  });
}

function assistantBlocks(message: Extract<ChatMessage, { role: 'assistant' }>): ContentBlockParam[] {
  const blocks: ContentBlockParam[] = [];
  const { content } = message;
  if (typeof content === 'string') blocks.push(...textBlock(content));
  else if (content) {
    for (const part of content) blocks.push(...textBlock(part.type === 'text' ? part.text : part.refusal));
  }
  for (const call of message.tool_calls ?? []) {
    blocks.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: parseArguments(call.function.arguments),
    });
  }
  return blocks;
}

/**
 * Anthropic wants the tool input as an object. A model's earlier malformed arguments are replayed as
 * `{}`: the conversation still goes through, and the following tool_result tells the model what happened.
 */
function parseArguments(args: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(args);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

function toTool(tool: NonNullable<ChatRequest['tools']>[number]): Tool {
  const { name, description, parameters } = tool.function;
  // Anthropic requires an object schema; OpenAI allows omitting it for argument-less functions.
  const input_schema = { type: 'object' as const, properties: {}, ...parameters };
  return { name, input_schema, ...(description ? { description } : {}) };
}

function toToolChoice(request: ChatRequest): ToolChoice | null {
  const choice = request.tool_choice;
  const noParallel = request.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
  if (choice === 'none') return { type: 'none' };
  if (choice === 'required') return { type: 'any', ...noParallel };
  if (typeof choice === 'object') return { type: 'tool', name: choice.function.name, ...noParallel };
  if (choice === 'auto' || request.parallel_tool_calls === false) return { type: 'auto', ...noParallel };
  return null;
}
