/**
 * What a budget hold on a Responses request passed through raw is priced on: its prompt's typical size
 * and upper bound by the gateway's own counter — instructions, the conversation's items and the
 * request's own, tool definitions and a JSON schema — and `max_output_tokens`. Items of kinds the
 * counter does not know (reasoning, built-in tool calls) are counted whole, as the JSON they are.
 */
import type { CostBounds } from '../../../routing/route-types.ts';
import { estimatePromptRange } from '../../../routing/tokens.ts';
import { itemType } from './items.ts';

type Json = Record<string, any>;

interface MessageLike {
  role: string;
  content?: unknown;
  tool_calls?: { function: { name: string; arguments: string } }[];
}

/** A content part as the counter reads parts (chat-shaped), or as itself (counted whole). */
function partOf(part: unknown): unknown {
  if (typeof part !== 'object' || part === null) return part;
  const p = part as Json;
  switch (p.type) {
    case 'input_text':
    case 'output_text':
      return { type: 'text', text: p.text };
    case 'input_image':
      return typeof p.image_url === 'string' ? { type: 'image_url', image_url: { url: p.image_url } } : p;
    case 'input_file':
      return typeof p.file_data === 'string' ? { type: 'file', file: { file_data: p.file_data } } : p;
    default:
      return p;
  }
}

const contentOf = (content: unknown) => (Array.isArray(content) ? content.map(partOf) : content);

/**
 * A field the client should have sent as a string, as text to count: the body is the client's, so an
 * object there (even one with its own `toString` member, which `String()` would call and fail on) is
 * counted as the JSON it is.
 */
const textOf = (value: unknown): string =>
  typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value);

function messageOf(item: unknown): MessageLike {
  if (typeof item !== 'object' || item === null) return { role: 'user', content: [item] };
  const i = item as Json;
  switch (itemType(i)) {
    case 'message':
      return { role: typeof i.role === 'string' ? i.role : 'user', content: contentOf(i.content) };
    case 'function_call':
      return {
        role: 'assistant',
        tool_calls: [{ function: { name: textOf(i.name), arguments: textOf(i.arguments) } }],
      };
    case 'function_call_output':
      return { role: 'tool', content: contentOf(i.output) };
    default:
      return { role: 'user', content: [i] };
  }
}

export interface PromptParts {
  instructions?: string | null | undefined;
  /** The conversation's items, then the request's own. */
  items: readonly unknown[];
  tools?: readonly unknown[] | undefined;
  /** `text.format`, when it is a JSON schema. */
  format?: unknown;
  max_output_tokens?: number | null | undefined;
}

export function passBounds(parts: PromptParts): CostBounds {
  const messages: MessageLike[] = [
    ...(parts.instructions ? [{ role: 'system', content: parts.instructions }] : []),
    ...parts.items.map(messageOf),
  ];
  const format = parts.format as { type?: unknown } | undefined;
  const range = estimatePromptRange(messages, {
    tools: parts.tools,
    ...(format?.type === 'json_schema'
      ? { response_format: { type: 'json_schema', json_schema: format } }
      : {}),
  });
  return {
    promptTokens: range.likely,
    promptTokensMax: range.most,
    maxOutputTokens: parts.max_output_tokens ?? null,
  };
}
