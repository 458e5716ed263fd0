/**
 * A Messages request for a model that is not Anthropic's (an OpenAI-compatible, Gemini or demo model,
 * `auto[:policy]`, an ensemble preset) → the gateway's chat request, so routing, fallback, ensembles,
 * the cache, budgets and the ledger apply unchanged. What the chat shape cannot carry — thinking,
 * server tools, documents by URL or file id, citations, `top_k` — is refused with a 400 naming the field
 * and the feature, never dropped. `cache_control` markers are removed: the other providers cache
 * prompt prefixes on their own, without markers.
 */
import type { ChatMessage, ChatRequest, ChatTool, ToolCall, UserContentPart } from '../chat/index.ts';
import { GatewayError } from '../errors/index.ts';
import type { ContentBlock, MessagesMessage, MessagesRequest } from './schema.ts';

/** Fields the translation reads (or deliberately leaves out: `cache_control`). */
const TRANSLATED = new Set([
  'model',
  'max_tokens',
  'messages',
  'system',
  'stream',
  'stop_sequences',
  'temperature',
  'top_p',
  'top_k',
  'metadata',
  'tools',
  'tool_choice',
  'thinking',
  'output_config',
  'cache_control',
  'quorum',
]);

/** Tool fields that carry over to a function tool (or, `cache_control` and the streaming hint, need not). */
const TOOL_FIELDS = new Set([
  'name',
  'description',
  'input_schema',
  'strict',
  'type',
  'cache_control',
  'eager_input_streaming',
]);

/** The most stop sequences the chat shape takes. */
const MAX_STOP = 4;

/**
 * Refusals name the request field and say where the model was going: `target` reads like
 * "`gpt-4o` (an openai model)".
 */
class Refusals {
  readonly target: string;
  constructor(target: string) {
    this.target = target;
  }

  refuse(param: string, feature: string, hint?: string): GatewayError {
    return new GatewayError(
      'invalid_body',
      `${param}: ${feature} cannot be sent to ${this.target}: only Anthropic models take it on /v1/messages${hint ? `; ${hint}` : ''}.`,
      { param },
    );
  }
}

function textOf(content: string | readonly { text: string }[]): string {
  return typeof content === 'string' ? content : content.map((b) => b.text).join('');
}

/** A client-sent name for a message: its text, shortened, or `?` for anything but a string. */
const nameOf = (value: unknown): string => (typeof value === 'string' ? value.slice(0, 40) : '?');

function sourceOf(block: ContentBlock): Record<string, unknown> {
  const s = block.source;
  return typeof s === 'object' && s !== null ? (s as Record<string, unknown>) : {};
}

function imagePart(block: ContentBlock, param: string, r: Refusals): UserContentPart {
  const s = sourceOf(block);
  if (s.type === 'base64' && typeof s.data === 'string' && typeof s.media_type === 'string') {
    return { type: 'image_url', image_url: { url: `data:${s.media_type};base64,${s.data}` } };
  }
  if (s.type === 'url' && typeof s.url === 'string') return { type: 'image_url', image_url: { url: s.url } };
  throw r.refuse(`${param}.source`, `an image of source type \`${nameOf(s.type)}\` (Anthropic's Files API)`);
}

/** A document's text, with its title and context, as the model would be shown them. */
function documentText(block: ContentBlock, text: string): string {
  const heading = [block.title, block.context].filter((v) => typeof v === 'string' && v).join('\n');
  return heading ? `${heading}\n\n${text}` : text;
}

function documentParts(block: ContentBlock, param: string, r: Refusals): UserContentPart[] {
  const citations = block.citations as { enabled?: unknown } | null | undefined;
  if (citations?.enabled) throw r.refuse(`${param}.citations`, 'citations');
  const s = sourceOf(block);
  if (s.type === 'text' && typeof s.data === 'string') {
    return [{ type: 'text', text: documentText(block, s.data) }];
  }
  if (s.type === 'base64' && typeof s.data === 'string') {
    const mediaType = typeof s.media_type === 'string' ? s.media_type : 'application/pdf';
    const filename = typeof block.title === 'string' && block.title ? block.title : 'document.pdf';
    return [{ type: 'file', file: { file_data: `data:${mediaType};base64,${s.data}`, filename } }];
  }
  if (s.type === 'content') {
    const content = s.content;
    if (typeof content === 'string') return [{ type: 'text', text: documentText(block, content) }];
    if (Array.isArray(content)) {
      return content.map((item: unknown, i): UserContentPart => {
        const at = `${param}.source.content[${i}]`;
        const inner = nestedBlock(item, at);
        if (inner.type === 'image') return imagePart(inner, at, r);
        if (inner.type === 'text') return { type: 'text', text: innerText(inner, at) };
        throw r.refuse(at, `a \`${inner.type}\` block inside a document`);
      });
    }
    throw new GatewayError('invalid_body', `${param}.source.content: a string or a list of content blocks.`, {
      param: `${param}.source.content`,
    });
  }
  throw r.refuse(
    `${param}.source`,
    `a document of source type \`${nameOf(s.type)}\` (by URL or file id)`,
    'send its content inline (base64 PDF or plain text)',
  );
}

