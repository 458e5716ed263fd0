/**
 * Token estimates for a Messages body, by the gateway's own counter (routing/tokens.ts): the prompt's
 * typical size (what POST /v1/messages/count_tokens answers for models Quorum cannot ask) and its
 * upper bound (what a budget hold is priced on). Each block is counted as the content it carries:
 * images and documents by size, tool calls and results by their text, thinking by its text.
 */
import type { CostBounds } from '../../routing/route-types.ts';
import { estimatePromptRange, type TokenRange } from '../../routing/tokens.ts';
import type { ContentBlock, CountTokensRequest } from './schema.ts';

/** Enough of an image's base64 for the estimator to read its size from the header. */
const IMAGE_HEAD = 87_384;

/** A field's text, or '' when it holds anything else: these bodies are the client's, unchecked here. */
const str = (value: unknown): string => (typeof value === 'string' ? value : '');

function source(block: ContentBlock): Record<string, unknown> {
  const s = block.source;
  return typeof s === 'object' && s !== null ? (s as Record<string, unknown>) : {};
}

/** A block as the parts the estimator counts (OpenAI-shaped: text, image_url, file). */
function partsOf(block: ContentBlock): unknown[] {
  // Nested content (a document's) is the client's, unchecked: anything but a block counts as its JSON.
  if (typeof block !== 'object' || block === null) return [block];
  switch (block.type) {
    case 'text':
      return [{ type: 'text', text: block.text }];
    case 'thinking':
      return [{ type: 'text', text: block.thinking }];
    case 'redacted_thinking':
      return [{ type: 'text', text: block.data }];
    case 'image': {
      const s = source(block);
      if (s.type === 'base64' && typeof s.data === 'string') {
        const url = `data:${str(s.media_type)};base64,${s.data.slice(0, IMAGE_HEAD)}`;
        return [{ type: 'image_url', image_url: { url } }];
      }
      return [{ type: 'image_url', image_url: { url: str(s.url) } }];
    }
    case 'document': {
      const s = source(block);
      if (s.type === 'text') return [{ type: 'text', text: s.data }];
      if (s.type === 'content') {
        if (typeof s.content === 'string') return [{ type: 'text', text: s.content }];
        return Array.isArray(s.content) ? (s.content as ContentBlock[]).flatMap(partsOf) : [block];
      }
      if (s.type === 'base64') return [{ type: 'file', file: { file_data: s.data } }];
      return [{ type: 'file', file: { file_id: str(s.file_id) || str(s.url) } }];
    }
    case 'tool_use':
      return [
        { type: 'text', text: block.name },
        { type: 'text', text: JSON.stringify(block.input ?? {}) },
      ];
    case 'tool_result': {
      const content = block.content;
      if (typeof content === 'string') return [{ type: 'text', text: content }];
      return Array.isArray(content) ? (content as ContentBlock[]).flatMap(partsOf) : [];
    }
    default:
      // A block this version does not read still reaches the model: all of it is counted.
      return [block];
  }
}

/** The prompt's typical size and upper bound: system, messages and tool definitions. */
export function promptRange(body: Pick<CountTokensRequest, 'system' | 'messages' | 'tools'>): TokenRange {
  const messages: { role: string; content: unknown }[] = [];
  const system = body.system;
  if (typeof system === 'string') messages.push({ role: 'system', content: system });
  else if (system?.length) messages.push({ role: 'system', content: system.flatMap(partsOf) });
  for (const m of body.messages) {
    const content =
      typeof m.content === 'string' ? m.content : (m.content as ContentBlock[]).flatMap(partsOf);
    messages.push({ role: m.role, content });
  }
  return estimatePromptRange(messages, { tools: body.tools ?? undefined });
}

/** What a budget hold and tpm estimate are priced on: the prompt's bounds and `max_tokens`. */
export function costBoundsOf(
  body: Pick<CountTokensRequest, 'system' | 'messages' | 'tools'> & { max_tokens: number },
): CostBounds {
  const range = promptRange(body);
  return { promptTokens: range.likely, promptTokensMax: range.most, maxOutputTokens: body.max_tokens };
}
