/**
 * The user's request as plain text, for prompts that quote it (judge, reviewer, aggregator). A single
 * user message is quoted as is; a conversation is rendered turn by turn with roles. Images and other
 * non-text parts are noted, not inlined.
 */
import type { CompletionRequest, Message } from './types.ts';

export function messageText(content: Message['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (typeof part.text === 'string' ? part.text : `[${part.type}]`)).join('\n');
}

export function requestText(request: CompletionRequest): string {
  const turns = request.messages.filter((m) => m.role !== 'tool' || messageText(m.content));
  if (turns.length === 1 && turns[0]!.role === 'user') return messageText(turns[0]!.content);
  return turns.map((m) => `[${m.role}]\n${messageText(m.content)}`).join('\n\n');
}

/** The last user message's text: what is being asked now. */
export function lastUserText(request: CompletionRequest): string {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const m = request.messages[i]!;
    if (m.role === 'user') return messageText(m.content);
  }
  return '';
}