/**
 * A nested block's text (inside a document's content or a tool_result), which the schema checks only
 * for a `type`: a text block must carry its text.
 */
function innerText(inner: ContentBlock, param: string): string {
  if (typeof inner.text === 'string') return inner.text;
  throw new GatewayError('invalid_body', `${param}.text: a text block needs its text, a string.`, {
    param: `${param}.text`,
  });
}

/** A nested item that must be a content block: an object with a string `type`. */
function nestedBlock(item: unknown, param: string): ContentBlock {
  if (typeof item === 'object' && item !== null && typeof (item as ContentBlock).type === 'string') {
    return item as ContentBlock;
  }
  throw new GatewayError('invalid_body', `${param}: a content block is an object with a string \`type\`.`, {
    param,
  });
}

/** What a tool_result says, as a tool message's text. */
function toolResultText(block: ContentBlock, param: string, r: Refusals): string {
  const content = block.content;
  let text = '';
  if (typeof content === 'string') text = content;
  else if (Array.isArray(content)) {
    text = (content as ContentBlock[])
      .map((inner, i) => {
        if (inner.type === 'text') return innerText(inner, `${param}.content[${i}]`);
        throw r.refuse(`${param}.content[${i}]`, `a \`${inner.type}\` block inside a tool_result`);
      })
      .join('');
  }
  return block.is_error === true ? `Error: ${text}` : text;
}

/** Blocks only Anthropic models read: thinking, server tools and their results, search results. */
function anthropicOnly(block: ContentBlock, param: string, r: Refusals): GatewayError {
  if (block.type === 'thinking' || block.type === 'redacted_thinking') {
    return r.refuse(
      param,
      `a \`${block.type}\` block (extended thinking)`,
      'send it to an Anthropic model, or leave the thinking blocks out',
    );
  }
  return r.refuse(param, `a \`${block.type}\` block`);
}

/** A user turn: its tool results first (the chat shape puts them in tool messages), then the rest. */
function userMessages(content: string | ContentBlock[], param: string, r: Refusals): ChatMessage[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  const tools: ChatMessage[] = [];
  const parts: UserContentPart[] = [];
  content.forEach((block, i) => {
    const at = `${param}[${i}]`;
    switch (block.type) {
      case 'text':
        parts.push({ type: 'text', text: String(block.text) });
        break;
      case 'image':
        parts.push(imagePart(block, at, r));
        break;
      case 'document':
        parts.push(...documentParts(block, at, r));
        break;
      case 'tool_result':
        tools.push({
          role: 'tool',
          tool_call_id: String(block.tool_use_id),
          content: toolResultText(block, at, r),
        });
        break;
      default:
        throw anthropicOnly(block, at, r);
    }
  });
  return parts.length ? [...tools, { role: 'user', content: parts }] : tools;
}

function assistantMessage(content: string | ContentBlock[], param: string, r: Refusals): ChatMessage {
  if (typeof content === 'string') return { role: 'assistant', content };
  const texts: string[] = [];
  const calls: ToolCall[] = [];
  content.forEach((block, i) => {
    if (block.type === 'text') texts.push(String(block.text));
    else if (block.type === 'tool_use') {
      calls.push({
        id: String(block.id),
        type: 'function',
        function: { name: String(block.name), arguments: JSON.stringify(block.input ?? {}) },
      });
    } else throw anthropicOnly(block, `${param}[${i}]`, r);
  });
  // One text block is plain content; several stay separate parts, as they were written.
  const text = texts.length > 1 ? texts.map((t) => ({ type: 'text' as const, text: t })) : (texts[0] ?? null);
  return {
    role: 'assistant',
    content: calls.length && text === '' ? null : text,
    ...(calls.length ? { tool_calls: calls } : {}),
  };
}

function messagesOf(body: MessagesRequest, r: Refusals): ChatMessage[] {
  const out: ChatMessage[] = [];
  const system = body.system;
  // A system prompt of several blocks stays one system message of several parts.
  if (typeof system === 'string' && system) out.push({ role: 'system', content: system });
  else if (Array.isArray(system) && system.length) {
    out.push({ role: 'system', content: system.map((b) => ({ type: 'text' as const, text: b.text })) });
  }
  body.messages.forEach((m: MessagesMessage, i) => {
    const param = `messages[${i}].content`;
    const content = m.content as string | ContentBlock[];
    if (m.role === 'user') out.push(...userMessages(content, param, r));
    else if (m.role === 'assistant') out.push(assistantMessage(content, param, r));
    else
      out.push({
        role: 'system',
        content: typeof content === 'string' ? content : textOf(systemBlocks(content, param, r)),
      });
  });
  return out;
}

function systemBlocks(content: ContentBlock[], param: string, r: Refusals): { text: string }[] {
  return content.map((block, i) => {
    if (block.type !== 'text') throw anthropicOnly(block, `${param}[${i}]`, r);
    return { text: String(block.text) };
  });
}

function toolsOf(tools: NonNullable<MessagesRequest['tools']>, r: Refusals): ChatTool[] {
  return tools.map((tool, i) => {
    const param = `tools[${i}]`;
    if (tool.type && tool.type !== 'custom') {
      throw r.refuse(`${param}.type`, `the server tool \`${tool.type}\``);
    }
    for (const field of Object.keys(tool)) {
      if (!TOOL_FIELDS.has(field)) throw r.refuse(`${param}.${field}`, `the tool option \`${field}\``);
    }
    const parameters = tool.input_schema as Record<string, unknown> | undefined;
    return {
      type: 'function',
      function: {
        name: tool.name,
        ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
        ...(parameters ? { parameters } : {}),
        ...(typeof tool.strict === 'boolean' ? { strict: tool.strict } : {}),
      },
    };
  });
}

function toolChoiceOf(choice: NonNullable<MessagesRequest['tool_choice']>): Partial<ChatRequest> {
  const noParallel = choice.disable_parallel_tool_use === true ? { parallel_tool_calls: false } : {};
  switch (choice.type) {
    case 'none':
      return { tool_choice: 'none' };
    case 'any':
      return { tool_choice: 'required', ...noParallel };
    case 'tool':
      return {
        tool_choice: { type: 'function', function: { name: String(choice.name ?? '') } },
        ...noParallel,
      };
    default:
      return { tool_choice: 'auto', ...noParallel };
  }
}

/** `output_config`: a JSON schema for the answer carries over; an effort level does not. */
function outputConfigOf(config: unknown, r: Refusals): Partial<ChatRequest> {
  if (config == null) return {};
  const { format, effort, ...rest } = config as { format?: unknown; effort?: unknown };
  if (effort != null) throw r.refuse('output_config.effort', 'an effort level');
  const other = Object.keys(rest)[0];
  if (other) throw r.refuse(`output_config.${other}`, `\`output_config.${other}\``);
  if (format == null) return {};
  const f = format as { type?: unknown; schema?: unknown };
  if (f.type !== 'json_schema' || typeof f.schema !== 'object' || f.schema === null) {
    throw r.refuse('output_config.format', 'this output format');
  }
  return {
    response_format: {
      type: 'json_schema',
      json_schema: { name: 'output', schema: f.schema as Record<string, unknown>, strict: true },
    },
  };
}

/**
 * The chat request for a Messages body. `target` names where it goes, for refusals: e.g.
 * "`gpt-4o` (an openai model)".
 */
export function toChatRequest(body: MessagesRequest, target: string): ChatRequest {
  const r = new Refusals(target);
  for (const field of Object.keys(body)) {
    if (!TRANSLATED.has(field)) throw r.refuse(field, `\`${field}\``);
  }
  if (body.thinking && body.thinking.type !== 'disabled') {
    throw r.refuse('thinking', 'extended thinking', 'leave `thinking` out or send it to an Anthropic model');
  }
  if (body.top_k != null) throw r.refuse('top_k', '`top_k`');
  if (body.max_tokens === 0) throw r.refuse('max_tokens', '`max_tokens: 0` (prompt cache pre-warming)');
  const stop = body.stop_sequences ?? [];
  if (stop.length > MAX_STOP) {
    throw r.refuse('stop_sequences', `more than ${MAX_STOP} stop sequences`);
  }
  const request: ChatRequest = {
    model: body.model,
    messages: messagesOf(body, r),
    max_tokens: body.max_tokens,
    ...(stop.length ? { stop } : {}),
    ...(body.temperature != null ? { temperature: body.temperature } : {}),
    ...(body.top_p != null ? { top_p: body.top_p } : {}),
    ...(body.metadata?.user_id ? { user: body.metadata.user_id } : {}),
    ...(body.tools?.length ? { tools: toolsOf(body.tools, r) } : {}),
    ...(body.tool_choice ? toolChoiceOf(body.tool_choice) : {}),
    ...outputConfigOf(body.output_config, r),
    ...(body.quorum ? { quorum: body.quorum } : {}),
  };
  // The usage the Messages stream ends with comes from the chat stream's usage chunk.
  if (body.stream) {
    request.stream = true;
    request.stream_options = { include_usage: true };
  }
  return request;
}
